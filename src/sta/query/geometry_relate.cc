// DE-9IM, the named spatial predicates, distance and length (planar).
#include <algorithm>
#include <array>
#include <cmath>

#include "sta/query/geometry.h"

namespace bysans::sta {
namespace {

using Kind = GeometryPart::Kind;
constexpr double kEps = 1e-10;

enum Loc { kInterior = 0, kBoundary = 1, kExterior = 2 };

struct Segment {
  Coord a, b;
};

double Cross(Coord o, Coord a, Coord b) {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}
double Dist(Coord a, Coord b) { return std::hypot(a.x - b.x, a.y - b.y); }
bool Near(Coord a, Coord b) { return Dist(a, b) <= kEps; }

double PointSegmentDistance(Coord p, const Segment& s) {
  double dx = s.b.x - s.a.x, dy = s.b.y - s.a.y;
  double len2 = dx * dx + dy * dy;
  if (len2 == 0) return Dist(p, s.a);
  double t = std::clamp(((p.x - s.a.x) * dx + (p.y - s.a.y) * dy) / len2, 0.0, 1.0);
  return Dist(p, {s.a.x + t * dx, s.a.y + t * dy});
}

bool OnSegment(Coord p, const Segment& s) { return PointSegmentDistance(p, s) <= kEps; }

// Segments of a part: a ring's or a line's consecutive pairs; none for a point.
void SegmentsOf(const GeometryPart& part, std::vector<Segment>* out) {
  if (part.kind == Kind::kPoint) return;
  for (const auto& ring : part.rings) {
    for (size_t i = 1; i < ring.size(); ++i) out->push_back({ring[i - 1], ring[i]});
  }
}
std::vector<Segment> SegmentsOf(const Geometry& g) {
  std::vector<Segment> out;
  for (const auto& p : g.parts) SegmentsOf(p, &out);
  return out;
}

bool InRing(Coord p, const std::vector<Coord>& ring) {
  bool in = false;
  for (size_t i = 1; i < ring.size(); ++i) {
    Coord a = ring[i - 1], b = ring[i];
    if ((a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x) {
      in = !in;
    }
  }
  return in;
}

Loc LocatePart(Coord p, const GeometryPart& part) {
  switch (part.kind) {
    case Kind::kPoint:
      return Near(p, part.rings[0][0]) ? kInterior : kExterior;
    case Kind::kLineString: {
      const auto& line = part.rings[0];
      bool closed = Near(line.front(), line.back());
      if (!closed && (Near(p, line.front()) || Near(p, line.back()))) return kBoundary;
      for (size_t i = 1; i < line.size(); ++i) {
        if (OnSegment(p, {line[i - 1], line[i]})) return kInterior;
      }
      return kExterior;
    }
    case Kind::kPolygon: {
      for (const auto& ring : part.rings) {
        for (size_t i = 1; i < ring.size(); ++i) {
          if (OnSegment(p, {ring[i - 1], ring[i]})) return kBoundary;
        }
      }
      if (!InRing(p, part.rings[0])) return kExterior;
      for (size_t r = 1; r < part.rings.size(); ++r) {
        if (InRing(p, part.rings[r])) return kExterior;
      }
      return kInterior;
    }
  }
  return kExterior;
}

// A point is in the interior of a multi-geometry when it is in any part's
// interior, else on the boundary when on any part's boundary.
Loc Locate(Coord p, const Geometry& g) {
  Loc best = kExterior;
  for (const auto& part : g.parts) {
    Loc l = LocatePart(p, part);
    if (l == kInterior) return kInterior;
    if (l == kBoundary) best = kBoundary;
  }
  return best;
}

// Parameters t in (0, 1) where `s` meets the segments of `other`.
void SplitParams(const Segment& s, const std::vector<Segment>& other, std::vector<double>* ts) {
  double dx = s.b.x - s.a.x, dy = s.b.y - s.a.y;
  double len2 = dx * dx + dy * dy;
  if (len2 == 0) return;
  auto param = [&](Coord p) { return ((p.x - s.a.x) * dx + (p.y - s.a.y) * dy) / len2; };
  for (const Segment& o : other) {
    double d1 = Cross(s.a, s.b, o.a), d2 = Cross(s.a, s.b, o.b);
    double d3 = Cross(o.a, o.b, s.a), d4 = Cross(o.a, o.b, s.b);
    if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) {
      ts->push_back(d3 / (d3 - d4));  // proper crossing
      continue;
    }
    // touching or collinear: the other's end points that lie on s
    if (OnSegment(o.a, s)) ts->push_back(param(o.a));
    if (OnSegment(o.b, s)) ts->push_back(param(o.b));
  }
}

Coord At(const Segment& s, double t) {
  return {s.a.x + t * (s.b.x - s.a.x), s.a.y + t * (s.b.y - s.a.y)};
}

int Dimension(const Geometry& g) {
  int d = -1;
  for (const auto& p : g.parts) d = std::max(d, static_cast<int>(p.kind));
  return d;
}

class Matrix {
 public:
  Matrix() { cells_.fill(-1); }
  void Set(int a, int b, int dim) { cells_[a * 3 + b] = std::max(cells_[a * 3 + b], dim); }
  std::string String() const {
    std::string s;
    for (int c : cells_) s.push_back(c < 0 ? 'F' : static_cast<char>('0' + c));
    return s;
  }

