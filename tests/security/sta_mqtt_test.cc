// SensorThings over MQTT (server/sta_mqtt.h) through the supervised Mosquitto: an API key is a
// broker user only when created with "mqtt": true, and its ACL names only its organisation's
// Things and Datastreams (write only for editors and admins). Another organisation's key
// receives nothing of A's Datastreams (not by their topic, not by v1.1/# or #) and cannot create
// Observations in them; a viewer key cannot create; a revoked or expired key can no longer
// connect (nor receive on a connection it had); a key without "mqtt" cannot connect; device
// credentials read no SensorThings topic. A rule's "mqtt" action (published by bysans' own broker
// user) cannot forge another organisation's Observations or gateway events, and reaches only its
// own organisation's keys. Each test also checks the legitimate use.
#include <chrono>

#include "integration/sta_mqtt_fixture.h"
#include "security_fixture.h"

namespace bysans::testing {
namespace {

class StaMqttSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    ASSERT_EQ(Ingest(a_.device.ingest_key, json{{"ts", kStaT0}, {"temperature", 20}}.dump()).status,
              204);
    ASSERT_EQ(Ingest(b_.device.ingest_key, json{{"ts", kStaT0}, {"temperature", -5}}.dump()).status,
              204);
    ds_a_ = DatastreamId(*a_.viewer.client, a_.device.device_id, "temperature");
    ds_b_ = DatastreamId(*b_.viewer.client, b_.device.device_id, "temperature");
    ASSERT_GT(ds_a_, 0);
    ASSERT_GT(ds_b_, 0);
  }

  std::string MqttUrl() { return ReadLine(fs::path(server_->data_dir()) / "mqtt.url"); }

  MqttKey Key(Tenant& t, const std::string& role, bool mqtt = true,
              const std::string& expires_at = "") {
    return CreateMqttKey(*t.admin.client, t.device.org_id, role, mqtt, expires_at);
  }

