// Geometry for the $filter's geospatial functions: WKT literals and GeoJSON
// values in, the DE-9IM relation, distance and length out. Planar math on
// lon/lat coordinates (no geodesy): distances and lengths are in degrees.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "sta/query/value.h"

namespace bysans::sta {

// WKT: POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON,
// case-insensitive, an optional "SRID=4326;" prefix and Z ignored. A line
// needs 2 points, a polygon ring 4 and closed. kInvalidArgument naming the
// byte position of the problem.
Result<Geometry> ParseWkt(std::string_view wkt);

// A GeoJSON geometry (Point ... MultiPolygon, GeometryCollection) or a
// Feature holding one; nullopt for anything else.
std::optional<Geometry> GeometryFromGeoJson(const nlohmann::json& json);

// The DE-9IM intersection matrix of a and b, row by row (II IB IE BI BB BE
// EI EB EE), each of 'F', '0', '1', '2'. Computed by noding both
// geometries' segments against each other and locating every node, every
// piece's midpoint and points just beside polygon edges (tolerance 1e-10).
// Geometries whose bounding boxes are apart, or where one is only points,
// take a shortcut. Empty when the work would exceed kMaxGeometryWork (so a
// huge stored geometry cannot make one filter evaluation take seconds).
inline constexpr double kMaxGeometryWork = 25e6;  // ~ (segments of a + b)^2
std::string Relate(const Geometry& a, const Geometry& b);
// True when `matrix` satisfies a DE-9IM `pattern` of 9 characters from
// T F * 0 1 2 (false for a malformed pattern).
bool RelateMatches(std::string_view matrix, std::string_view pattern);

// The OGC Simple Features predicates (st_equals ... st_contains).
enum class SpatialPredicate {
  kEquals,
  kDisjoint,
  kTouches,
  kWithin,
  kOverlaps,
  kCrosses,
  kIntersects,
  kContains
};
// nullopt when Relate gives up (too complex).
std::optional<bool> SpatialTest(SpatialPredicate predicate, const Geometry& a, const Geometry& b);

// Shortest planar distance between a and b (0 when they intersect); NaN
// when either is empty or the work would exceed kMaxGeometryWork.
double Distance(const Geometry& a, const Geometry& b);
// The summed length of the line strings in g; nullopt when g has none.
std::optional<double> Length(const Geometry& g);

}  // namespace bysans::sta