 private:
  std::array<int, 9> cells_;
};

// Adds what `g`'s points, pieces and polygon sides contribute; `first` says
// whether g is the matrix's row geometry (a) or its column geometry (b).
void Contribute(const Geometry& g, const Geometry& other, const Geometry& a, const Geometry& b,
                Matrix* m) {
  auto locate_both = [&](Coord p, int dim) { m->Set(Locate(p, a), Locate(p, b), dim); };
  std::vector<Segment> other_segments = SegmentsOf(other);
  for (const auto& part : g.parts) {
    if (part.kind == Kind::kPoint) {
      locate_both(part.rings[0][0], 0);
      continue;
    }
    std::vector<Segment> segments;
    SegmentsOf(part, &segments);
    for (const Segment& s : segments) {
      std::vector<double> ts = {0.0, 1.0};
      SplitParams(s, other_segments, &ts);
      std::sort(ts.begin(), ts.end());
      for (double t : ts) locate_both(At(s, t), 0);
      double len = Dist(s.a, s.b);
      for (size_t i = 1; i < ts.size(); ++i) {
        double piece = (ts[i] - ts[i - 1]) * len;
        if (piece <= kEps) continue;
        Coord mid = At(s, (ts[i] + ts[i - 1]) / 2);
        locate_both(mid, 1);
        if (part.kind != Kind::kPolygon) continue;
        // just beside the edge on either side: open areas
        double off = std::min(piece * 0.01, 1e-6);
        double nx = -(s.b.y - s.a.y) / len * off, ny = (s.b.x - s.a.x) / len * off;
        for (Coord q : {Coord{mid.x + nx, mid.y + ny}, Coord{mid.x - nx, mid.y - ny}}) {
          Loc la = Locate(q, a), lb = Locate(q, b);
          if (la != kBoundary && lb != kBoundary) m->Set(la, lb, 2);
        }
      }
    }
  }
}

bool AllOfKind(const Geometry& g, Kind kind) {
  return std::all_of(g.parts.begin(), g.parts.end(),
                     [&](const GeometryPart& p) { return p.kind == kind; });
}

// The matrix of points `a` against a geometry `b` of one kind, without
// noding: O(points x b's size), for the common st_within(location, POLYGON).
std::string RelatePoints(const Geometry& a, const Geometry& b) {
  Matrix m;
  for (const auto& p : a.parts) m.Set(kInterior, Locate(p.rings[0][0], b), 0);
  auto covered = [&](Coord c) { return Locate(c, a) == kInterior; };
  switch (b.parts.at(0).kind) {
    case Kind::kPolygon:
      m.Set(kExterior, kInterior, 2);
      m.Set(kExterior, kBoundary, 1);
      break;
    case Kind::kLineString:
      m.Set(kExterior, kInterior, 1);
      for (const auto& part : b.parts) {
        for (Coord end : {part.rings[0].front(), part.rings[0].back()}) {
          if (Locate(end, b) == kBoundary && !covered(end)) m.Set(kExterior, kBoundary, 0);
        }
      }
      break;
    case Kind::kPoint:
      for (const auto& part : b.parts) {
        if (!covered(part.rings[0][0])) m.Set(kExterior, kInterior, 0);
      }
      break;
  }
  m.Set(kExterior, kExterior, 2);
  return m.String();
}

std::string Transpose(const std::string& m) {
  return {m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]};
}

struct BBox {
  double min_x = INFINITY, min_y = INFINITY, max_x = -INFINITY, max_y = -INFINITY;
};
BBox Box(const Geometry& g) {
  BBox b;
  for (const auto& part : g.parts) {
    for (const auto& ring : part.rings) {
      for (Coord c : ring) {
        b.min_x = std::min(b.min_x, c.x);
        b.min_y = std::min(b.min_y, c.y);
        b.max_x = std::max(b.max_x, c.x);
        b.max_y = std::max(b.max_y, c.y);
      }
    }
  }
  return b;
}
bool Apart(const BBox& a, const BBox& b) {
  return a.max_x + kEps < b.min_x || b.max_x + kEps < a.min_x || a.max_y + kEps < b.min_y ||
         b.max_y + kEps < a.min_y;
}

// The dimension of g's boundary: a polygon's rings 1, an open line's ends 0.
int BoundaryDimension(const Geometry& g) {
  int d = -1;
  for (const auto& p : g.parts) {
    if (p.kind == Kind::kPolygon) d = std::max(d, 1);
    if (p.kind == Kind::kLineString && !Near(p.rings[0].front(), p.rings[0].back())) {
      d = std::max(d, 0);
    }
  }
  return d;
}

// Two geometries that share no point: only exterior cells are set.
std::string DisjointMatrix(const Geometry& a, const Geometry& b) {
  Matrix m;
  m.Set(kInterior, kExterior, Dimension(a));
  m.Set(kBoundary, kExterior, BoundaryDimension(a));
  m.Set(kExterior, kInterior, Dimension(b));
  m.Set(kExterior, kBoundary, BoundaryDimension(b));
  m.Set(kExterior, kExterior, 2);
  return m.String();
}

}  // namespace