  // A's temperature Observations as A's viewer reads them.
  size_t CountA() {
    auto [status, body] =
        StaGet(*a_.viewer.client, "Datastreams(" + std::to_string(ds_a_) + ")/Observations");
    EXPECT_EQ(status, 200) << body.dump();
    return body["value"].size();
  }
  // Waits until A's Datastream holds `n` Observations (bounded).
  bool WaitCountA(size_t n) {
    for (int i = 0; i < 100; ++i) {
      if (CountA() == n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  void IngestA(int step, double v) {
    ASSERT_EQ(Ingest(a_.device.ingest_key,
                     json{{"ts", kStaT0 + step * kStaStep}, {"temperature", v}}.dump())
                  .status,
              204);
  }
  // Whether the broker refuses the key within 3 s (it reloads its users within a second).
  bool RefusedSoon(const MqttKey& k) {
    for (int i = 0; i < 30; ++i) {
      int connack = -1;
      if (ConnectKey(MqttUrl(), k, &connack) == nullptr && connack != 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  // Subscribes every filter (the peer's Subscribe waits for the first SUBACK only).
  static void SubscribeAll(Peer& p, const std::vector<std::string>& filters) {
    for (const std::string& f : filters) p.Subscribe(f);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }

  // Connections as a viewer key of A (the one who should receive) and an admin key of B (the
  // one who tries to).
  void ConnectAViewerAndBAdmin(std::unique_ptr<Peer>* a_sub, std::unique_ptr<Peer>* b_sub) {
    *a_sub = ConnectKey(MqttUrl(), Key(a_, "viewer"));
    *b_sub = ConnectKey(MqttUrl(), Key(b_, "admin"));
    ASSERT_NE(*a_sub, nullptr);
    ASSERT_NE(*b_sub, nullptr);
  }

  int64_t ds_a_ = 0, ds_b_ = 0;
};

TEST_F(StaMqttSecurityTest, AnotherOrganisationsKeyReceivesNothingOfYourDatastreams) {
  std::unique_ptr<Peer> a_sub, b_sub;
  ASSERT_NO_FATAL_FAILURE(ConnectAViewerAndBAdmin(&a_sub, &b_sub));
  ASSERT_TRUE(a_sub->Subscribe(DatastreamTopic(ds_a_)));
  SubscribeAll(*b_sub, {DatastreamTopic(ds_a_), "v1.1/Datastreams(" + std::to_string(ds_a_) + ")/#",
                        "v1.1/Things(" + std::to_string(a_.device.device_id) + ")/#",
                        "v1.1/Observations", "v1.1/#", "#"});
  IngestA(1, 21);
  auto legit = a_sub->Received(0);
  ASSERT_TRUE(legit.has_value());  // A's own key is notified
  EXPECT_EQ(legit->first, DatastreamTopic(ds_a_));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto leaked = b_sub->Received(0, 0);
  EXPECT_FALSE(leaked.has_value()) << leaked->first << " " << leaked->second;
}

// The attack of the review: an editor of A gave a rule an "mqtt" action publishing on topics bysans
// trusts from its own broker user (another organisation's Datastream, a ChirpStack gateway event),
// and bysans stored B's forged reading. Now every topic outside A's namespace is refused.
TEST_F(StaMqttSecurityTest, ARuleActionCannotPublishOutsideItsOrganisationsNamespace) {
  const std::string a_ns = "orgs/" + std::to_string(a_.device.org_id) + "/";
  const std::string b_ns = "orgs/" + std::to_string(b_.device.org_id) + "/";
  for (const std::string& topic :
       std::vector<std::string>{DatastreamTopic(ds_b_), "eu868/gateway/0016c001f153a14c/state/conn",
                                "v1.1/Observations", b_ns + "alarms", "kommune/alarms",
                                "orgs/{{device.orgId}}/x", "{{device.name}}/" + a_ns + "x", a_ns}) {
    json rule = {
        {"name", "forge"},
        {"scope", {{"kind", "device"}, {"id", a_.device.device_id}}},
        {"expression", "temperature > 30"},
        {"actions", {{{"type", "mqtt"}, {"topic", topic}, {"payload", R"({"result": -999.25})"}}}}};
    auto r = a_.editor.client->PostJson(a_.OrgPath() + "/rules", rule);
    EXPECT_EQ(r.status, 400) << topic << " " << r.body;
    EXPECT_NE(r.body.find("actions[0].topic"), std::string::npos) << r.body;
  }
  json rules = a_.admin.client->Get(a_.OrgPath() + "/rules").Json();
  EXPECT_EQ(rules.value("total", -1), 0) << rules.dump();
}

// A rule's "mqtt" action in A's namespace reaches A's key (API keys with "mqtt" may read their
// organisation's namespace), and nothing of it reaches B's key, whatever B subscribes to.
TEST_F(StaMqttSecurityTest, RuleActionsReachOnlyTheirOrganisationsKeys) {
  const std::string a_ns = "orgs/" + std::to_string(a_.device.org_id) + "/";
  std::unique_ptr<Peer> a_sub, b_sub;
  ASSERT_NO_FATAL_FAILURE(ConnectAViewerAndBAdmin(&a_sub, &b_sub));
  ASSERT_TRUE(a_sub->Subscribe(a_ns + "#"));
  SubscribeAll(*b_sub, {a_ns + "#", "orgs/#", "#"});
  json rule = {{"name", "warm"},
               {"scope", {{"kind", "device"}, {"id", a_.device.device_id}}},
               {"expression", "temperature > 30"},
               {"actions",
                {{{"type", "mqtt"},
                  {"topic", a_ns + "alarms/{{device.id}}"},
                  {"payload", R"({"t": {{readings.temperature}}})"}}}}};
  auto created = a_.editor.client->PostJson(a_.OrgPath() + "/rules", rule);
  ASSERT_EQ(created.status, 201) << created.body;
  IngestA(1, 35);
  auto got = a_sub->Received(0, 60);
  ASSERT_TRUE(got.has_value()) << "A's key did not receive A's rule action";
  EXPECT_EQ(got->first, a_ns + "alarms/" + std::to_string(a_.device.device_id));
  EXPECT_EQ(json::parse(got->second, nullptr, false).value("t", 0.0), 35.0) << got->second;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto leaked = b_sub->Received(0, 0);
  EXPECT_FALSE(leaked.has_value()) << leaked->first << " " << leaked->second;
}

TEST_F(StaMqttSecurityTest, AnotherOrganisationsEditorKeyCannotCreateObservations) {
  MqttKey b_editor = Key(b_, "editor");
  MqttKey a_editor = Key(a_, "editor");
  auto b_pub = ConnectKey(MqttUrl(), b_editor);
  ASSERT_NE(b_pub, nullptr);
  // A's topic, and B's own topic with a body linking A's Datastream.
  b_pub->Publish(DatastreamTopic(ds_a_), ObservationBody(1, 666));
  json linked = json::parse(ObservationBody(2, 666));
  linked["Datastream"] = {{"@iot.id", ds_a_}};
  int mid = b_pub->Publish(DatastreamTopic(ds_b_), linked.dump());
  ASSERT_GE(mid, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // The legitimate use: A's editor creates one in A's Datastream.
  auto a_pub = ConnectKey(MqttUrl(), a_editor);
  ASSERT_NE(a_pub, nullptr);
  ASSERT_TRUE(a_pub->WaitAcked(a_pub->Publish(DatastreamTopic(ds_a_), ObservationBody(3, 22))));
  ASSERT_TRUE(WaitCountA(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(CountA(), 2u);  // the first reading and A's own
  auto [status, b_list] =
      StaGet(*b_.viewer.client, "Datastreams(" + std::to_string(ds_b_) + ")/Observations");
  EXPECT_EQ(b_list["value"].size(), 1u) << b_list.dump();  // nothing created from the bad link
}

TEST_F(StaMqttSecurityTest, ViewerKeyCannotCreateObservations) {
  MqttKey viewer = Key(a_, "viewer");
  MqttKey editor = Key(a_, "editor");
  auto v = ConnectKey(MqttUrl(), viewer);
  ASSERT_NE(v, nullptr);
  v->Publish(DatastreamTopic(ds_a_), ObservationBody(1, 666));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto e = ConnectKey(MqttUrl(), editor);
  ASSERT_NE(e, nullptr);
  ASSERT_TRUE(e->WaitAcked(e->Publish(DatastreamTopic(ds_a_), ObservationBody(2, 22))));
  ASSERT_TRUE(WaitCountA(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(CountA(), 2u);
}

TEST_F(StaMqttSecurityTest, RevokedKeyCanNoLongerConnectNorReceive) {
  MqttKey k = Key(a_, "viewer");
  MqttKey other = Key(a_, "viewer");
  auto sub = ConnectKey(MqttUrl(), k);
  ASSERT_NE(sub, nullptr);
  ASSERT_TRUE(sub->Subscribe(DatastreamTopic(ds_a_)));
  IngestA(1, 21);
  ASSERT_TRUE(sub->Received(0).has_value());  // works before
  auto del = a_.admin.client->Request("DELETE", "/api/v1/api-keys/" + std::to_string(k.id));
  ASSERT_EQ(del.status, 204) << del.body;
  int connack = -1;
  EXPECT_EQ(ConnectKey(MqttUrl(), k, &connack), nullptr);
  EXPECT_NE(connack, 0);
  // The connection it had receives nothing from now on; a key still valid does.
  auto legit = ConnectKey(MqttUrl(), other);
  ASSERT_NE(legit, nullptr);
  ASSERT_TRUE(legit->Subscribe(DatastreamTopic(ds_a_)));
  IngestA(2, 22);
  ASSERT_TRUE(legit->Received(0).has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(sub->Received(1, 0).has_value());
}

TEST_F(StaMqttSecurityTest, ExpiredKeyCanNoLongerConnect) {
  const auto soon = std::chrono::system_clock::now() + std::chrono::seconds(3);
  std::time_t s = std::chrono::system_clock::to_time_t(soon);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  MqttKey k = Key(a_, "viewer", true, buf);
  EXPECT_NE(ConnectKey(MqttUrl(), k), nullptr);  // valid until then
  std::this_thread::sleep_for(std::chrono::seconds(4));
  EXPECT_TRUE(RefusedSoon(k));
}

// A key answers to its creator (auth/key_authority.h): the broker user of a key whose creator
// left A is removed, as a revoked key's is.
TEST_F(StaMqttSecurityTest, AKeyWhoseCreatorLeftCanNoLongerConnect) {
  OrgMember leaver = AddMember(a_.device.org_id, "admin", "mqtt-leaver");
  MqttKey k = CreateMqttKey(*leaver.client, a_.device.org_id, "viewer");
  MqttKey stays = Key(a_, "viewer");
  EXPECT_NE(ConnectKey(MqttUrl(), k), nullptr);
  ASSERT_EQ(a_.admin.client
                ->Request("DELETE", a_.OrgPath() + "/members/" + std::to_string(leaver.user_id))
                .status,
            204);
  EXPECT_TRUE(RefusedSoon(k));
  EXPECT_NE(ConnectKey(MqttUrl(), stays), nullptr);
}

TEST_F(StaMqttSecurityTest, KeyWithoutMqttOrWithAnotherKeysSecretCannotConnect) {
  MqttKey plain = Key(a_, "admin", false);
  int connack = -1;
  EXPECT_EQ(ConnectKey(MqttUrl(), plain, &connack), nullptr);
  EXPECT_NE(connack, 0);
  MqttKey a_key = Key(a_, "viewer");
  MqttKey b_key = Key(b_, "viewer");
  MqttKey forged = a_key;
  forged.key = b_key.key;  // A's user name, B's secret
  EXPECT_EQ(ConnectKey(MqttUrl(), forged, &connack), nullptr);
  EXPECT_NE(ConnectKey(MqttUrl(), a_key), nullptr);  // the real one works
}

TEST_F(StaMqttSecurityTest, DeviceCredentialsReadNoSensorThingsTopic) {
  auto dev = Send(*a_.editor.client, "POST", a_.AppPath() + "/devices",
                  {{"name", "mqtt-dev"}, {"transport", "mqtt"}});
  ASSERT_EQ(dev.status, 201) << dev.body;
  MqttDevice d;
  d.device_id = dev.Json().value("id", int64_t{0});
  d.mqtt = dev.Json()["mqtt"];
  auto device = ConnectAs(MqttUrl(), d);
  ASSERT_NE(device, nullptr);
  SubscribeAll(*device, {"v1.1/#", DatastreamTopic(ds_a_), "#"});
  MqttKey k = Key(a_, "viewer");
  auto legit = ConnectKey(MqttUrl(), k);
  ASSERT_NE(legit, nullptr);
  ASSERT_TRUE(legit->Subscribe(DatastreamTopic(ds_a_)));
  IngestA(1, 21);
  ASSERT_TRUE(legit->Received(0).has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto leaked = device->Received(0, 0);
  EXPECT_FALSE(leaked.has_value()) << leaked->first;
  // Nor can a device create Observations through a SensorThings topic.
  device->Publish(DatastreamTopic(ds_a_), ObservationBody(2, 666));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(CountA(), 2u);  // the first reading and the one ingested above
}

}  // namespace
}  // namespace bysans::testing
