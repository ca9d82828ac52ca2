#include "sta/query/geometry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

namespace bysans::sta {
namespace {

Geometry G(std::string_view wkt) {
  auto g = ParseWkt(wkt);
  EXPECT_TRUE(g.ok()) << wkt << ": " << g.status().message();
  return g.ok() ? *g : Geometry{};
}

bool T(SpatialPredicate p, std::string_view a, std::string_view b) {
  std::optional<bool> r = SpatialTest(p, G(a), G(b));
  EXPECT_TRUE(r.has_value()) << a << " / " << b;
  return r.value_or(false);
}

using P = SpatialPredicate;
constexpr const char* kSquare = "POLYGON((0 0, 4 0, 4 4, 0 4, 0 0))";

TEST(StaGeometry, ParsesWkt) {
  EXPECT_EQ(G("POINT(1 2)").parts.at(0).rings.at(0).at(0), (Coord{1, 2}));
  EXPECT_EQ(G("point z (1 2 3)").parts.size(), 1u);
  EXPECT_EQ(G("SRID=4326;LINESTRING(0 0, 1 1, 2 0)").parts[0].rings[0].size(), 3u);
  EXPECT_EQ(G("POLYGON((0 0, 4 0, 4 4, 0 0), (1 1, 2 1, 2 2, 1 1))").parts[0].rings.size(), 2u);
  EXPECT_EQ(G("MULTIPOINT(1 2, 3 4)").parts.size(), 2u);
  EXPECT_EQ(G("MULTILINESTRING((0 0, 1 1), (2 2, 3 3))").parts.size(), 2u);
  EXPECT_EQ(G("MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))").parts.size(), 2u);
}

TEST(StaGeometry, WktErrorsNamePosition) {
  EXPECT_EQ(ParseWkt("CIRCLE(1 2)").status().message(),
            "unknown geometry type 'CIRCLE' at position 0");
  EXPECT_EQ(ParseWkt("POINT(1)").status().message(), "expected a number at position 7");
  EXPECT_EQ(ParseWkt("POINT(1 2").status().message(), "expected ')' at position 9");
  EXPECT_EQ(ParseWkt("POINT(1 2) x").status().message(),
            "unexpected text after the geometry at position 11");
  EXPECT_FALSE(ParseWkt("LINESTRING(1 2)").ok());
  EXPECT_FALSE(ParseWkt("POLYGON((0 0, 1 0, 1 1, 0 1))").ok());  // not closed
  EXPECT_FALSE(ParseWkt("POINT(nan 1)").ok());
}

TEST(StaGeometry, GeoJson) {
  auto p = GeometryFromGeoJson(nlohmann::json::parse(R"({"type":"Point","coordinates":[10,56]})"));
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, G("POINT(10 56)"));
  auto f = GeometryFromGeoJson(nlohmann::json::parse(
      R"({"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]]]}})"));
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, G(kSquare));
  EXPECT_FALSE(GeometryFromGeoJson(nlohmann::json::parse(R"({"type":"Point"})")));
  EXPECT_FALSE(GeometryFromGeoJson(nlohmann::json::parse(R"({"a":1})")));
  EXPECT_FALSE(
      GeometryFromGeoJson(nlohmann::json::parse(R"({"type":"Point","coordinates":["x",1]})")));
  Value v =
      ValueFromJson(nlohmann::json::parse(R"({"type":"MultiPoint","coordinates":[[1,2],[3,4]]})"));
  ASSERT_NE(v.get<Geometry>(), nullptr);
  EXPECT_EQ(v.get<Geometry>()->parts.size(), 2u);
}