std::string Relate(const Geometry& a, const Geometry& b) {
  if (a.parts.empty() || b.parts.empty()) return "FFFFFFFF2";
  if (Apart(Box(a), Box(b))) return DisjointMatrix(a, b);
  double sa = static_cast<double>(SegmentsOf(a).size()),
         sb = static_cast<double>(SegmentsOf(b).size());
  if (AllOfKind(a, Kind::kPoint) && AllOfKind(b, b.parts[0].kind)) {
    if (static_cast<double>(a.parts.size()) * (sb + 1) > kMaxGeometryWork) return "";
    return RelatePoints(a, b);
  }
  if (AllOfKind(b, Kind::kPoint) && AllOfKind(a, a.parts[0].kind)) {
    if (static_cast<double>(b.parts.size()) * (sa + 1) > kMaxGeometryWork) return "";
    return Transpose(RelatePoints(b, a));
  }
  double n = sa + sb + static_cast<double>(a.parts.size() + b.parts.size());
  if (n * n > kMaxGeometryWork) return "";
  Matrix m;
  Contribute(a, b, a, b, &m);
  Contribute(b, a, a, b, &m);
  m.Set(kExterior, kExterior, 2);
  return m.String();
}

bool RelateMatches(std::string_view matrix, std::string_view pattern) {
  if (matrix.size() != 9 || pattern.size() != 9) return false;
  for (size_t i = 0; i < 9; ++i) {
    char p = static_cast<char>(std::toupper(static_cast<unsigned char>(pattern[i])));
    char v = matrix[i];
    if (p == '*') continue;
    if (p == 'T') {
      if (v == 'F') return false;
    } else if (p == 'F' || p == '0' || p == '1' || p == '2') {
      if (v != p) return false;
    } else {
      return false;
    }
  }
  return true;
}

std::optional<bool> SpatialTest(SpatialPredicate predicate, const Geometry& a, const Geometry& b) {
  if (a.parts.empty() || b.parts.empty()) return false;
  std::string m = Relate(a, b);
  if (m.empty()) return std::nullopt;
  int da = Dimension(a), db = Dimension(b);
  switch (predicate) {
    case SpatialPredicate::kEquals:
      return RelateMatches(m, "T*F**FFF*");
    case SpatialPredicate::kDisjoint:
      return RelateMatches(m, "FF*FF****");
    case SpatialPredicate::kIntersects:
      return !RelateMatches(m, "FF*FF****");
    case SpatialPredicate::kTouches:
      return !(da == 0 && db == 0) &&
             (RelateMatches(m, "FT*******") || RelateMatches(m, "F**T*****") ||
              RelateMatches(m, "F***T****"));
    case SpatialPredicate::kWithin:
      return RelateMatches(m, "T*F**F***");
    case SpatialPredicate::kContains:
      return RelateMatches(m, "T*****FF*");
    case SpatialPredicate::kOverlaps:
      if (da != db) return false;
      return da == 1 ? RelateMatches(m, "1*T***T**") : RelateMatches(m, "T*T***T**");
    case SpatialPredicate::kCrosses:
      if (da < db) return RelateMatches(m, "T*T******");
      if (da > db) return RelateMatches(m, "T*****T**");
      return da == 1 && RelateMatches(m, "0********");
  }
  return false;
}

double Distance(const Geometry& a, const Geometry& b) {
  if (a.parts.empty() || b.parts.empty()) return NAN;
  std::optional<bool> touching = SpatialTest(SpatialPredicate::kIntersects, a, b);
  if (!touching) return NAN;
  if (*touching) return 0;
  // Disjoint: the closest pair involves a vertex of one and a segment (or
  // point) of the other.
  auto pieces = [](const Geometry& g) {
    std::vector<Segment> out = SegmentsOf(g);
    for (const auto& p : g.parts) {
      if (p.kind == Kind::kPoint) out.push_back({p.rings[0][0], p.rings[0][0]});
    }
    return out;
  };
  std::vector<Segment> sa = pieces(a), sb = pieces(b);
  if (static_cast<double>(sa.size()) * static_cast<double>(sb.size()) > kMaxGeometryWork)
    return NAN;
  double best = INFINITY;
  for (const Segment& x : sa) {
    for (const Segment& y : sb) {
      best = std::min({best, PointSegmentDistance(x.a, y), PointSegmentDistance(x.b, y),
                       PointSegmentDistance(y.a, x), PointSegmentDistance(y.b, x)});
    }
  }
  return best;
}

std::optional<double> Length(const Geometry& g) {
  std::optional<double> total;
  for (const auto& part : g.parts) {
    if (part.kind != Kind::kLineString) continue;
    double sum = 0;
    const auto& line = part.rings[0];
    for (size_t i = 1; i < line.size(); ++i) sum += Dist(line[i - 1], line[i]);
    total = total.value_or(0) + sum;
  }
  return total;
}

}  // namespace bysans::sta
