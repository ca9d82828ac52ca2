#include <gtest/gtest.h>

#include <string>

#include "sta/query/query.h"

namespace bysans::sta {
namespace {

std::shared_ptr<const Expr> P(std::string_view text) {
  auto r = ParseFilter(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().message();
  return r.ok() ? *r : nullptr;
}

std::string Err(std::string_view text) {
  auto r = ParseFilter(text);
  EXPECT_FALSE(r.ok()) << text;
  return r.status().message();
}

// A compact rendering of the tree: (op a b), f(a,b), path, literals.
std::string Show(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kLiteral: {
      const Value& v = e.literal;
      if (v.is_null()) return "null";
      if (const bool* b = v.get<bool>()) return *b ? "true" : "false";
      if (const int64_t* i = v.get<int64_t>()) return std::to_string(*i);
      if (const double* d = v.get<double>()) return std::to_string(*d);
      if (const std::string* s = v.get<std::string>()) return "'" + *s + "'";
      if (const TimeValue* t = v.get<TimeValue>()) return "T" + std::to_string(t->ms);
      if (const DurationValue* d = v.get<DurationValue>()) return "D" + std::to_string(d->ms);
      return "G" + std::to_string(v.get<Geometry>()->parts.size());
    }
    case Expr::Kind::kProperty: {
      std::string s;
      for (const auto& n : e.nav) s += n + "/";
      return s + e.property;
    }
    case Expr::Kind::kFunction: {
      std::string s = e.function + "(";
      for (size_t i = 0; i < e.args.size(); ++i) s += (i ? "," : "") + Show(*e.args[i]);
      return s + ")";
    }
    case Expr::Kind::kOperator: {
      std::string s = std::string("(") + OpName(e.op);
      for (const auto& a : e.args) s += " " + Show(*a);
      return s + ")";
    }
  }
  return "?";
}

std::string S(std::string_view text) {
  auto e = P(text);
  return e ? Show(*e) : "<error>";
}

TEST(StaFilterParser, EveryOperator) {
  EXPECT_EQ(S("a eq 1"), "(eq a 1)");
  EXPECT_EQ(S("a ne 1"), "(ne a 1)");
  EXPECT_EQ(S("a gt 1"), "(gt a 1)");
  EXPECT_EQ(S("a ge 1"), "(ge a 1)");
  EXPECT_EQ(S("a lt 1"), "(lt a 1)");
  EXPECT_EQ(S("a le 1"), "(le a 1)");
  EXPECT_EQ(S("a add 1 eq b sub 2"), "(eq (add a 1) (sub b 2))");
  EXPECT_EQ(S("a mul 2 div 3 mod 4 eq 0"), "(eq (mod (div (mul a 2) 3) 4) 0)");
  EXPECT_EQ(S("not a"), "(not a)");
  EXPECT_EQ(S("-a eq -5"), "(eq (- a) -5)");
  EXPECT_EQ(S("a and b or c"), "(or (and a b) c)");
  EXPECT_EQ(S("a or b and c"), "(or a (and b c))");
  EXPECT_EQ(S("a and b and c"), "(and a b c)");
}

TEST(StaFilterParser, Precedence) {
  // multiplicative > additive > relational > equality > and > or; unary binds tightest
  EXPECT_EQ(S("a add b mul c gt d"), "(gt (add a (mul b c)) d)");
  EXPECT_EQ(S("a gt 1 eq true"), "(eq (gt a 1) true)");
  EXPECT_EQ(S("not a eq b"), "(eq (not a) b)");
  EXPECT_EQ(S("(a add b) mul c"), "(mul (add a b) c)");
  EXPECT_EQ(S("not (a eq 1 or b eq 2)"), "(not (or (eq a 1) (eq b 2)))");
  EXPECT_EQ(S("a sub b sub c"), "(sub (sub a b) c)");
}

TEST(StaFilterParser, Literals) {
  EXPECT_EQ(S("a eq 'it''s'"), "(eq a 'it's')");
  EXPECT_EQ(S("a eq ''"), "(eq a '')");
  EXPECT_EQ(S("a eq true or a eq false or a eq null"), "(or (eq a true) (eq a false) (eq a null))");
  EXPECT_EQ(S("a eq 2.5"), "(eq a 2.500000)");
  EXPECT_EQ(S("a eq 1e3"), "(eq a 1000.000000)");
  EXPECT_EQ(S("a eq 1.5E-1"), "(eq a 0.150000)");
  EXPECT_EQ(S("a eq 2d"), "(eq a 2.000000)");
  EXPECT_EQ(S("a eq 2L"), "(eq a 2)");
  EXPECT_EQ(S("a eq 9223372036854775807"), "(eq a 9223372036854775807)");
  EXPECT_EQ(S("a eq 99999999999999999999"), "(eq a 100000000000000000000.000000)");
  EXPECT_EQ(S("t ge 2020-01-01T00:00:00Z"), "(ge t T1577836800000)");
  EXPECT_EQ(S("t ge 2020-01-01T01:00:00.500+01:00"), "(ge t T1577836800500)");
  EXPECT_EQ(S("t ge 2020-01-01"), "(ge t T1577836800000)");
  EXPECT_EQ(S("time(t) lt 07:30:00"), "(lt time(t) D27000000)");
  EXPECT_EQ(S("t sub s gt duration'P1DT1H'"), "(gt (sub t s) D90000000)");
  EXPECT_EQ(S("t gt now() sub duration'PT10m'"), "(gt t (sub now() D600000))");
  EXPECT_EQ(S("t gt duration'-P1W'"), "(gt t D-604800000)");
  EXPECT_EQ(S("st_within(location, geography'POINT(1 2)')"), "st_within(location,G1)");
  EXPECT_EQ(S("st_within(location, geography'POLYGON((0 0, 1 0, 1 1, 0 0))')"),
            "st_within(location,G1)");
  EXPECT_EQ(S("geo.length(geography'LINESTRING(0 0, 1 1)') gt 1"), "(gt geo.length(G1) 1)");
  EXPECT_EQ(S("st_intersects(location, geography'MULTIPOINT((1 2), (3 4))')"),
            "st_intersects(location,G2)");
}

TEST(StaFilterParser, Paths) {
  auto e = P("Datastreams/Observations/result gt 0");
  ASSERT_NE(e, nullptr);
  const Expr& path = *e->args[0];
  EXPECT_EQ(path.nav, (std::vector<std::string>{"Datastreams", "Observations"}));
  EXPECT_EQ(path.property, "result");
  EXPECT_EQ(S("id eq 1"), "(eq @iot.id 1)");
  EXPECT_EQ(S("Datastream/id eq 1"), "(eq Datastream/@iot.id 1)");
  EXPECT_EQ(S("Datastream/@iot.id eq 1"), "(eq Datastream/@iot.id 1)");
  EXPECT_EQ(S("properties/owner/Thing eq 'x'"), "(eq properties/owner/Thing 'x')");
}

TEST(StaFilterParser, EveryFunction) {
  const char* ok[] = {"substringof('a', name)",
                      "contains(name, 'a')",
                      "endswith(name, 'a')",
                      "startswith(name, 'a')",
                      "length(name) eq 1",
                      "indexof(name, 'a') eq 1",
                      "substring(name, 1) eq 'a'",
                      "substring(name, 1, 2) eq 'a'",
                      "tolower(name) eq 'a'",
                      "toupper(name) eq 'a'",
                      "trim(name) eq 'a'",
                      "concat(name, 'a') eq 'a'",
                      "year(t) eq 1",
                      "month(t) eq 1",
                      "day(t) eq 1",
                      "hour(t) eq 1",
                      "minute(t) eq 1",
                      "second(t) eq 1",
                      "fractionalseconds(t) eq 0",
                      "date(t) eq date(s)",
                      "time(t) eq time(s)",
                      "totaloffsetminutes(t) eq 0",
                      "t lt now()",
                      "t gt mindatetime()",
                      "t lt maxdatetime()",
                      "round(x) eq 1",
                      "floor(x) eq 1",
                      "ceiling(x) eq 1",
                      "geo.distance(l, m) lt 1",
                      "geo.length(l) lt 1",
                      "geo.intersects(l, m)",
                      "st_equals(l, m)",
                      "st_disjoint(l, m)",
                      "st_touches(l, m)",
                      "st_within(l, m)",
                      "st_overlaps(l, m)",
                      "st_crosses(l, m)",
                      "st_intersects(l, m)",
                      "st_contains(l, m)",
                      "st_relate(l, m, 'T********')",
                      "SubstringOf('a', name)"};
  for (const char* f : ok) EXPECT_NE(P(f), nullptr) << f;
}

TEST(StaFilterParser, ErrorsNameWhatAndWhere) {
  EXPECT_EQ(Err("foo(name) eq 1"), "unknown function 'foo' at position 0");
  EXPECT_EQ(Err("length(name, 'x') eq 1"),
            "function 'length' takes 1 argument, got 2 at position 0");
  EXPECT_EQ(Err("substring(name)"),
            "function 'substring' takes 2 or 3 arguments, got 1 at position 0");
  EXPECT_EQ(Err("now(1)"), "function 'now' takes 0 arguments, got 1 at position 0");
  EXPECT_EQ(Err("(a eq 1"), "unbalanced '(': no matching ')' at position 0");
  EXPECT_EQ(Err("a eq 1)"), "unbalanced ')' at position 6");
  EXPECT_EQ(Err("a eq 1 b"), "unexpected 'b' after the end of the expression at position 7");
  EXPECT_EQ(Err("a eq"), "unexpected end of the expression at position 4");
  EXPECT_EQ(Err("a eq 'abc"), "unterminated string at position 5");
  EXPECT_EQ(Err("a eq eq"), "unexpected operator 'eq' at position 5");
  EXPECT_EQ(Err("a eq #"), "unexpected character '#' at position 5");
  EXPECT_EQ(Err(""), "empty filter at position 0");
  EXPECT_EQ(Err("a eq 12abc"), "bad number '12a' at position 5");
  EXPECT_EQ(Err("t eq 2020-13-45T00:00:00Z"), "bad date-time '2020-13-45T00:00:00Z' at position 5");
  EXPECT_EQ(Err("t eq duration'P1Y'"), "bad duration 'P1Y' at position 13");
  EXPECT_EQ(Err("t eq foo'x'"), "unknown literal type 'foo' at position 5");
  EXPECT_EQ(Err("concat('a' 'b')"), "expected ',' or ')' but found ''b'' at position 11");
  std::string geo = Err("st_within(l, geography'POLYGON((0 0, 1 0, 1 1))')");
  EXPECT_NE(geo.find("bad geography literal"), std::string::npos) << geo;
  EXPECT_NE(Err("a/ eq 1").find("bad path"), std::string::npos);
}

TEST(StaFilterParser, DeepNestingIsRefusedWithoutRecursingDeep) {
  std::string deep(1000, '(');
  deep += "a eq 1";
  deep += std::string(1000, ')');
  EXPECT_EQ(Err(deep), "expression nested deeper than 64 levels at position 64");
  std::string nots;
  for (int i = 0; i < 1000; ++i) nots += "not ";
  EXPECT_NE(Err(nots + "a").find("nested deeper than 64"), std::string::npos);
  std::string calls;
  for (int i = 0; i < 1000; ++i) calls += "tolower(";
  EXPECT_NE(Err(calls + "a" + std::string(1000, ')')).find("nested deeper than 64"),
            std::string::npos);
  std::string chain = "a";
  for (int i = 0; i < 1000; ++i) chain += " add 1";
  EXPECT_NE(Err(chain).find("nested deeper than 64"), std::string::npos);
  // 60 levels are fine, and long and/or chains stay flat
  EXPECT_NE(P(std::string(60, '(') + "a eq 1" + std::string(60, ')')), nullptr);
  std::string ors = "id eq 0";
  for (int i = 1; i < 500; ++i) ors += " or id eq " + std::to_string(i);
  auto e = P(ors);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->args.size(), 500u);
}

TEST(StaFilterParser, HundredKilobytesIsTooLong) {
  std::string big = "name eq '" + std::string(100 * 1024, 'x') + "'";
  EXPECT_NE(Err(big).find("too long"), std::string::npos);
}

}  // namespace
}  // namespace bysans::sta