TEST(StaGeometry, RelateMatrices) {
  EXPECT_EQ(Relate(G("POINT(1 1)"), G(kSquare)), "0FFFFF212");
  EXPECT_EQ(Relate(G(kSquare), G("POINT(1 1)")), "0F2FF1FF2");
  EXPECT_EQ(Relate(G("POINT(0 1)"), G(kSquare)), "F0FFFF212");
  EXPECT_EQ(Relate(G("LINESTRING(-1 2, 2 2)"), G(kSquare)), "1010F0212");
  EXPECT_EQ(Relate(G("POLYGON((1 1, 2 1, 2 2, 1 2, 1 1))"), G(kSquare)), "2FF1FF212");
  EXPECT_EQ(Relate(G(kSquare), G(kSquare)), "2FFF1FFF2");
  EXPECT_EQ(Relate(G("LINESTRING(0 0, 2 2)"), G("LINESTRING(0 2, 2 0)")), "0F1FF0102");
  EXPECT_EQ(Relate(G("POINT(1 1)"), G("POINT(1 1)")), "0FFFFFFF2");
  // partial overlap, lines on a polygon's edge, equal lines, a line inside touching the ring
  EXPECT_EQ(Relate(G(kSquare), G("POLYGON((2 2, 6 2, 6 6, 2 6, 2 2))")), "212101212");
  EXPECT_EQ(Relate(G("LINESTRING(0 0, 4 0)"), G(kSquare)), "F1FF0F212");
  EXPECT_EQ(Relate(G("LINESTRING(2 0, 6 0)"), G(kSquare)), "F11F00212");
  EXPECT_EQ(Relate(G("LINESTRING(0 0, 1 1, 2 0)"), G("LINESTRING(2 0, 1 1, 0 0)")), "1FFF0FFF2");
  EXPECT_EQ(Relate(G("LINESTRING(0 2, 2 2)"), G(kSquare)), "1FF00F212");
  // a polygon in another's hole is outside it
  EXPECT_EQ(Relate(G("POLYGON((1.5 1.5, 2.5 1.5, 2.5 2.5, 1.5 2.5, 1.5 1.5))"),
                   G("POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 3 1, 3 3, 1 3, 1 1))")),
            "FF2FF1212");
  EXPECT_EQ(Relate(G("POINT(1 1)"), G("POINT(1 2)")), "FF0FFF0F2");
  EXPECT_EQ(Relate(G("MULTIPOINT(1 1, 5 5)"), G("POINT(1 1)")), "0F0FFFFF2");
  EXPECT_EQ(Relate(G("MULTIPOINT(0 0, 2 0)"), G("LINESTRING(0 0, 2 0)")), "F0FFFF1F2");
  EXPECT_EQ(Relate(G("POINT(0 0)"), G("LINESTRING(0 0, 2 0)")), "F0FFFF102");
  EXPECT_EQ(Relate(G("POINT(1 0)"), G("LINESTRING(0 0, 2 0)")), "0FFFFF102");
  EXPECT_EQ(Relate(G("LINESTRING(0 0, 2 0)"), G("POINT(1 0)")), "0F1FF0FF2");
}

TEST(StaGeometry, NamedPredicates) {
  EXPECT_TRUE(T(P::kWithin, "POINT(1 1)", kSquare));
  EXPECT_FALSE(T(P::kWithin, "POINT(0 1)", kSquare));  // on the boundary
  EXPECT_TRUE(T(P::kTouches, "POINT(0 1)", kSquare));
  EXPECT_TRUE(T(P::kContains, kSquare, "POINT(1 1)"));
  EXPECT_TRUE(T(P::kContains, kSquare, "LINESTRING(1 1, 3 3)"));
  EXPECT_TRUE(T(P::kWithin, "POLYGON((1 1, 2 1, 2 2, 1 2, 1 1))", kSquare));
  EXPECT_TRUE(T(P::kEquals, kSquare, "POLYGON((4 4, 0 4, 0 0, 4 0, 4 4))"));
  EXPECT_FALSE(T(P::kEquals, kSquare, "POLYGON((0 0, 5 0, 5 5, 0 5, 0 0))"));
  EXPECT_TRUE(T(P::kDisjoint, "POINT(9 9)", kSquare));
  EXPECT_FALSE(T(P::kIntersects, "POINT(9 9)", kSquare));
  EXPECT_TRUE(T(P::kIntersects, "LINESTRING(-1 2, 2 2)", kSquare));
  EXPECT_TRUE(T(P::kCrosses, "LINESTRING(-1 2, 2 2)", kSquare));
  EXPECT_FALSE(T(P::kCrosses, "LINESTRING(1 2, 2 2)", kSquare));
  EXPECT_TRUE(T(P::kCrosses, "LINESTRING(0 0, 2 2)", "LINESTRING(0 2, 2 0)"));
  EXPECT_TRUE(T(P::kOverlaps, kSquare, "POLYGON((2 2, 6 2, 6 6, 2 6, 2 2))"));
  EXPECT_FALSE(T(P::kOverlaps, kSquare, "POLYGON((1 1, 2 1, 2 2, 1 2, 1 1))"));
  EXPECT_TRUE(T(P::kTouches, kSquare, "POLYGON((4 0, 8 0, 8 4, 4 4, 4 0))"));
  EXPECT_FALSE(T(P::kOverlaps, kSquare, "POLYGON((4 0, 8 0, 8 4, 4 4, 4 0))"));
  EXPECT_TRUE(T(P::kOverlaps, "LINESTRING(0 0, 2 0)", "LINESTRING(1 0, 3 0)"));
  EXPECT_TRUE(T(P::kTouches, "LINESTRING(0 0, 2 0)", "LINESTRING(2 0, 3 1)"));
  // a hole is outside
  const char* donut = "POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 3 1, 3 3, 1 3, 1 1))";
  EXPECT_FALSE(T(P::kWithin, "POINT(2 2)", donut));
  EXPECT_TRUE(T(P::kWithin, "POINT(0.5 0.5)", donut));
  // multi geometries: any part
  EXPECT_TRUE(T(P::kIntersects, "MULTIPOINT(9 9, 1 1)", kSquare));
  EXPECT_FALSE(T(P::kWithin, "MULTIPOINT(9 9, 1 1)", kSquare));
}

