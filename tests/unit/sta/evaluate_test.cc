#include <gtest/gtest.h>

#include "sta/query/geometry.h"
#include "sta/query/query.h"
#include "unit/sta/fake_entity.h"

namespace bysans::sta {
namespace {

using testing::FakeEntity;

constexpr int64_t kNow = 1'700'000'000'000;

// A Thing with two Datastreams; the second has observations 5 and -3.
class StaEvaluate : public ::testing::Test {
 protected:
  void SetUp() override {
    thing.props = {{"@iot.id", Value(1)},
                   {"name", Value("Bin 7")},
                   {"description", Value("waste bin")},
                   {"properties/owner", Value("Aarhus")}};
    ds1.props = {{"@iot.id", Value(10)}, {"name", Value("fill")}};
    ds2.props = {{"@iot.id", Value(11)}, {"name", Value("temperature")}};
    o1.props = {{"result", Value(5)}, {"phenomenonTime", Value::Time(1000)}};
    o2.props = {{"result", Value(-3.5)}, {"phenomenonTime", Value::Time(2000)}};
    ds2.related["Observations"] = {&o1, &o2};
    ds1.related["Thing"] = {&thing};
    ds2.related["Thing"] = {&thing};
    thing.related["Datastreams"] = {&ds1, &ds2};
    Geometry here;
    here.parts.push_back({GeometryPart::Kind::kPoint, {{{10.2, 56.1}}}});
    loc.props = {{"location", Value(here)}};
    thing.related["Locations"] = {&loc};
  }

  bool M(std::string_view filter, const FakeEntity& e) {
    auto f = ParseFilter(filter);
    EXPECT_TRUE(f.ok()) << filter << ": " << f.status().message();
    if (!f.ok()) return false;
    auto r = Matches(**f, e, kNow);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() && *r;
  }
  bool M(std::string_view filter) { return M(filter, thing); }

