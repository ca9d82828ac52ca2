#include <gtest/gtest.h>

#include <cmath>

#include "sta/query/query.h"
#include "unit/sta/fake_entity.h"

namespace bysans::sta {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

Value Eval(std::string_view text) {
  auto f = ParseFilter(text);
  EXPECT_TRUE(f.ok()) << text << ": " << f.status().message();
  if (!f.ok()) return {};
  testing::FakeEntity e;
  return Evaluate(**f, e, kNow);
}

bool True(std::string_view text) {
  Value v = Eval(text);
  return v.get<bool>() && *v.get<bool>();
}

TEST(StaFunctions, String) {
  EXPECT_TRUE(True("substringof('ar', 'Aarhus')"));
  EXPECT_FALSE(True("substringof('x', 'Aarhus')"));
  EXPECT_TRUE(True("contains('Aarhus', 'hus')"));
  EXPECT_TRUE(True("endswith('Aarhus', 'hus')"));
  EXPECT_FALSE(True("endswith('hus', 'Aarhus')"));
  EXPECT_TRUE(True("startswith('Aarhus', 'Aar')"));
  EXPECT_TRUE(True("length('Aarhus') eq 6"));
  EXPECT_TRUE(True("length('Århus') eq 5"));  // characters, not bytes
  EXPECT_TRUE(True("indexof('Aarhus', 'hus') eq 3"));
  EXPECT_TRUE(True("indexof('Århus', 'hus') eq 2"));
  EXPECT_TRUE(True("indexof('Aarhus', 'x') eq -1"));
  EXPECT_TRUE(True("substring('Aarhus', 3) eq 'hus'"));
  EXPECT_TRUE(True("substring('Aarhus', 1, 2) eq 'ar'"));
  EXPECT_TRUE(True("substring('Århus', 0, 2) eq 'År'"));
  EXPECT_TRUE(True("substring('Aarhus', 10) eq ''"));
  EXPECT_TRUE(True("substring('Aarhus', 2, -1) eq ''"));
  EXPECT_TRUE(True("tolower('AaR') eq 'aar'"));
  EXPECT_TRUE(True("toupper('AaR') eq 'AAR'"));
  EXPECT_TRUE(True("trim('  a b ') eq 'a b'"));
  EXPECT_TRUE(True("concat('a', 'b') eq 'ab'"));
  EXPECT_TRUE(True("concat(concat('a', 'b'), 'c') eq 'abc'"));
}

TEST(StaFunctions, Date) {
  const char* t = "2021-03-04T05:06:07.25+02:00";
  auto check = [&](const std::string& f, const std::string& want) {
    EXPECT_TRUE(True(f + "(" + t + ") eq " + want)) << f;
  };
  check("year", "2021");
  check("month", "3");
  check("day", "4");
  check("hour", "5");
  check("minute", "6");
  check("second", "7");
  check("fractionalseconds", "0.25");
  check("totaloffsetminutes", "120");
  check("date", "2021-03-03T22:00:00Z");  // local midnight of the 4th at +02:00
  check("time", "05:06:07.25");
  EXPECT_TRUE(True("year(2020-12-31T23:30:00Z) eq 2020"));
  EXPECT_TRUE(True("year(1969-12-31T23:30:00Z) eq 1969 and day(1969-12-31T23:30:00Z) eq 31"));
  EXPECT_TRUE(True("now() eq 2023-11-14T22:13:20Z"));
  EXPECT_TRUE(True("mindatetime() lt 0001-01-02T00:00:00Z"));
  EXPECT_TRUE(True("maxdatetime() gt 9999-12-31T00:00:00Z"));
  EXPECT_TRUE(True("year('2021-01-01T00:00:00Z') eq 2021"));  // an ISO string counts
}

TEST(StaFunctions, Math) {
  EXPECT_TRUE(True("round(2.5) eq 3 and round(2.4) eq 2 and round(-2.5) eq -3"));
  EXPECT_TRUE(True("floor(2.7) eq 2 and floor(-2.1) eq -3"));
  EXPECT_TRUE(True("ceiling(2.1) eq 3 and ceiling(-2.7) eq -2"));
  EXPECT_TRUE(True("round(4) eq 4"));
  EXPECT_TRUE(Eval("round('x')").is_null());
}

TEST(StaFunctions, Geo) {
  EXPECT_TRUE(True("geo.distance(geography'POINT(0 0)', geography'POINT(3 4)') eq 5"));
  EXPECT_TRUE(True("geo.length(geography'LINESTRING(0 0, 3 4, 3 5)') eq 6"));
  EXPECT_TRUE(Eval("geo.length(geography'POINT(0 0)')").is_null());
  EXPECT_TRUE(
      True("geo.intersects(geography'POINT(1 1)', "
           "geography'POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))')"));
  EXPECT_TRUE(
      True("st_relate(geography'POINT(1 1)', "
           "geography'POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))', 'T*F**F***')"));
}

TEST(StaFunctions, WrongTypesYieldNull) {
  EXPECT_TRUE(
      Eval("st_relate(geography'POINT(1 1)', geography'POINT(1 1)', 'T********')").get<bool>());
  EXPECT_TRUE(Eval("length(1)").is_null());
  EXPECT_TRUE(Eval("substring('abc', 'x')").is_null());
  EXPECT_TRUE(Eval("concat('a', 1)").is_null());
  EXPECT_TRUE(Eval("year(5)").is_null());
  EXPECT_TRUE(Eval("geo.distance(1, 2)").is_null());
  EXPECT_TRUE(Eval("st_relate(geography'POINT(1 1)', geography'POINT(1 1)', 5)").is_null());
}

}  // namespace
}  // namespace bysans::sta
