// SensorThings location history (issue 17): organisation B must not see A's Locations and
// HistoricalLocations (past locations of A's devices) through any path, listing, $expand, $filter
// or $count, nor change or delete them; A's own users do. MQTT: tests/integration/
// sta_mqtt_entities_test.cc.
#include <set>

#include "integration/sta_fixture.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

class StaHistorySecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    // A's device moves three times (REST API).
    for (const auto& [lat, lon] : std::vector<std::pair<double, double>>{
             {56.1111, 10.2222}, {56.3333, 10.4444}, {56.5555, 10.6666}}) {
      auto patch = Send(*a_.admin.client, "PATCH", a_.DevicePath(),
                        {{"location", {{"lat", lat}, {"lon", lon}}}});
      ASSERT_EQ(patch.status, 200) << patch.body;
    }
    json h = StaGet(*a_.viewer.client,
                    "Things(" + std::to_string(a_.device.device_id) + ")/HistoricalLocations")
                 .second["value"];
    ASSERT_EQ(h.size(), 3u) << h.dump();
    for (const json& e : h) history_a_.push_back(e["@iot.id"].get<int64_t>());
  }
  std::vector<int64_t> history_a_;
};

TEST_F(StaHistorySecurityTest, AnotherOrganisationsHistoryIsInvisible) {
  for (int64_t id : history_a_) {
    const std::string n = std::to_string(id);
    for (const std::string& path :
         {"HistoricalLocations(" + n + ")", "HistoricalLocations(" + n + ")/Locations",
          "HistoricalLocations(" + n + ")/Thing", "Locations(" + n + ")",
          "Locations(" + n + ")/HistoricalLocations", "Locations(" + n + ")/Things",
          "HistoricalLocations(" + n + ")/time"}) {
      EXPECT_EQ(StaGet(*b_.admin.client, path).first, 404) << "B read " << path;
      EXPECT_EQ(StaGet(*a_.viewer.client, path).first, 200) << "A cannot read " << path;
    }
  }
  for (const char* set : {"HistoricalLocations", "Locations"}) {
    auto [status, body] =
        StaGet(*b_.admin.client, set, {{"$count", "true"}, {"$expand", "Locations,Thing,Things"}});
    if (status == 400)  // not every set has every navigation: expand what it has
      std::tie(status, body) = StaGet(*b_.admin.client, set, {{"$count", "true"}});
    ASSERT_EQ(status, 200) << body.dump();
    EXPECT_EQ(body["@iot.count"], 0) << set << ": " << body.dump();
    EXPECT_EQ(StaGet(*a_.viewer.client, set, {{"$count", "true"}}).second["@iot.count"], 3) << set;
  }
  // Through $filter and $expand on B's own Things.
  for (const std::string& filter : {std::string("HistoricalLocations/time ge 2000-01-01T00:00:00Z"),
                                    std::string("Locations/name ne 'x'")}) {
    json b = StaGet(*b_.admin.client, "Things", {{"$filter", filter}}).second;
    EXPECT_EQ(b["value"].size(), 0u) << filter << ": " << b.dump();
    EXPECT_EQ(StaGet(*a_.viewer.client, "Things", {{"$filter", filter}}).second["value"].size(), 1u)
        << filter;
  }
  const std::string text =
      StaGet(*b_.admin.client, "Things", {{"$expand", "HistoricalLocations($expand=Locations)"}})
          .second.dump();
  for (const char* coordinate : {"56.1111", "56.3333", "56.5555", "10.2222"})
    EXPECT_EQ(text.find(coordinate), std::string::npos) << text;
}

TEST_F(StaHistorySecurityTest, AnotherOrganisationCannotChangeOrDeleteIt) {
  const std::string past = "Locations(" + std::to_string(history_a_[0]) + ")";
  const std::string now = "Locations(" + std::to_string(history_a_.back()) + ")";
  json point = {{"location", {{"type", "Point"}, {"coordinates", {1.0, 2.0}}}}};
  for (const std::string& loc : {past, now}) {
    EXPECT_EQ(
        b_.admin.client
            ->Request("PATCH", "/sta/v1.1/" + loc, point.dump(), {"Content-Type: application/json"})
            .status,
        404)
        << loc;
    EXPECT_EQ(b_.admin.client->Request("DELETE", "/sta/v1.1/" + loc).status, 404) << loc;
    // A's viewer may not either (403); the entry is still there.
    EXPECT_EQ(a_.viewer.client->Request("DELETE", "/sta/v1.1/" + loc).status, 403) << loc;
    EXPECT_EQ(StaGet(*a_.viewer.client, loc).first, 200) << loc;
  }
  // A's editor may.
  EXPECT_EQ(
      a_.editor.client
          ->Request("PATCH", "/sta/v1.1/" + now, point.dump(), {"Content-Type: application/json"})
          .status,
      200);
  EXPECT_EQ(a_.editor.client->Request("DELETE", "/sta/v1.1/" + past).status, 204);
}

}  // namespace
}  // namespace bysans::testing
