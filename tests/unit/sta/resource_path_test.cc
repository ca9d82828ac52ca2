#include <gtest/gtest.h>

#include "sta/query/query.h"

namespace bysans::sta {
namespace {

ResourcePath Path(std::string_view p) {
  auto r = ParseResourcePath(p);
  EXPECT_TRUE(r.ok()) << p << ": " << r.status().message();
  return r.ok() ? *r : ResourcePath{};
}

TEST(StaResourcePath, Shapes) {
  ResourcePath a = Path("Things(1)/Datastreams");
  ASSERT_EQ(a.segments.size(), 2u);
  EXPECT_EQ(a.segments[0].name, "Things");
  EXPECT_EQ(a.segments[0].id, "1");
  EXPECT_EQ(a.segments[1].name, "Datastreams");
  EXPECT_FALSE(a.segments[1].id);
  EXPECT_EQ(TargetOf(a).set, EntitySet::kDatastreams);
  EXPECT_FALSE(TargetOf(a).single);

  ResourcePath b = Path("/Datastreams(5)/Thing/name/$value");
  EXPECT_EQ(b.segments.size(), 2u);
  EXPECT_EQ(b.property, "name");
  EXPECT_TRUE(b.value);
  EXPECT_EQ(TargetOf(b).set, EntitySet::kThings);
  EXPECT_TRUE(TargetOf(b).single);

  EXPECT_TRUE(Path("Things/$ref").ref);
  ResourcePath c = Path("Things(1)/Datastreams/$ref");
  EXPECT_TRUE(c.ref);
  EXPECT_EQ(c.segments.size(), 2u);
  EXPECT_EQ(Path("Things(1)/properties/owner").property, "properties/owner");
  EXPECT_EQ(Path("Things(1)/properties/owner/name/$value").property, "properties/owner/name");
  EXPECT_EQ(Path("Things('a''b%20c')").segments[0].id, "a'b c");
  EXPECT_EQ(Path("Things(1)/id").property, "@iot.id");
  ResourcePath d = Path("Things(1)/Datastreams(7)/Observations");
  EXPECT_EQ(d.segments[1].id, "7");
  EXPECT_EQ(TargetOf(d).set, EntitySet::kObservations);
  EXPECT_TRUE(TargetOf(Path("Observations(3)/FeatureOfInterest")).single);
  EXPECT_EQ(Path("Things").segments.size(), 1u);
}

TEST(StaResourcePath, Errors) {
  auto code = [](std::string_view p) { return ParseResourcePath(p).status().code(); };
  EXPECT_EQ(code("Widgets(1)"), Code::kNotFound);
  EXPECT_EQ(code("Things(1)/Sensors"), Code::kNotFound);
  EXPECT_EQ(code("Things(1)/colour"), Code::kNotFound);
  EXPECT_EQ(code("Things(1)/name/first"), Code::kNotFound);
  EXPECT_EQ(code("Things(1"), Code::kInvalidArgument);
  EXPECT_EQ(code("Things()"), Code::kInvalidArgument);
  EXPECT_EQ(code("Things(abc)"), Code::kInvalidArgument);
  EXPECT_EQ(code("Things('abc)"), Code::kInvalidArgument);
  EXPECT_EQ(code("Datastreams(1)/Thing(2)"), Code::kInvalidArgument);
  EXPECT_EQ(code("Things/Datastreams"), Code::kInvalidArgument);
  EXPECT_EQ(code("Things/name"), Code::kInvalidArgument);
  EXPECT_EQ(code("Things(1)/$value"), Code::kInvalidArgument);
  EXPECT_EQ(code("Things/$ref/name"), Code::kInvalidArgument);
  EXPECT_EQ(code("Things(1)/name/$ref"), Code::kInvalidArgument);
  EXPECT_EQ(code(""), Code::kInvalidArgument);
  EXPECT_EQ(code("Things(1)//Datastreams"), Code::kInvalidArgument);
  EXPECT_EQ(ParseResourcePath("Things(1").status().message(), "unbalanced '(' at position 6");
}

}  // namespace
}  // namespace bysans::sta
