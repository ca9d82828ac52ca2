// SensorThings receive-updates for entities (OGC 18-088 14.2, A.8; sta/entity_changes.h,
// server/sta_mqtt.h) against the real server and its supervised Mosquitto: a key subscribed to
// a Thing's or Datastream's topics receives the entity when it changes, {"<property>": value}
// on the property topic, the new Location and HistoricalLocation when the Thing moves and a new
// Datastream on the Thing's Datastreams, each as GET answers it; another organisation's key
// receives none of it.
#include <set>

#include "integration/backend_fixture.h"
#include "integration/sta_mqtt_fixture.h"

namespace bysans::testing {
namespace {

class StaMqttEntitiesTest : public MqttTest {
 protected:
  void SetUp() override {
    MqttTest::SetUp();
    dev_ = CreateHttpDevice("Kommune");
    ASSERT_EQ(Ingest(dev_.ingest_key, json{{"ts", kStaT0}, {"temperature", 20.5}}.dump()).status,
              204);
    ds_ = DatastreamId(*admin_, dev_.device_id, "temperature");
    ASSERT_GT(ds_, 0);
    thing_ = "Things(" + std::to_string(dev_.device_id) + ")";
    key_ = CreateMqttKey(*admin_, dev_.org_id, "viewer");
    sub_ = ConnectKey(MqttUrl(), key_);
    ASSERT_NE(sub_, nullptr);
  }
  HttpResult PatchDevice(int64_t id, const json& body) {
    return admin_->Request("PATCH", "/api/v1/devices/" + std::to_string(id), body.dump(),
                           {"Content-Type: application/json"});
  }
  // The n-th message received, which must be on `topic`; its payload as JSON.
  json Expect(size_t n, const std::string& topic) {
    auto msg = sub_->Received(n);
    if (!msg) {
      ADD_FAILURE() << "no message " << n << " (expected on " << topic << ")";
      return json();
    }
    EXPECT_EQ(msg->first, topic) << msg->second;
    return json::parse(msg->second, nullptr, false);
  }
  // GET of an entity's selfLink.
  json Get(const json& entity) {
    const std::string link = entity.value("@iot.selfLink", "");
    auto r = admin_->Get(link.substr(link.find("/sta/")));
    EXPECT_EQ(r.status, 200) << link << ": " << r.body;
    return r.Json();
  }

