// SensorThings Locations and HistoricalLocations over a device's location history (issue 17;
// store.h MetaStore::ListDeviceLocations): every change of a device's location, whichever API
// made it, is a HistoricalLocation timed at its commit and linked to its own Location and to the
// Thing; navigation both ways, $expand, $filter and $orderby on time. Tenancy:
// tests/security/sta_history_test.cc.
#include <set>

#include "integration/backend_fixture.h"
#include "integration/sta_fixture.h"

namespace bysans::testing {
namespace {

class StaHistoryTest : public BackendServerTest {
 protected:
  void SetUp() override {
    BackendServerTest::SetUp();
    base_ = CreateHttpDevice("Kommune");
    // Created with a location (REST), moved by the REST API, by PATCH of the Thing, by POST of a
    // Location: four entries.
    auto dev = admin_->PostJson(
        "/api/v1/applications/" + std::to_string(base_.app_id) + "/devices",
        {{"name", "Flyttet"}, {"transport", "http"}, {"location", {{"lat", 55.0}, {"lon", 12.0}}}});
    ASSERT_EQ(dev.status, 201) << dev.body;
    id_ = dev.Json()["id"].get<int64_t>();
    thing_ = "Things(" + std::to_string(id_) + ")";
    auto rest = admin_->Request("PATCH", "/api/v1/devices/" + std::to_string(id_),
                                json{{"location", {{"lat", 56.0}, {"lon", 10.0}}}}.dump(),
                                {"Content-Type: application/json"});
    ASSERT_EQ(rest.status, 200) << rest.body;
    auto thing = admin_->Request(
        "PATCH", "/sta/v1.1/" + thing_,
        json{{"Locations",
              json::array({{{"encodingType", "application/geo+json"},
                            {"location", {{"type", "Point"}, {"coordinates", {9.0, 57.0}}}}}})}}
            .dump(),
        {"Content-Type: application/json"});
    ASSERT_EQ(thing.status, 200) << thing.body;
    auto post = admin_->PostJson("/sta/v1.1/" + thing_ + "/Locations",
                                 {{"encodingType", "application/geo+json"},
                                  {"location", {{"type", "Point"}, {"coordinates", {8.0, 55.5}}}}});
    ASSERT_EQ(post.status, 201) << post.body;
  }
  json Ok(const std::string& path, const std::vector<std::pair<std::string, std::string>>& q = {}) {
    auto [status, body] = StaGet(*admin_, path, q);
    EXPECT_EQ(status, 200) << path << ": " << body.dump();
    return body;
  }
  // The Thing's HistoricalLocations, oldest first, with their Locations expanded.
  json History() {
    return Ok(thing_ + "/HistoricalLocations",
              {{"$orderby", "time asc,@iot.id asc"}, {"$expand", "Locations"}})["value"];
  }

