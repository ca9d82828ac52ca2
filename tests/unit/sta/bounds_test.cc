#include <gtest/gtest.h>

#include "sta/query/query.h"

namespace bysans::sta {
namespace {

constexpr int64_t kJan1 = 1577836800000;  // 2020-01-01T00:00:00Z
constexpr int64_t kJan2 = kJan1 + 86'400'000;

TimeBounds B(std::string_view filter, std::string_view prop = "phenomenonTime") {
  auto f = ParseFilter(filter);
  EXPECT_TRUE(f.ok()) << f.status().message();
  return f.ok() ? BoundsOn(**f, prop) : TimeBounds{};
}

TEST(StaBounds, RangeFromTheConjunction) {
  TimeBounds b =
      B("phenomenonTime ge 2020-01-01T00:00:00Z and phenomenonTime lt 2020-01-02 and "
        "result gt 5");
  EXPECT_EQ(b.from_ms, kJan1);
  EXPECT_TRUE(b.from_inclusive);
  EXPECT_EQ(b.to_ms, kJan2);
  EXPECT_FALSE(b.to_inclusive);
}

TEST(StaBounds, MirroredTightestAndEquality) {
  TimeBounds b =
      B("2020-01-01T00:00:00Z lt phenomenonTime and phenomenonTime gt 2019-01-01 and "
        "phenomenonTime le 2020-01-02");
  EXPECT_EQ(b.from_ms, kJan1);
  EXPECT_FALSE(b.from_inclusive);
  EXPECT_EQ(b.to_ms, kJan2);
  EXPECT_TRUE(b.to_inclusive);
  TimeBounds eq = B("resultTime eq 2020-01-01", "resultTime");
  EXPECT_EQ(eq.from_ms, kJan1);
  EXPECT_EQ(eq.to_ms, kJan1);
}

TEST(StaBounds, NothingUnderOrNotOrOtherProperties) {
  EXPECT_TRUE(B("phenomenonTime gt 2020-01-01 or result eq 1").empty());
  EXPECT_TRUE(B("not (phenomenonTime gt 2020-01-01)").empty());
  EXPECT_TRUE(B("resultTime gt 2020-01-01").empty());
  EXPECT_TRUE(B("phenomenonTime gt resultTime").empty());
  EXPECT_TRUE(B("Datastream/phenomenonTime gt 2020-01-01").empty());
  EXPECT_TRUE(B("phenomenonTime gt 5").empty());
  // nested and stays a conjunction
  EXPECT_EQ(B("result gt 1 and (phenomenonTime ge 2020-01-01 and result lt 9)").from_ms, kJan1);
}

TEST(StaBounds, EqualityOnDatastreamId) {
  auto f = ParseFilter("result gt 1 and Datastream/id eq 5");
  ASSERT_TRUE(f.ok());
  auto v = EqualityOn(**f, "Datastream/@iot.id");
  ASSERT_TRUE(v);
  EXPECT_EQ(*v->get<int64_t>(), 5);
  EXPECT_TRUE(EqualityOn(**f, "Datastream/id"));
  auto g = ParseFilter("5 eq Datastream/@iot.id");
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(EqualityOn(**g, "Datastream/@iot.id"));
  auto h = ParseFilter("Datastream/@iot.id eq 5 or result gt 1");
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(EqualityOn(**h, "Datastream/@iot.id"));
}

}  // namespace
}  // namespace bysans::sta