  FakeEntity thing, ds1, ds2, o1, o2, loc;
};

TEST_F(StaEvaluate, Comparisons) {
  EXPECT_TRUE(M("name eq 'Bin 7'"));
  EXPECT_FALSE(M("name ne 'Bin 7'"));
  EXPECT_TRUE(M("id eq 1 and @iot.id le 1 and id ge 1 and id lt 2 and id gt 0"));
  EXPECT_TRUE(M("properties/owner eq 'Aarhus'"));
  EXPECT_TRUE(M("missing eq null"));
  EXPECT_FALSE(M("name eq null"));
  EXPECT_TRUE(M("name ne null"));
  EXPECT_TRUE(M("id eq 1.0"));
  EXPECT_TRUE(M("'Bin 7' eq name"));
}

TEST_F(StaEvaluate, MismatchedTypesAreFalseNotErrors) {
  EXPECT_FALSE(M("name gt 5"));
  EXPECT_FALSE(M("name eq 5"));
  EXPECT_FALSE(M("name ne 5"));
  EXPECT_FALSE(M("name add 1 eq 2"));
  EXPECT_FALSE(M("id div 0 eq 1"));
  EXPECT_FALSE(M("id mod 0 eq 1"));
  EXPECT_FALSE(M("missing gt 1"));
  EXPECT_FALSE(M("name"));  // not a boolean
  EXPECT_FALSE(M("length(id) eq 1"));
  EXPECT_FALSE(M("st_within(name, name)"));
  EXPECT_FALSE(M("year(name) eq 1"));
}

TEST_F(StaEvaluate, LogicAndArithmetic) {
  EXPECT_TRUE(M("id eq 1 or id eq 2"));
  EXPECT_FALSE(M("id eq 1 and id eq 2"));
  EXPECT_TRUE(M("not (id eq 2)"));
  EXPECT_TRUE(M("id add 2 eq 3 and id sub 2 eq -1 and id mul 6 eq 6"));
  EXPECT_TRUE(M("7 div 2 eq 3 and 7 mod 2 eq 1 and 7.0 div 2 eq 3.5 and 7.5 mod 2 eq 1.5"));
  EXPECT_TRUE(M("-id eq -1"));
  EXPECT_TRUE(M("9223372036854775807 add 1 gt 0"));  // overflow goes on in double
  EXPECT_TRUE(M("(1 add 2) mul 3 eq 9 and 1 add 2 mul 3 eq 7"));
}

TEST_F(StaEvaluate, AnyOverToManyNavigation) {
  EXPECT_TRUE(M("Datastreams/Observations/result gt 0"));
  EXPECT_TRUE(M("Datastreams/Observations/result lt 0"));
  EXPECT_FALSE(M("Datastreams/Observations/result gt 10"));
  EXPECT_TRUE(M("Datastreams/name eq 'temperature'"));
  EXPECT_FALSE(M("Datastreams/name eq 'humidity'"));
  // one comparison, two paths with a shared prefix: the same Datastream
  EXPECT_TRUE(M("Datastreams/name eq 'fill' and Datastreams/@iot.id eq 11"));  // separate anys
  EXPECT_FALSE(M("concat(Datastreams/name, '') eq 'fill' and false"));
  EXPECT_TRUE(M("Datastreams/Observations/result add Datastreams/@iot.id eq 16"));   // 5 + 11
  EXPECT_FALSE(M("Datastreams/Observations/result add Datastreams/@iot.id eq 15"));  // 5 + 10?
  EXPECT_TRUE(M("substringof('temp', Datastreams/name)"));
  EXPECT_TRUE(M("not (Datastreams/name eq 'x')"));
  // to-one navigation
  EXPECT_TRUE(M("Thing/name eq 'Bin 7'", ds1));
  EXPECT_TRUE(M("Thing/Datastreams/Observations/result eq 5", ds1));
  // an entity with nothing related matches nothing through it
  FakeEntity lonely;
  EXPECT_FALSE(M("Datastreams/name eq 'fill'", lonely));
  EXPECT_TRUE(M("not (Datastreams/name eq 'fill')", lonely));
}

TEST_F(StaEvaluate, AnyStopsAtTheFirstMatch) {
  thing.visits = ds2.visits = 0;
  EXPECT_TRUE(M("Datastreams/name eq 'fill'"));
  EXPECT_EQ(thing.visits, 1);
  EXPECT_TRUE(M("Datastreams/Observations/result eq 5"));
  EXPECT_EQ(ds2.visits, 1);
}

TEST_F(StaEvaluate, BindingBudget) {
  // 1,100 x 1,100 combinations of two independent paths exceed the budget
  std::vector<FakeEntity> many(1100);
  for (size_t i = 0; i < many.size(); ++i) many[i].props["name"] = Value(static_cast<int64_t>(i));
  FakeEntity root;
  for (const auto& m : many) {
    root.related["Datastreams"].push_back(&m);
    root.related["Locations"].push_back(&m);
  }
  auto f = ParseFilter("Datastreams/name eq Locations/name add 5000");
  ASSERT_TRUE(f.ok());
  auto r = Matches(**f, root, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("more than 1000000"), std::string::npos);
  EXPECT_TRUE(M("Datastreams/name eq Locations/name add 1", root));
}

// n related entities, all the same one, without storing them.
struct ManyRelated : EntityAccessor {
  int64_t n = 0;
  FakeEntity child;
  Value Get(std::string_view) const override { return {}; }
  void ForEachRelated(std::string_view,
                      const std::function<bool(const EntityAccessor&)>& fn) const override {
    for (int64_t i = 0; i < n && fn(child); ++i) {
    }
  }
};

TEST_F(StaEvaluate, EvaluationBudget) {
  // 600,000 bindings of a 40-node predicate: refused after 10 M evaluation steps
  ManyRelated root;
  root.n = 600'000;
  root.child.props["name"] = Value(1);
  std::string f = "Datastreams/name";
  for (int i = 0; i < 19; ++i) f += " add Datastreams/name";
  auto e = ParseFilter(f + " eq -1");
  ASSERT_TRUE(e.ok()) << e.status().message();
  auto r = Matches(**e, root, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too expensive"), std::string::npos);
  root.n = 1000;  // the same on a modest set is fine
  EXPECT_TRUE(Matches(**e, root, kNow).ok());
  // one budget shared by a request's calls: 1,000 bindings x 41 nodes each time
  EvalBudget request;
  request.evaluations = 100'000;
  EXPECT_TRUE(Matches(**e, root, kNow, &request).ok());
  EXPECT_TRUE(Matches(**e, root, kNow, &request).ok());
  EXPECT_FALSE(Matches(**e, root, kNow, &request).ok());
  EXPECT_LT(request.evaluations, 0);
}

TEST_F(StaEvaluate, GeoThroughNavigation) {
  EXPECT_TRUE(
      M("st_within(Locations/location, "
        "geography'POLYGON((10 56, 11 56, 11 57, 10 57, 10 56))')"));
  EXPECT_FALSE(
      M("st_within(Locations/location, "
        "geography'POLYGON((12 56, 13 56, 13 57, 12 57, 12 56))')"));
  EXPECT_TRUE(M("geo.distance(Locations/location, geography'POINT(10.2 56.2)') lt 0.11"));
  EXPECT_FALSE(M("geo.distance(Locations/location, geography'POINT(10.2 56.2)') lt 0.09"));
}

TEST_F(StaEvaluate, TimesCompareWithStringsAndDurations) {
  EXPECT_TRUE(M("phenomenonTime lt 1970-01-01T00:00:01.5Z", o1));
  EXPECT_TRUE(M("phenomenonTime eq 1970-01-01T01:00:01+01:00", o1));
  EXPECT_TRUE(M("phenomenonTime add duration'PT1S' eq 1970-01-01T00:00:02Z", o1));
  EXPECT_TRUE(M("phenomenonTime sub 1970-01-01T00:00:00Z eq duration'PT1S'", o1));
  EXPECT_TRUE(M("phenomenonTime gt now() sub duration'P30000D'", o1));
  o1.props["resultTime"] = Value("1970-01-01T00:00:01Z");  // a string holding a time
  EXPECT_TRUE(M("resultTime eq phenomenonTime", o1));
}

TEST_F(StaEvaluate, TimeIntervals) {
  // a Datastream's phenomenonTime is an interval; literals may be intervals too
  ds1.props["phenomenonTime"] = Value("2020-01-01T00:00:00Z/2020-01-31T00:00:00Z");
  EXPECT_TRUE(M("phenomenonTime gt 2019-12-31T00:00:00Z", ds1));
  EXPECT_FALSE(M("phenomenonTime gt 2020-01-15T00:00:00Z", ds1));  // overlaps: not after
  EXPECT_FALSE(M("phenomenonTime lt 2020-01-15T00:00:00Z", ds1));  // nor before
  EXPECT_TRUE(M("phenomenonTime lt 2020-02-01T00:00:00Z", ds1));
  EXPECT_TRUE(M("phenomenonTime le 2020-01-31T00:00:00Z", ds1));
  EXPECT_TRUE(M("phenomenonTime ge 2020-01-01T00:00:00Z", ds1));
  EXPECT_TRUE(M("phenomenonTime eq 2020-01-01T00:00:00Z/2020-01-31T00:00:00Z", ds1));
  EXPECT_TRUE(M("phenomenonTime ne 2020-01-01T00:00:00Z/2020-01-30T00:00:00Z", ds1));
  EXPECT_TRUE(M("2021-01-01T00:00:00Z/2021-02-01T00:00:00Z gt phenomenonTime", ds1));
  EXPECT_FALSE(M("phenomenonTime gt 5", ds1));
  EXPECT_FALSE(ParseFilter("t eq 2020-02-01T00:00:00Z/2020-01-01T00:00:00Z").ok());
}

TEST(StaOrderBy, SortsWithNullsFirstAndDescending) {
  FakeEntity a, b, c;
  a.props = {{"name", Value("b")}, {"@iot.id", Value(1)}};
  b.props = {{"name", Value("a")}, {"@iot.id", Value(2)}};
  c.props = {{"@iot.id", Value(3)}};
  std::vector<OrderBy> by_name = {{{"name"}, false}};
  EXPECT_TRUE(OrderLess(by_name, b, a));
  EXPECT_FALSE(OrderLess(by_name, a, b));
  EXPECT_TRUE(OrderLess(by_name, c, b));  // null first
  std::vector<OrderBy> desc = {{{"id"}, true}};
  EXPECT_TRUE(OrderLess(desc, c, a));
  FakeEntity ds;
  ds.props["name"] = Value("z");
  a.related["Datastream"] = {&ds};
  std::vector<OrderBy> nav = {{{"Datastream", "name"}, false}};
  EXPECT_EQ(*OrderValue(nav[0], a).get<std::string>(), "z");
  EXPECT_TRUE(OrderValue(nav[0], b).is_null());
}

}  // namespace
}  // namespace bysans::sta