  DeviceHandle base_;
  int64_t id_ = 0;
  std::string thing_;
};

const std::vector<std::pair<double, double>> kPlaces = {
    {12.0, 55.0}, {10.0, 56.0}, {9.0, 57.0}, {8.0, 55.5}};  // (lon, lat)

BYSANS_ON_BOTH_STORES(StaHistoryTest);

// Every change, through each API, is one HistoricalLocation in commit order with the Location
// the Thing was at; the newest is the Thing's current Location.
TEST_P(StaHistoryTest, EveryLocationChangeIsAHistoricalLocation) {
  json h = History();
  ASSERT_EQ(h.size(), kPlaces.size()) << h.dump();
  std::string previous;
  std::set<int64_t> locations;
  for (size_t i = 0; i < h.size(); ++i) {
    ASSERT_EQ(h[i]["Locations"].size(), 1u) << h[i].dump();
    const json& loc = h[i]["Locations"][0];
    EXPECT_EQ(loc["location"]["coordinates"], json({kPlaces[i].first, kPlaces[i].second}))
        << i << ": " << h.dump();
    locations.insert(loc["@iot.id"].get<int64_t>());
    const std::string time = h[i]["time"].get<std::string>();
    EXPECT_GE(time, previous);
    previous = time;
  }
  EXPECT_EQ(locations.size(), kPlaces.size());  // each its own Location
  json current = Ok(thing_ + "/Locations")["value"];
  ASSERT_EQ(current.size(), 1u);
  EXPECT_EQ(current[0]["@iot.id"], h.back()["Locations"][0]["@iot.id"]);
  // Setting the same location again is no change.
  auto same = admin_->Request("PATCH", "/api/v1/devices/" + std::to_string(id_),
                              json{{"location", {{"lat", 55.5}, {"lon", 8.0}}}}.dump(),
                              {"Content-Type: application/json"});
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(History().size(), kPlaces.size());
  // Every Location and HistoricalLocation is in the entity sets.
  EXPECT_EQ(Ok("HistoricalLocations")["value"].size(), kPlaces.size());
  EXPECT_EQ(Ok("Locations")["value"].size(), kPlaces.size());
}

// req/datamodel: HistoricalLocation -> Thing, Locations; Location -> Things, HistoricalLocations;
// Thing -> HistoricalLocations, Locations; as paths, $expand and $ref.
TEST_P(StaHistoryTest, NavigationBothWays) {
  json h = History();
  ASSERT_EQ(h.size(), kPlaces.size());
  for (const json& entry : h) {
    const std::string hl =
        "HistoricalLocations(" + std::to_string(entry["@iot.id"].get<int64_t>()) + ")";
    EXPECT_EQ(Ok(hl + "/Thing")["@iot.id"], id_);
    json locs = Ok(hl + "/Locations")["value"];
    ASSERT_EQ(locs.size(), 1u);
    const std::string loc = "Locations(" + std::to_string(locs[0]["@iot.id"].get<int64_t>()) + ")";
    json back = Ok(loc + "/HistoricalLocations")["value"];
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0]["@iot.id"], entry["@iot.id"]);
    EXPECT_EQ(Ok(loc + "/Things")["value"][0]["@iot.id"], id_);
    EXPECT_EQ(Ok(loc + "/HistoricalLocations/$ref")["value"].size(), 1u);
    EXPECT_EQ(Ok(hl + "/Locations(" + std::to_string(locs[0]["@iot.id"].get<int64_t>()) +
                 ")")["location"]["coordinates"],
              locs[0]["location"]["coordinates"]);
  }
  json t =
      Ok(thing_, {{"$expand", "HistoricalLocations($orderby=time desc;$top=1;$expand=Locations)"}});
  ASSERT_EQ(t["HistoricalLocations"].size(), 1u) << t.dump();
  EXPECT_EQ(t["HistoricalLocations"][0]["Locations"][0]["location"]["coordinates"],
            json({8.0, 55.5}));
  // Things with a HistoricalLocation since a time: $filter through the navigation.
  json at =
      Ok("Things", {{"$filter", "HistoricalLocations/time ge " + h[0]["time"].get<std::string>()}});
  ASSERT_EQ(at["value"].size(), 1u) << at.dump();
  EXPECT_EQ(at["value"][0]["@iot.id"], id_);
}

// req/query-options: $filter and $orderby on time.
TEST_P(StaHistoryTest, FilterAndOrderOnTime) {
  json h = History();
  ASSERT_EQ(h.size(), kPlaces.size());
  const std::string second = h[1]["time"].get<std::string>();
  size_t later = 0;  // as served: entries with a time after the second's
  for (const json& e : h) later += e["time"].get<std::string>() > second;
  json got = Ok(thing_ + "/HistoricalLocations", {{"$filter", "time gt " + second}})["value"];
  EXPECT_EQ(got.size(), later) << got.dump();
  for (const json& e : got) EXPECT_GT(e["time"].get<std::string>(), second);
  EXPECT_EQ(
      Ok("HistoricalLocations", {{"$filter", "time lt 2000-01-01T00:00:00Z"}})["value"].size(), 0u);
  EXPECT_EQ(
      Ok("HistoricalLocations", {{"$filter", "time ge 2000-01-01T00:00:00Z"}})["value"].size(),
      kPlaces.size());
  json desc = Ok(thing_ + "/HistoricalLocations", {{"$orderby", "time desc"}})["value"];
  ASSERT_EQ(desc.size(), kPlaces.size());
  for (size_t i = 1; i < desc.size(); ++i)
    EXPECT_GE(desc[i - 1]["time"].get<std::string>(), desc[i]["time"].get<std::string>());
  EXPECT_EQ(Ok(thing_ + "/HistoricalLocations", {{"$count", "true"}, {"$top", "1"}})["@iot.count"],
            kPlaces.size());
}

// Deleting the Thing removes its history.
TEST_P(StaHistoryTest, DeletingTheThingRemovesItsHistory) {
  json h = History();
  ASSERT_EQ(h.size(), kPlaces.size());
  ASSERT_EQ(admin_->Request("DELETE", "/api/v1/devices/" + std::to_string(id_)).status, 204);
  for (const json& e : h) {
    const std::string id = std::to_string(e["@iot.id"].get<int64_t>());
    EXPECT_EQ(StaGet(*admin_, "HistoricalLocations(" + id + ")").first, 404);
    const std::string loc = std::to_string(e["Locations"][0]["@iot.id"].get<int64_t>());
    EXPECT_EQ(StaGet(*admin_, "Locations(" + loc + ")").first, 404);
  }
  EXPECT_EQ(Ok("HistoricalLocations")["value"].size(), 0u);
}

}  // namespace
}  // namespace bysans::testing
