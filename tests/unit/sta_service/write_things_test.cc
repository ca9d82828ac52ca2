// A SensorThings Thing body -> the REST device body (sta/write_things.h). Pure: no store.
#include "sta/write_things.h"

#include <gtest/gtest.h>

namespace bysans::sta {
namespace {

using json = nlohmann::json;

TEST(WriteThingsTest, CreateBecomesAnHttpDeviceBody) {
  json body = {
      {"name", "Station"},
      {"description", "not kept"},
      {"properties", {{"application", {{"id", 7}}}, {"tags", {"t"}}, {"metadata", {{"k", "v"}}}}},
      {"Locations",
       {{{"name", "here"},
         {"encodingType", "application/vnd.geo+json"},
         {"location", {{"type", "Point"}, {"coordinates", {12.5, 55.7}}}}}}}};
  auto got = ParseThing(body, true);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->app_id, 7);
  EXPECT_EQ(got->device, (json{{"transport", "http"},
                               {"name", "Station"},
                               {"tags", {"t"}},
                               {"metadata", {{"k", "v"}}},
                               {"location", {{"lat", 55.7}, {"lon", 12.5}}}}));
}

TEST(WriteThingsTest, PatchAndItsLimits) {
  auto cleared = ParseThing({{"Locations", json::array()}}, false);
  ASSERT_TRUE(cleared.ok());
  EXPECT_TRUE(cleared->device["location"].is_null());
  EXPECT_FALSE(cleared->device.contains("transport"));
  for (const json& bad :
       {json{{"properties", {{"application", {{"id", 1}}}}}}, json{{"name", ""}}, json{{"name", 3}},
        json{{"Datastreams", json::array()}}, json{{"HistoricalLocations", json::array()}},
        json{{"@iot.id", 1}}, json{{"properties", {{"transport", "mqtt"}}}},
        json{{"Locations", {{{"@iot.id", 1}}}}},
        json{{"Locations", {json::object(), json::object()}}},
        json{{"Locations", {{{"location", {{"type", "Point"}, {"coordinates", {1}}}}}}}},
        json::array()})
    EXPECT_FALSE(ParseThing(bad, false).ok()) << bad.dump();
  EXPECT_FALSE(ParseThing({{"name", "x"}}, true).ok());  // no application
  EXPECT_FALSE(ParseThing({{"properties", {{"application", {{"id", 1}}}}}}, true).ok());  // no name
}

}  // namespace
}  // namespace bysans::sta
