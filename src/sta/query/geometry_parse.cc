// WKT and GeoJSON into Geometry.
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "sta/query/geometry.h"
#include "sta/query/text.h"

namespace bysans::sta {
namespace {

constexpr size_t kMaxCoords = 100'000;

using Kind = GeometryPart::Kind;

class WktReader {
 public:
  explicit WktReader(std::string_view s) : s_(s) {}

  Result<Geometry> Read() {
    SkipSpace();
    if (s_.size() - at_ >= 5 && Upper(s_.substr(at_, 5)) == "SRID=") {
      size_t semi = s_.find(';', at_);
      if (semi == std::string_view::npos) return ErrorAt("expected ';' after SRID", at_);
      at_ = semi + 1;
    }
    std::string word = Word();
    Geometry g;
    if (word == "POINT") {
      BYSANS_RETURN_IF_ERROR(Part(Kind::kPoint, &g));
    } else if (word == "LINESTRING") {
      BYSANS_RETURN_IF_ERROR(Part(Kind::kLineString, &g));
    } else if (word == "POLYGON") {
      BYSANS_RETURN_IF_ERROR(Part(Kind::kPolygon, &g));
    } else if (word == "MULTIPOINT" || word == "MULTILINESTRING" || word == "MULTIPOLYGON") {
      Kind kind = word == "MULTIPOINT"        ? Kind::kPoint
                  : word == "MULTILINESTRING" ? Kind::kLineString
                                              : Kind::kPolygon;
      BYSANS_RETURN_IF_ERROR(Expect('('));
      do {
        // MULTIPOINT(1 2, 3 4) has no inner parentheses
        if (kind == Kind::kPoint && Peek() != '(') {
          GeometryPart p{Kind::kPoint, {{}}};
          BYSANS_RETURN_IF_ERROR(Coordinate(&p.rings[0]));
          g.parts.push_back(std::move(p));
        } else {
          BYSANS_RETURN_IF_ERROR(Part(kind, &g));
        }
      } while (Accept(','));
      BYSANS_RETURN_IF_ERROR(Expect(')'));
    } else {
      return ErrorAt("unknown geometry type '" + word + "'", word_at_);
    }
    SkipSpace();
    if (at_ != s_.size()) return ErrorAt("unexpected text after the geometry", at_);
    return g;
  }

 private:
  static std::string Upper(std::string_view s) {
    std::string out;
    for (char c : s) out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    return out;
  }
  void SkipSpace() {
    while (at_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[at_]))) ++at_;
  }
  char Peek() {
    SkipSpace();
    return at_ < s_.size() ? s_[at_] : '\0';
  }
  bool Accept(char c) {
    if (Peek() != c) return false;
    ++at_;
    return true;
  }
  Status Expect(char c) {
    if (Accept(c)) return Status::Ok();
    return ErrorAt(std::string("expected '") + c + "'", at_);
  }
  std::string Word() {
    SkipSpace();
    word_at_ = at_;
    size_t start = at_;
    while (at_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[at_]))) ++at_;
    std::string w = Upper(s_.substr(start, at_ - start));
    // "POINT Z (...)": the Z is ignored
    size_t save = at_;
    SkipSpace();
    if (at_ < s_.size() && (s_[at_] == 'Z' || s_[at_] == 'z') &&
        (at_ + 1 >= s_.size() || !std::isalpha(static_cast<unsigned char>(s_[at_ + 1])))) {
      ++at_;
    } else {
      at_ = save;
    }
    return w;
  }
  Result<double> Number() {
    SkipSpace();
    size_t start = at_;
    while (at_ < s_.size() &&
           (std::isdigit(static_cast<unsigned char>(s_[at_])) || s_[at_] == '.' || s_[at_] == '-' ||
            s_[at_] == '+' || s_[at_] == 'e' || s_[at_] == 'E')) {
      ++at_;
    }
    std::string num(s_.substr(start, at_ - start));
    char* end = nullptr;
    double d = num.empty() ? NAN : std::strtod(num.c_str(), &end);
    if (num.empty() || end != num.c_str() + num.size() || !std::isfinite(d)) {
      return ErrorAt("expected a number", start);
    }
    return d;
  }
  Status Coordinate(std::vector<Coord>* out) {
    if (++coords_ > kMaxCoords) return ErrorAt("too many coordinates", at_);
    Coord c;
    BYSANS_ASSIGN_OR_RETURN(c.x, Number());
    BYSANS_ASSIGN_OR_RETURN(c.y, Number());
    SkipSpace();
    if (at_ < s_.size() && s_[at_] != ',' && s_[at_] != ')') {
      BYSANS_ASSIGN_OR_RETURN(double z, Number());  // Z ignored
      (void)z;
    }
    out->push_back(c);
    return Status::Ok();
  }
  Status CoordList(std::vector<Coord>* out) {
    BYSANS_RETURN_IF_ERROR(Expect('('));
    do {
      BYSANS_RETURN_IF_ERROR(Coordinate(out));
    } while (Accept(','));
    return Expect(')');
  }
  Status Part(Kind kind, Geometry* g) {
    GeometryPart part{kind, {}};
    size_t start = at_;
    if (kind == Kind::kPolygon) {
      BYSANS_RETURN_IF_ERROR(Expect('('));
      do {
        part.rings.emplace_back();
        BYSANS_RETURN_IF_ERROR(CoordList(&part.rings.back()));
      } while (Accept(','));
      BYSANS_RETURN_IF_ERROR(Expect(')'));
    } else {
      part.rings.emplace_back();
      BYSANS_RETURN_IF_ERROR(CoordList(&part.rings.back()));
    }
    Status st = CheckPart(part);
    if (!st.ok()) return ErrorAt(st.message(), start);
    g->parts.push_back(std::move(part));
    return Status::Ok();
  }

 public:
  static Status CheckPart(const GeometryPart& part) {
    if (part.kind == Kind::kPoint && part.rings.at(0).size() != 1) {
      return InvalidArgument("a point has one coordinate");
    }
    if (part.kind == Kind::kLineString && part.rings.at(0).size() < 2) {
      return InvalidArgument("a line string needs 2 points");
    }
    if (part.kind == Kind::kPolygon) {
      for (const auto& ring : part.rings) {
        if (ring.size() < 4 || !(ring.front() == ring.back())) {
          return InvalidArgument("a polygon ring needs 4 points, the last equal to the first");
        }
      }
    }
    return Status::Ok();
  }

 private:
  std::string_view s_;
  size_t at_ = 0, word_at_ = 0, coords_ = 0;
};