TEST(StaGeometry, PointsInALargePolygonAreFast) {
  // a 2,000-vertex polygon (a circle) against points: no noding, linear per point
  std::string wkt = "POLYGON((";
  for (int i = 0; i <= 2000; ++i) {
    double t = 2 * M_PI * (i % 2000) / 2000;
    wkt +=
        (i ? ", " : "") + std::to_string(10 * std::cos(t)) + " " + std::to_string(10 * std::sin(t));
  }
  wkt += "))";
  Geometry circle = G(wkt);
  int inside = 0;
  for (int i = 0; i < 2000; ++i) {
    Geometry p =
        G("POINT(" + std::to_string(i % 40 - 20) + " " + std::to_string(i / 40 - 25) + ")");
    inside += SpatialTest(P::kWithin, p, circle).value_or(false);
  }
  EXPECT_GT(inside, 290);  // about pi * 10^2 grid points
  EXPECT_LT(inside, 320);
}

TEST(StaGeometry, ApartBoxesAreDisjointWithoutNoding) {
  EXPECT_EQ(Relate(G(kSquare), G("POLYGON((10 10, 11 10, 11 11, 10 10))")), "FF2FF1212");
  EXPECT_EQ(Relate(G("LINESTRING(10 10, 11 11)"), G(kSquare)), "FF1FF0212");
  EXPECT_EQ(Relate(G("LINESTRING(10 10, 11 11, 10 11, 10 10)"), G("POINT(0 0)")), "FF1FFF0F2");
}

TEST(StaGeometry, TooComplexGivesUp) {
  // two 3,000-segment zigzags side by side: (6,000)^2 > kMaxGeometryWork
  std::string a = "LINESTRING(", b = "LINESTRING(";
  for (int i = 0; i <= 3000; ++i) {
    a += (i ? ", " : "") + std::to_string(i) + " " + std::to_string(i % 2);
    b += (i ? ", " : "") + std::to_string(i) + " " + std::to_string(1 - i % 2);
  }
  Geometry ga = G(a + ")"), gb = G(b + ")");
  EXPECT_EQ(Relate(ga, gb), "");
  EXPECT_FALSE(SpatialTest(P::kIntersects, ga, gb).has_value());
  EXPECT_TRUE(std::isnan(Distance(ga, gb)));
}

TEST(StaGeometry, RelatePatterns) {
  EXPECT_TRUE(RelateMatches("0FFFFF212", "T*F**F***"));
  EXPECT_TRUE(RelateMatches("0FFFFF212", "0********"));
  EXPECT_FALSE(RelateMatches("0FFFFF212", "1********"));
  EXPECT_FALSE(RelateMatches("0FFFFF212", "T*F"));
  EXPECT_FALSE(RelateMatches("0FFFFF212", "X********"));
}

TEST(StaGeometry, DistanceAndLength) {
  EXPECT_DOUBLE_EQ(Distance(G("POINT(0 0)"), G("POINT(3 4)")), 5);
  EXPECT_DOUBLE_EQ(Distance(G("POINT(6 2)"), G(kSquare)), 2);
  EXPECT_DOUBLE_EQ(Distance(G("POINT(1 1)"), G(kSquare)), 0);
  EXPECT_DOUBLE_EQ(Distance(G("LINESTRING(5 5, 6 6)"), G(kSquare)), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(*Length(G("MULTILINESTRING((0 0, 1 0), (0 0, 0 2))")), 3);
  EXPECT_FALSE(Length(G(kSquare)).has_value());
}

}  // namespace
}  // namespace bysans::sta
