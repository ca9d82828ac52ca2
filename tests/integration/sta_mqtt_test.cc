// SensorThings over MQTT (OGC 18-088 section 14; server/sta_mqtt.h) against the real server and
// its supervised Mosquitto: one test per requirement claimed.
//  A.7 req/create-observations-via-mqtt/observations-creation: an Observation published on
//      v1.1/Datastreams(<id>)/Observations is created (acknowledged after the commit).
//  A.8 (partly, not listed in the conformance): a subscriber to v1.1/Datastreams(<id>)/Observations
//      receives each new Observation as GET answers it.
#include <regex>

#include "integration/backend_fixture.h"
#include "integration/sta_mqtt_fixture.h"

namespace bysans::testing {
namespace {

constexpr const char* kCreateClass =
    "http://www.opengis.net/spec/iot_sensing/1.1/req/create-observations-via-mqtt/"
    "observations-creation";

class StaMqttTest : public MqttTest {
 protected:
  void SetUp() override {
    MqttTest::SetUp();
    dev_ = CreateHttpDevice("Kommune");
    ASSERT_EQ(Ingest(dev_.ingest_key, json{{"ts", kStaT0}, {"temperature", 20.5}}.dump()).status,
              204);
    ds_ = DatastreamId(*admin_, dev_.device_id, "temperature");
    ASSERT_GT(ds_, 0);
  }

  // The Observations of the Datastream, oldest first.
  json Observations() {
    auto [status, body] = StaGet(*admin_, "Datastreams(" + std::to_string(ds_) + ")/Observations",
                                 {{"$orderby", "phenomenonTime asc"}});
    EXPECT_EQ(status, 200) << body.dump();
    return body["value"];
  }