  DeviceHandle dev_;
  int64_t ds_ = 0;
  std::string thing_;
  MqttKey key_;
  std::unique_ptr<Peer> sub_;
};
using StaMqttEntitiesOnBothStores = OnBothStores<StaMqttEntitiesTest>;
BYSANS_ON_BOTH_STORES(StaMqttEntitiesOnBothStores);

// A.8 receive-updates, entity and property topics: a Thing changed (its name) is published on
// v1.1/Things(<id>) as GET answers it and on v1.1/Things(<id>)/name as {"name": ...}.
TEST_P(StaMqttEntitiesOnBothStores, ThingUpdatesOnEntityAndPropertyTopics) {
  ASSERT_TRUE(sub_->Subscribe("v1.1/" + thing_ + "/#"));
  ASSERT_EQ(PatchDevice(dev_.device_id, {{"name", "Rådhuspladsen"}}).status, 200);
  json thing = Expect(0, "v1.1/" + thing_);
  EXPECT_EQ(thing["name"], "Rådhuspladsen");
  EXPECT_EQ(thing, Get(thing));
  EXPECT_EQ(Expect(1, "v1.1/" + thing_ + "/name"), json({{"name", "Rådhuspladsen"}}));
  // Tags are part of properties.
  ASSERT_EQ(PatchDevice(dev_.device_id, {{"tags", {"trafik"}}}).status, 200);
  Expect(2, "v1.1/" + thing_);
  json props = Expect(3, "v1.1/" + thing_ + "/properties");
  EXPECT_EQ(props["properties"]["tags"], json({"trafik"})) << props.dump();
}

// A.8, navigation topics of a Thing's location history: each move (REST API, SensorThings PATCH
// of the Thing, POST of a Location) publishes the new Location on v1.1/Things(<id>)/Locations
// and its HistoricalLocation on v1.1/Things(<id>)/HistoricalLocations, as GET answers them.
TEST_P(StaMqttEntitiesOnBothStores, LocationChangesOnTheThingsLocationsAndHistoricalLocations) {
  ASSERT_TRUE(sub_->Subscribe("v1.1/" + thing_ + "/#"));
  ASSERT_EQ(PatchDevice(dev_.device_id, {{"location", {{"lat", 55.0}, {"lon", 12.0}}}}).status,
            200);
  auto sta_patch = admin_->Request(
      "PATCH", "/sta/v1.1/" + thing_,
      json{{"Locations",
            json::array({{{"encodingType", "application/geo+json"},
                          {"location", {{"type", "Point"}, {"coordinates", {10.0, 56.0}}}}}})}}
          .dump(),
      {"Content-Type: application/json"});
  ASSERT_EQ(sta_patch.status, 200) << sta_patch.body;
  ASSERT_EQ(admin_
                ->PostJson("/sta/v1.1/" + thing_ + "/Locations",
                           {{"location", {{"type", "Point"}, {"coordinates", {9.0, 57.0}}}}})
                .status,
            201);
  const std::vector<json> places = {{12.0, 55.0}, {10.0, 56.0}, {9.0, 57.0}};
  std::set<int64_t> ids;
  for (size_t i = 0; i < places.size(); ++i) {
    json loc = Expect(2 * i, "v1.1/" + thing_ + "/Locations");
    EXPECT_EQ(loc["location"]["coordinates"], places[i]) << loc.dump();
    EXPECT_EQ(loc, Get(loc));
    json hl = Expect(2 * i + 1, "v1.1/" + thing_ + "/HistoricalLocations");
    EXPECT_EQ(hl, Get(hl));
    EXPECT_EQ(hl["@iot.id"], loc["@iot.id"]);  // the HistoricalLocation of that Location
    ids.insert(loc["@iot.id"].get<int64_t>());
  }
  EXPECT_EQ(ids.size(), places.size());
}

// A.8, navigation topic v1.1/Things(<id>)/Datastreams: a Datastream created by POST, and one
// created by the device's first reading of a key, are published there as GET answers them.
TEST_P(StaMqttEntitiesOnBothStores, NewDatastreamsOnTheThingsDatastreams) {
  ASSERT_TRUE(sub_->Subscribe("v1.1/" + thing_ + "/Datastreams"));
  auto created = admin_->PostJson(
      "/sta/v1.1/" + thing_ + "/Datastreams",
      {{"name", "NO2"},
       {"description", "x"},
       {"unitOfMeasurement", {{"name", "ug/m3"}, {"symbol", "ug/m3"}, {"definition", "x"}}},
       {"observationType", "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"},
       {"ObservedProperty", {{"name", "air.no2"}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  json ds = Expect(0, "v1.1/" + thing_ + "/Datastreams");
  EXPECT_EQ(ds["@iot.id"], created.Json()["@iot.id"]);
  EXPECT_EQ(ds, Get(ds));
  ASSERT_EQ(Ingest(dev_.ingest_key, json{{"ts", kStaT0}, {"humidity", 40}}.dump()).status, 204);
  json by_reading = Expect(1, "v1.1/" + thing_ + "/Datastreams");
  EXPECT_EQ(by_reading["properties"]["key"], "humidity") << by_reading.dump();
  EXPECT_EQ(by_reading["@iot.id"], DatastreamId(*admin_, dev_.device_id, "humidity"));
}

// A.8, entity and property topics of a Datastream: PATCH of its unit publishes the Datastream
// on v1.1/Datastreams(<id>) and {"unitOfMeasurement": ...} on its property topic.
TEST_P(StaMqttEntitiesOnBothStores, DatastreamUpdatesOnEntityAndPropertyTopics) {
  const std::string ds = "Datastreams(" + std::to_string(ds_) + ")";
  ASSERT_TRUE(sub_->Subscribe("v1.1/" + ds + "/#"));
  auto patch = admin_->Request(
      "PATCH", "/sta/v1.1/" + ds,
      json{{"unitOfMeasurement", {{"name", "degree Celsius"}, {"symbol", "Cel"}}}}.dump(),
      {"Content-Type: application/json"});
  ASSERT_EQ(patch.status, 200) << patch.body;
  json entity = Expect(0, "v1.1/" + ds);
  EXPECT_EQ(entity["unitOfMeasurement"]["symbol"], "Cel");
  EXPECT_EQ(entity, Get(entity));
  json unit = Expect(1, "v1.1/" + ds + "/unitOfMeasurement");
  EXPECT_EQ(unit["unitOfMeasurement"]["symbol"], "Cel") << unit.dump();
}

// Tenancy: another organisation's key subscribed to this Thing's topics receives none of its
// changes or moves, while its own Thing's arrive.
TEST_P(StaMqttEntitiesOnBothStores, AnotherOrganisationsKeyReceivesNothing) {
  DeviceHandle other = CreateHttpDevice("Nabokommune");
  MqttKey other_key = CreateMqttKey(*admin_, other.org_id, "admin");
  auto spy = ConnectKey(MqttUrl(), other_key);
  ASSERT_NE(spy, nullptr);
  const std::string other_thing = "v1.1/Things(" + std::to_string(other.device_id) + ")";
  ASSERT_TRUE(spy->Subscribe("v1.1/" + thing_ + "/#"));
  ASSERT_TRUE(spy->Subscribe("v1.1/#"));
  ASSERT_TRUE(spy->Subscribe(other_thing + "/#"));
  ASSERT_TRUE(sub_->Subscribe("v1.1/" + thing_ + "/#"));
  ASSERT_EQ(PatchDevice(dev_.device_id,
                        {{"name", "Hemmelig"}, {"location", {{"lat", 55.5}, {"lon", 12.5}}}})
                .status,
            200);
  json mine = Expect(0, "v1.1/" + thing_);  // published (to this organisation's key)
  EXPECT_EQ(mine["name"], "Hemmelig");
  // Then the other organisation's own Thing: the first message its key receives.
  ASSERT_EQ(PatchDevice(other.device_id, {{"name", "Egen"}}).status, 200);
  auto first = spy->Received(0);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->first, other_thing) << first->second;
  auto second = spy->Received(1, 2);
  if (second) {
    EXPECT_EQ(second->first.rfind(other_thing, 0), 0u) << second->first;
  }
  auto third = spy->Received(2, 1);
  EXPECT_FALSE(third.has_value()) << third->first << ": " << third->second;
}

// What is served of A.8 is not the whole class (no entity-set topics, no $select): the service
// root does not claim it (src/sta/README.md "MQTT").
TEST_P(StaMqttEntitiesOnBothStores, ReceiveUpdatesIsNotClaimed) {
  auto [status, root] = StaGet(*admin_, "");
  ASSERT_EQ(status, 200);
  const json conformance = root["serverSettings"]["conformance"];
  ASSERT_TRUE(conformance.is_array()) << root.dump();
  for (const json& c : conformance)
    EXPECT_EQ(c.get<std::string>().find("receive-updates"), std::string::npos) << c;
}

}  // namespace
}  // namespace bysans::testing