bool JsonCoord(const nlohmann::json& j, std::vector<Coord>* out) {
  if (!j.is_array() || j.size() < 2 || !j[0].is_number() || !j[1].is_number()) return false;
  out->push_back({j[0].get<double>(), j[1].get<double>()});
  return true;
}

bool JsonCoords(const nlohmann::json& j, std::vector<Coord>* out) {
  if (!j.is_array()) return false;
  for (const auto& c : j) {
    if (!JsonCoord(c, out)) return false;
  }
  return true;
}

bool JsonPart(Kind kind, const nlohmann::json& c, Geometry* g) {
  GeometryPart part{kind, {}};
  if (kind == Kind::kPolygon) {
    if (!c.is_array()) return false;
    for (const auto& ring : c) {
      part.rings.emplace_back();
      if (!JsonCoords(ring, &part.rings.back())) return false;
    }
  } else {
    part.rings.emplace_back();
    if (!(kind == Kind::kPoint ? JsonCoord(c, &part.rings[0]) : JsonCoords(c, &part.rings[0]))) {
      return false;
    }
  }
  if (!WktReader::CheckPart(part).ok()) return false;
  g->parts.push_back(std::move(part));
  return true;
}

bool FromJson(const nlohmann::json& j, Geometry* g, int depth) {
  if (!j.is_object() || depth > 8) return false;
  auto type_it = j.find("type");
  if (type_it == j.end() || !type_it->is_string()) return false;
  const auto& type = type_it->get_ref<const std::string&>();
  if (type == "Feature") {
    auto geom = j.find("geometry");
    return geom != j.end() && FromJson(*geom, g, depth + 1);
  }
  if (type == "GeometryCollection") {
    auto geoms = j.find("geometries");
    if (geoms == j.end() || !geoms->is_array()) return false;
    for (const auto& sub : *geoms) {
      if (!FromJson(sub, g, depth + 1)) return false;
    }
    return true;
  }
  auto c = j.find("coordinates");
  if (c == j.end()) return false;
  if (type == "Point") return JsonPart(Kind::kPoint, *c, g);
  if (type == "LineString") return JsonPart(Kind::kLineString, *c, g);
  if (type == "Polygon") return JsonPart(Kind::kPolygon, *c, g);
  Kind kind = Kind::kPoint;
  if (type == "MultiLineString") {
    kind = Kind::kLineString;
  } else if (type == "MultiPolygon") {
    kind = Kind::kPolygon;
  } else if (type != "MultiPoint") {
    return false;
  }
  if (!c->is_array()) return false;
  for (const auto& sub : *c) {
    if (!JsonPart(kind, sub, g)) return false;
  }
  return true;
}

}  // namespace

Result<Geometry> ParseWkt(std::string_view wkt) { return WktReader(wkt).Read(); }

std::optional<Geometry> GeometryFromGeoJson(const nlohmann::json& json) {
  Geometry g;
  if (!FromJson(json, &g, 0) || g.parts.empty()) return std::nullopt;
  return g;
}

}  // namespace bysans::sta
