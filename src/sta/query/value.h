// Values of the SensorThings query language: what a literal, a property or a
// function yields while a $filter is evaluated. Plain value types.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace bysans::sta {

// A point in planar lon/lat (x = longitude, y = latitude).
struct Coord {
  double x = 0, y = 0;
  bool operator==(const Coord&) const = default;
};

// One simple part of a geometry. A point has one coordinate, a line string
// two or more; a polygon's rings are closed (first == last), the first the
// outer ring, the others holes.
struct GeometryPart {
  enum class Kind { kPoint, kLineString, kPolygon };
  Kind kind = Kind::kPoint;
  std::vector<std::vector<Coord>> rings;  // point / line: exactly one "ring"
  bool operator==(const GeometryPart&) const = default;
};

// A Point, LineString, Polygon (one part) or a Multi* / GeometryCollection
// (several parts).
struct Geometry {
  std::vector<GeometryPart> parts;
  bool operator==(const Geometry&) const = default;
};

// An instant: ms since the epoch (UTC) and the offset it was written with.
struct TimeValue {
  int64_t ms = 0;
  int offset_minutes = 0;
};

// A duration (ISO 8601 "P1DT2H", or the time of day that time() yields).
struct DurationValue {
  int64_t ms = 0;
};

struct Value {
  // Geometries are shared: a literal polygon is evaluated once per entity
  // without being copied.
  using Variant = std::variant<std::monostate, bool, int64_t, double, std::string, TimeValue,
                               DurationValue, std::shared_ptr<const Geometry>>;
  Variant v;

  Value() = default;
  Value(bool b) : v(b) {}                       // NOLINT(google-explicit-constructor)
  Value(int64_t i) : v(i) {}                    // NOLINT(google-explicit-constructor)
  Value(int i) : v(static_cast<int64_t>(i)) {}  // NOLINT(google-explicit-constructor)
  Value(double d) : v(d) {}                     // NOLINT(google-explicit-constructor)
  Value(std::string s) : v(std::move(s)) {}     // NOLINT(google-explicit-constructor)
  Value(const char* s) : v(std::string(s)) {}   // NOLINT(google-explicit-constructor)
  Value(TimeValue t) : v(t) {}                  // NOLINT(google-explicit-constructor)
  Value(DurationValue d) : v(d) {}              // NOLINT(google-explicit-constructor)
  Value(Geometry g)
      : v(std::make_shared<const Geometry>(std::move(g))) {}  // NOLINT(google-explicit-constructor)
  static Value Time(int64_t ms) { return Value(TimeValue{ms, 0}); }

  bool is_null() const { return std::holds_alternative<std::monostate>(v); }
  bool is_number() const {
    return std::holds_alternative<int64_t>(v) || std::holds_alternative<double>(v);
  }
  // The value as a T, or null when it holds something else.
  template <typename T>
  const T* get() const {
    if constexpr (std::is_same_v<T, Geometry>) {
      const auto* g = std::get_if<std::shared_ptr<const Geometry>>(&v);
      return g ? g->get() : nullptr;
    } else {
      return std::get_if<T>(&v);
    }
  }
  // The number as a double (0 when not a number).
  double AsDouble() const;
};

// A JSON value as a query value: null, booleans, numbers and strings as
// such; a GeoJSON geometry object (or a Feature holding one) as a Geometry;
// any other object or array as null.
Value ValueFromJson(const nlohmann::json& json);

// Three-way comparison for eq/ne/lt/... and $orderby: numbers with numbers,
// strings with strings, times with times (a string that parses as an ISO
// 8601 time compares with a time), durations, booleans (false < true),
// geometries (equality only). -2 when the two are not comparable (mixed
// types, or null on either side).
inline constexpr int kIncomparable = -2;
int CompareValues(const Value& a, const Value& b);

// Total order for sorting: null first, then by CompareValues, then by type.
int OrderValues(const Value& a, const Value& b);

}  // namespace bysans::sta
