#include "sta/query/value.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "sta/query/geometry.h"
#include "sta/query/time_values.h"

namespace bysans::sta {
namespace {

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// A time, or a string holding an ISO 8601 time.
std::optional<int64_t> AsTime(const Value& v) {
  if (const auto* t = v.get<TimeValue>()) return t->ms;
  if (const auto* s = v.get<std::string>()) {
    if (auto t = ParseIsoTime(*s)) return t->ms;
  }
  return std::nullopt;
}

}  // namespace

double Value::AsDouble() const {
  if (const auto* i = get<int64_t>()) return static_cast<double>(*i);
  if (const auto* d = get<double>()) return *d;
  return 0;
}

Value ValueFromJson(const nlohmann::json& json) {
  switch (json.type()) {
    case nlohmann::json::value_t::boolean:
      return Value(json.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(json.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      auto u = json.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<int64_t>(u));
      return Value(static_cast<double>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value(json.get<double>());
    case nlohmann::json::value_t::string:
      return Value(json.get<std::string>());
    case nlohmann::json::value_t::object:
      if (auto g = GeometryFromGeoJson(json)) return Value(std::move(*g));
      return {};
    default:
      return {};
  }
}

int CompareValues(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return kIncomparable;
  if (a.is_number() && b.is_number()) {
    const auto *ia = a.get<int64_t>(), *ib = b.get<int64_t>();
    if (ia && ib) return Cmp(*ia, *ib);
    double x = a.AsDouble(), y = b.AsDouble();
    if (std::isnan(x) || std::isnan(y)) return kIncomparable;
    return Cmp(x, y);
  }
  if (a.get<TimeValue>() || b.get<TimeValue>()) {
    auto ta = AsTime(a), tb = AsTime(b);
    if (!ta || !tb) return kIncomparable;
    return Cmp(*ta, *tb);
  }
  if (a.v.index() != b.v.index()) return kIncomparable;
  if (const auto* s = a.get<std::string>()) return Cmp(*s, *b.get<std::string>());
  if (const auto* x = a.get<bool>()) return Cmp(*x, *b.get<bool>());
  if (const auto* d = a.get<DurationValue>()) return Cmp(d->ms, b.get<DurationValue>()->ms);
  if (const auto* g = a.get<Geometry>()) return *g == *b.get<Geometry>() ? 0 : kIncomparable;
  return kIncomparable;
}

int OrderValues(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return Cmp(!a.is_null(), !b.is_null());
  int c = CompareValues(a, b);
  if (c != kIncomparable) return c;
  // numbers before strings before times ...: by the variant's order
  size_t ka = a.is_number() ? 2 : a.v.index(), kb = b.is_number() ? 2 : b.v.index();
  return Cmp(ka, kb);
}

}  // namespace bysans::sta