  DeviceHandle dev_;
  int64_t ds_ = 0;
};

BYSANS_SHARED_POSTGRES_ENVIRONMENT();
using StaMqttOnBothStores = OnBothStores<StaMqttTest>;
BYSANS_ON_BOTH_STORES(StaMqttOnBothStores);

TEST_P(StaMqttOnBothStores, ServiceRootListsTheCreateClassAndTheBrokerEndpoint) {
  auto [status, root] = StaGet(*admin_, "");
  ASSERT_EQ(status, 200) << root.dump();
  const json& conf = root["serverSettings"]["conformance"];
  EXPECT_NE(std::find(conf.begin(), conf.end(), kCreateClass), conf.end()) << root.dump();
  ASSERT_TRUE(root["serverSettings"].contains(kCreateClass)) << root.dump();
  EXPECT_EQ(root["serverSettings"][kCreateClass]["endpoints"][0], MqttUrl());
}

TEST_P(StaMqttOnBothStores, ApiKeyWithMqttIsABrokerUserAndOthersAreNot) {
  MqttKey k = CreateMqttKey(*admin_, dev_.org_id, "viewer");
  EXPECT_EQ(k.user, "sta-" + std::to_string(k.id));
  EXPECT_NE(ConnectKey(MqttUrl(), k), nullptr);
  // The list shows the flag, never the secret or its hashes.
  auto list = admin_->Get("/api/v1/organizations/" + std::to_string(dev_.org_id) + "/api-keys");
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("\"mqtt\":true"), std::string::npos) << list.body;
  EXPECT_EQ(list.body.find("$7$"), std::string::npos);
  EXPECT_EQ(list.body.find(k.key), std::string::npos);
  MqttKey plain = CreateMqttKey(*admin_, dev_.org_id, "viewer", false);
  int connack = -1;
  EXPECT_EQ(ConnectKey(MqttUrl(), plain, &connack), nullptr);
  EXPECT_NE(connack, 0);
}

// A.8: an entity set reached by navigation (a Datastream's Observations): every new Observation
// arrives with its complete JSON, the same as GET Observations('<id>').
TEST_P(StaMqttOnBothStores, ReceivesNewObservationsOfADatastreamAsGetAnswersThem) {
  MqttKey k = CreateMqttKey(*admin_, dev_.org_id, "viewer");
  auto sub = ConnectKey(MqttUrl(), k);
  ASSERT_NE(sub, nullptr);
  ASSERT_TRUE(sub->Subscribe(DatastreamTopic(ds_)));
  ASSERT_EQ(Ingest(dev_.ingest_key, json{{"ts", kStaT0 + kStaStep}, {"temperature", 21.25}}.dump())
                .status,
            204);
  auto msg = sub->Received(0);
  ASSERT_TRUE(msg.has_value());
  EXPECT_EQ(msg->first, DatastreamTopic(ds_));
  json note = json::parse(msg->second);
  const std::string id = ObservationId(ds_, kStaT0 + kStaStep);
  EXPECT_EQ(note["@iot.id"], id);
  EXPECT_EQ(note["result"], 21.25);
  auto [status, got] = StaGet(*admin_, "Observations('" + id + "')");
  ASSERT_EQ(status, 200);
  // Links are absolute on both; the server's own address on each.
  EXPECT_EQ(note, got) << note.dump() << "\n" << got.dump();
}

// A.7: an Observation published to a Datastream's Observations topic is created, with the
// Datastream as link or without; the PUBACK comes after the commit, so it is readable at once.
TEST_P(StaMqttOnBothStores, CreatesObservationsPublishedToADatastream) {
  MqttKey editor = CreateMqttKey(*admin_, dev_.org_id, "editor");
  auto pub = ConnectKey(MqttUrl(), editor);
  ASSERT_NE(pub, nullptr);
  int mid = pub->Publish(DatastreamTopic(ds_),
                         R"({"phenomenonTime": "2026-01-01T00:10:00Z", "result": 22.5})");
  ASSERT_TRUE(pub->WaitAcked(mid));
  json linked = {{"phenomenonTime", "2026-01-01T00:20:00Z"},
                 {"result", 23},
                 {"Datastream", {{"@iot.id", ds_}}}};
  mid = pub->Publish(DatastreamTopic(ds_), linked.dump());
  ASSERT_TRUE(pub->WaitAcked(mid));
  // The PUBACK comes from the broker; bysans' own commit follows: wait for it (bounded).
  json obs;
  for (int i = 0; i < 100; ++i) {
    obs = Observations();
    if (obs.size() == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(obs.size(), 3u) << obs.dump();
  EXPECT_EQ(obs[1]["result"], 22.5);
  EXPECT_EQ(obs[1]["phenomenonTime"], "2026-01-01T00:10:00.000Z");
  EXPECT_TRUE(obs[1]["resultQuality"].is_string()) << obs.dump();  // the quality checks ran
  EXPECT_EQ(obs[2]["result"], 23);
}

// Created Observations are ingest: the quality checks, rules and subscribers see them like a
// device's own readings; and a subscriber of the Datastream is notified of them.
TEST_P(StaMqttOnBothStores, CreatedObservationsAreNotifiedToSubscribers) {
  MqttKey viewer = CreateMqttKey(*admin_, dev_.org_id, "viewer");
  MqttKey editor = CreateMqttKey(*admin_, dev_.org_id, "editor");
  auto sub = ConnectKey(MqttUrl(), viewer);
  ASSERT_NE(sub, nullptr);
  ASSERT_TRUE(sub->Subscribe(DatastreamTopic(ds_)));
  auto pub = ConnectKey(MqttUrl(), editor);
  ASSERT_NE(pub, nullptr);
  ASSERT_GE(pub->Publish(DatastreamTopic(ds_), R"({"phenomenonTime": "2026-01-01T00:30:00Z",
                                                    "result": 19})"),
            0);
  // The subscriber sees the publish itself (same topic) and then bysans' notification.
  std::optional<json> note;
  for (size_t i = 0; i < 2 && !note; ++i) {
    auto msg = sub->Received(i);
    ASSERT_TRUE(msg.has_value());
    json j = json::parse(msg->second);
    if (j.contains("@iot.id")) note = j;
  }
  ASSERT_TRUE(note.has_value());
  EXPECT_EQ((*note)["@iot.id"], ObservationId(ds_, kStaT0 + 3 * kStaStep));
  EXPECT_EQ((*note)["result"], 19);
}

// A bad message is acknowledged (no redelivery loop), counted, and creates nothing; the next
// good one is created.
TEST_P(StaMqttOnBothStores, BadMessagesAreAcknowledgedAndCreateNothing) {
  MqttKey editor = CreateMqttKey(*admin_, dev_.org_id, "editor");
  auto pub = ConnectKey(MqttUrl(), editor);
  ASSERT_NE(pub, nullptr);
  const std::vector<std::string> bad = {
      "not json",
      R"({"result": "a string in a numeric Datastream"})",
      R"({"result": 1, "Datastream": {"@iot.id": 999999}})",
      R"({"result": 1, "FeatureOfInterest": {"name": "x"}})",
      std::string(100, '[') + std::string(100, ']'),
  };
  for (const std::string& body : bad) {
    int mid = pub->Publish(DatastreamTopic(ds_), body);
    ASSERT_TRUE(pub->WaitAcked(mid)) << body;
  }
  int mid = pub->Publish(DatastreamTopic(ds_),
                         R"({"phenomenonTime": "2026-01-01T00:40:00Z", "result": 18})");
  ASSERT_TRUE(pub->WaitAcked(mid));
  json obs;
  for (int i = 0; i < 100; ++i) {
    obs = Observations();
    if (obs.size() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(obs.size(), 2u) << obs.dump();
  EXPECT_EQ(obs[1]["result"], 18);
  auto metrics = admin_->Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      metrics.body, m, std::regex(R"(bysans_sta_mqtt_creates_total\{result="bad_body"\} (\d+))")))
      << metrics.body;
  EXPECT_EQ(std::stoi(m[1]), 5);
  EXPECT_EQ(admin_->Get("/healthz").status, 200);
}

// A Datastream that appears after the key was created reaches the key's ACL (within the
// refresh interval): its subscriber then receives its Observations.
TEST_P(StaMqttOnBothStores, NewDatastreamsReachTheAcl) {
  MqttKey viewer = CreateMqttKey(*admin_, dev_.org_id, "viewer");
  ASSERT_EQ(Ingest(dev_.ingest_key, json{{"ts", kStaT0}, {"humidity", 40}}.dump()).status, 204);
  const int64_t hum = DatastreamId(*admin_, dev_.device_id, "humidity");
  ASSERT_GT(hum, 0);
  // Until the broker has the new ACL, the subscription is refused or a notification not
  // delivered: subscribe and send until one arrives.
  std::optional<std::pair<std::string, std::string>> msg;
  for (int i = 1; i <= 30 && !msg; ++i) {
    auto sub = ConnectKey(MqttUrl(), viewer);
    ASSERT_NE(sub, nullptr);
    ASSERT_TRUE(sub->Subscribe(DatastreamTopic(hum)));
    ASSERT_EQ(
        Ingest(dev_.ingest_key, json{{"ts", kStaT0 + i * kStaStep}, {"humidity", 40 + i}}.dump())
            .status,
        204);
    msg = sub->Received(0, 1);
  }
  ASSERT_TRUE(msg.has_value());
  EXPECT_EQ(msg->first, DatastreamTopic(hum));
}

}  // namespace
}  // namespace bysans::testing
