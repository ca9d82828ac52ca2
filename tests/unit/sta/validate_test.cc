#include <gtest/gtest.h>

#include "sta/query/query.h"

namespace bysans::sta {
namespace {

Status V(std::string_view query, EntitySet set) {
  auto o = ParseQueryOptions(query);
  EXPECT_TRUE(o.ok()) << query << ": " << o.status().message();
  return o.ok() ? Validate(*o, set) : Status::Ok();
}

TEST(StaSchema, Lookups) {
  EXPECT_EQ(EntitySetByName("Things"), EntitySet::kThings);
  EXPECT_FALSE(EntitySetByName("things"));
  for (EntitySet s : kAllEntitySets) EXPECT_EQ(EntitySetByName(NameOf(s)), s);
  EXPECT_EQ(SingularNameOf(EntitySet::kObservedProperties), "ObservedProperty");
  EXPECT_TRUE(IsProperty(EntitySet::kThings, "name"));
  EXPECT_TRUE(IsProperty(EntitySet::kThings, "id"));
  EXPECT_FALSE(IsProperty(EntitySet::kThings, "Datastreams"));
  auto nav = Navigation(EntitySet::kThings, "Datastreams");
  ASSERT_TRUE(nav);
  EXPECT_EQ(nav->target, EntitySet::kDatastreams);
  EXPECT_TRUE(nav->to_many);
  auto one = Navigation(EntitySet::kObservations, "FeatureOfInterest");
  ASSERT_TRUE(one);
  EXPECT_FALSE(one->to_many);
  EXPECT_FALSE(Navigation(EntitySet::kThings, "Sensor"));
  EXPECT_TRUE(IsNavigationName("HistoricalLocations"));
  EXPECT_FALSE(IsNavigationName("name"));
}

TEST(StaValidate, KnownNamesPass) {
  EXPECT_TRUE(V("$filter=Datastreams/Observations/result gt 0 and properties/owner eq 'x'",
                EntitySet::kThings)
                  .ok());
  EXPECT_TRUE(V("$select=id,name,Datastreams&$orderby=name desc", EntitySet::kThings).ok());
  EXPECT_TRUE(V("$orderby=Datastream/name", EntitySet::kObservations).ok());
  EXPECT_TRUE(V("$expand=Datastreams($expand=Observations($filter=result gt 1;$select=result;"
                "$orderby=phenomenonTime)),Locations",
                EntitySet::kThings)
                  .ok());
  EXPECT_TRUE(V("$expand=Datastreams/Sensor($select=name)", EntitySet::kThings).ok());
  EXPECT_TRUE(V("$filter=st_within(location, geography'POINT(1 2)')", EntitySet::kLocations).ok());
}

TEST(StaValidate, UnknownNamesAreNamed) {
  Status s = V("$filter=colour eq 'red'", EntitySet::kThings);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "$filter: unknown property 'colour' of Things at position 0");
  EXPECT_EQ(V("$filter=Datastreams/Things/name eq 'x'", EntitySet::kThings).message(),
            "$filter: unknown navigation property 'Things' of Datastreams at position 0");
  EXPECT_EQ(V("$filter=Datastreams/Sensors/name eq 'x'", EntitySet::kThings).message(),
            "$filter: unknown property 'Sensors' of Datastreams at position 0");
  EXPECT_EQ(V("$filter=Datastreams eq 1", EntitySet::kThings).code(), Code::kInvalidArgument);
  EXPECT_EQ(V("$filter=id eq 1 or name/x eq 1", EntitySet::kThings).message(),
            "$filter: property 'name' of Things has no members ('name/x') at position 11");
  EXPECT_EQ(V("$select=name,%20colour", EntitySet::kThings).message(),
            "$select: unknown property 'colour' of Things at position 6");
  EXPECT_EQ(V("$orderby=name,colour", EntitySet::kThings).message(),
            "$orderby: unknown property 'colour' of Things at position 5");
  EXPECT_EQ(V("$orderby=Datastreams", EntitySet::kThings).code(), Code::kInvalidArgument);
  EXPECT_EQ(V("$expand=Sensors", EntitySet::kThings).message(),
            "$expand: unknown navigation property 'Sensors' of Things at position 0");
  EXPECT_EQ(V("$expand=Datastreams($filter=colour eq 1)", EntitySet::kThings).message(),
            "$expand: unknown property 'colour' of Datastreams at position 20");
  EXPECT_EQ(
      V("$expand=Datastreams($expand=Observations($select=colour))", EntitySet::kThings).message(),
      "$expand: unknown property 'colour' of Observations at position 41");
}

}  // namespace
}  // namespace bysans::sta
