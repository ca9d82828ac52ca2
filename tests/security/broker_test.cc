// The supervised MQTT broker (issue 14, findings 4, 21, 23): a device's credentials reach only
// that device's own session — not bysans' (whose session carries every tenant's ingest) nor
// another device's; credentials are answered only once the broker accepts them; a copy of a
// stored message is counted as a duplicate, not as stored.
#include <fstream>
#include <iterator>

#include "integration/mqtt_fixture.h"
#include "security_fixture.h"

namespace bysans::testing {
namespace {

class BrokerSecurityTest : public SecurityTest {
 protected:
  std::string MqttUrl() { return ReadLine(fs::path(server_->data_dir()) / "mqtt.url"); }

  MqttDevice CreateMqttDevice(const Tenant& t, const std::string& name) {
    MqttDevice d;
    auto dev = Send(*t.editor.client, "POST", t.AppPath() + "/devices",
                    {{"name", name}, {"transport", "mqtt"}});
    EXPECT_EQ(dev.status, 201) << dev.body;
    d.org_id = t.device.org_id;
    d.app_id = t.device.app_id;
    d.device_id = dev.Json().value("id", int64_t{0});
    d.mqtt = dev.Json().value("mqtt", json::object());
    EXPECT_TRUE(d.mqtt.contains("password")) << dev.body;
    return d;
  }

  // Connects as the device at the first attempt (no retry: the credentials must work now).
  std::unique_ptr<Peer> Connect(const MqttDevice& d, const std::string& client_id) {
    auto p = std::make_unique<Peer>(client_id);
    int rc = p->Connect(MqttUrl(), d.mqtt["username"], d.mqtt["password"]);
    EXPECT_EQ(rc, 0) << "device " << d.device_id << " refused (CONNACK " << rc << ")";
    return rc == 0 ? std::move(p) : nullptr;
  }

  std::string BrokerLog() {
    std::ifstream in(fs::path(server_->data_dir()) / "mosquitto" / "mosquitto.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  size_t Readings(const Tenant& t, int64_t device, const std::string& key) {
    auto r = t.viewer.client->Get("/api/v1/devices/" + std::to_string(device) +
                                  "/readings?limit=100000&key=" + key);
    return r.status == 200 ? r.Json().value("items", json::array()).size() : 0;
  }
};

// Finding 4: B's device, with valid credentials, connects again and again with bysans' own
// client id (the one on disk and the former fixed "bysans-1") and with A's devices' client
// ids, while A's device publishes. Neither bysans' session nor A's devices are displaced, and
// every message A's device published is stored.
TEST_F(BrokerSecurityTest, DeviceCannotTakeOverBysansOrAnotherDevicesSession) {
  MqttDevice victim = CreateMqttDevice(a_, "Faldalarm");
  MqttDevice publisher = CreateMqttDevice(a_, "Indeklima");
  MqttDevice attacker = CreateMqttDevice(b_, "Angriber");
  const std::string victim_user = victim.mqtt["username"];
  const std::string publisher_user = publisher.mqtt["username"];
  auto v = Connect(victim, victim_user);
  auto pub = Connect(publisher, publisher_user);
  ASSERT_TRUE(v && pub);
  const std::string service_id = [&] {
    std::ifstream in(fs::path(server_->data_dir()) / "mqtt-service.secret");
    std::string password, user;
    std::getline(in, password);
    std::getline(in, user);
    return user;
  }();
  ASSERT_FALSE(service_id.empty());
  ASSERT_TRUE(
      WaitFor([&] { return MetricLine(R"(bysans_mqtt_connected{client="service"})") == 1; }));
  const double service_connects = MetricLine(R"(bysans_mqtt_connections_total{client="service"})");

  constexpr int kMessages = 120;
  std::set<int> acked;
  int accepted_attacks = 0;
  const std::vector<std::string> stolen_ids = {service_id, "bysans-1", victim_user, publisher_user};
  for (int i = 0; i < kMessages; ++i) {
    // Each message has its own time: readings of one key at one time would collapse into one.
    int mid = pub->Publish(publisher.mqtt["upTopic"],
                           json{{"seq", i}, {"ts", int64_t{1'764'000'000'000} + i}}.dump());
    ASSERT_GE(mid, 0);
    if (i % 4 == 0) {
      Peer thief(stolen_ids[(i / 4) % stolen_ids.size()]);
      if (thief.Connect(MqttUrl(), attacker.mqtt["username"], attacker.mqtt["password"]) == 0)
        ++accepted_attacks;
    }
    ASSERT_TRUE(pub->WaitAcked(mid)) << "message " << i << " not acknowledged";
    acked.insert(i);
  }
  // The attacker's own credentials still work (under its own identity only).
  EXPECT_EQ(accepted_attacks, kMessages / 4);
  EXPECT_TRUE(WaitFor([&] { return Readings(a_, publisher.device_id, "seq") == acked.size(); }))
      << Readings(a_, publisher.device_id, "seq") << " of " << acked.size() << " stored";

  // bysans never lost its session, and no victim's connection was closed for a newcomer.
  EXPECT_EQ(MetricLine(R"(bysans_mqtt_connections_total{client="service"})"), service_connects);
  EXPECT_EQ(MetricLine(R"(bysans_mqtt_connected{client="service"})"), 1);
  const std::string log = BrokerLog();
  for (const std::string& id : stolen_ids) {
    EXPECT_EQ(log.find("Client " + id + " already connected"), std::string::npos)
        << "session " << id << " was taken over:\n"
        << log;
  }
  // A's devices still work on their sessions.
  ASSERT_TRUE(v->WaitAcked(v->Publish(victim.mqtt["upTopic"], R"({"fall": 1})")));
  EXPECT_TRUE(WaitFor([&] { return Readings(a_, victim.device_id, "fall") == 1; }));
}

// Defence in depth behind the rule actions' topic check (act/action_topics.h): bysans publishes
// them as its actions user, whom the broker lets write below orgs/ only. Logged in as that user
// (its password read from the data directory, as if bysans' own check had failed), a publish to
// each topic bysans trusts — a device's uplink, B's SensorThings Observations, a ChirpStack
// uplink and gateway event — reaches no subscriber; only the one below orgs/ does.
TEST_F(BrokerSecurityTest, TheRuleActionsUserMayWriteOnlyBelowOrgs) {
  auto secret = [&](const std::string& file) {
    std::ifstream in(fs::path(server_->data_dir()) / file);
    std::string password, user;
    std::getline(in, password);
    std::getline(in, user);
    return std::make_pair(user, password);
  };
  const auto [actions_user, actions_password] = secret("mqtt-actions.secret");
  ASSERT_EQ(actions_user, "bysans-actions");
  const auto [integrator_user, integrator_password] = secret("mqtt-integrator.secret");
  Peer watcher(integrator_user);
  ASSERT_EQ(watcher.Connect(MqttUrl(), integrator_user, integrator_password), 0);
  ASSERT_TRUE(watcher.Subscribe("#"));

  MqttDevice device = CreateMqttDevice(b_, "Ventil");
  const std::vector<std::string> trusted = {
      device.mqtt["upTopic"],
      "v1.1/Datastreams(1)/Observations",
      "v1.1/Observations",
      "application/1/device/0004a30b001c0530/event/up",
      "eu868/gateway/0016c001ff10a235/state/conn",
      "$share/bysans/devices/1/up",
      "orgs",  // the namespace's root itself is not below it
  };
  // The broker makes the user name the client id: this login displaces bysans' own actions
  // client for a moment (it reconnects); the publishes are QoS 1 and resent until acknowledged.
  Peer forger(actions_user);
  ASSERT_EQ(forger.Connect(MqttUrl(), actions_user, actions_password), 0);
  for (const std::string& topic : trusted) {
    const int mid = forger.Publish(topic, R"({"result": -999.25})");
    ASSERT_GE(mid, 0) << topic;
    EXPECT_TRUE(forger.WaitAcked(mid)) << topic;
  }
  const std::string allowed = "orgs/" + std::to_string(a_.device.org_id) + "/ventil";
  ASSERT_TRUE(forger.WaitAcked(forger.Publish(allowed, "1")));
  // Messages of one publisher arrive in order: once the allowed one is here, none before it is
  // on its way.
  std::vector<std::string> got;
  for (size_t n = 0;; ++n) {
    auto m = watcher.Received(n, n == 0 ? 30 : 2);
    if (!m) break;
    got.push_back(m->first);
    if (m->first == allowed) break;
  }
  EXPECT_EQ(got, std::vector<std::string>{allowed}) << BrokerLog();
  EXPECT_EQ(Readings(b_, device.device_id, "result"), 0u);
}

// Finding 21: a device created over the API can connect the moment the answer arrives.
TEST_F(BrokerSecurityTest, NewDeviceCredentialsWorkImmediately) {
  for (int i = 0; i < 10; ++i) {
    MqttDevice d = CreateMqttDevice(a_, "Sensor " + std::to_string(i));
    auto p = Connect(d, "sensor-" + std::to_string(i));
    ASSERT_TRUE(p) << "attempt " << i;
  }
}

// Finding 21, rotation: a rotated password works the moment it is answered; the old one no
// longer does.
TEST_F(BrokerSecurityTest, RotatedCredentialsWorkImmediatelyAndTheOldOnesNoLonger) {
  MqttDevice d = CreateMqttDevice(a_, "Roteret");
  for (int i = 0; i < 5; ++i) {
    auto rotated =
        Send(*a_.editor.client, "POST",
             "/api/v1/devices/" + std::to_string(d.device_id) + "/rotate-key", json::object());
    ASSERT_EQ(rotated.status, 200) << rotated.body;
    MqttDevice next = d;
    next.mqtt = rotated.Json().value("mqtt", json::object());
    ASSERT_EQ(next.mqtt.value("username", ""), d.mqtt.value("username", ""));
    ASSERT_TRUE(Connect(next, "roteret-" + std::to_string(i))) << "rotation " << i;
    Peer old("roteret-old-" + std::to_string(i));
    EXPECT_NE(old.Connect(MqttUrl(), d.mqtt["username"], d.mqtt["password"]), 0);
    d = next;
  }
  // B's editor cannot rotate A's device.
  auto foreign =
      Send(*b_.editor.client, "POST",
           "/api/v1/devices/" + std::to_string(d.device_id) + "/rotate-key", json::object());
  EXPECT_EQ(foreign.status, 404) << foreign.body;
}

// A deleted device's credentials are refused as soon as the deletion is answered.
TEST_F(BrokerSecurityTest, DeletedDeviceCredentialsAreRefusedAtOnce) {
  MqttDevice d = CreateMqttDevice(a_, "Udgaaet");
  ASSERT_TRUE(Connect(d, "udgaaet"));
  auto del = a_.editor.client->Request("DELETE", "/api/v1/devices/" + std::to_string(d.device_id));
  ASSERT_EQ(del.status, 204) << del.body;
  Peer again("udgaaet-2");
  EXPECT_NE(again.Connect(MqttUrl(), d.mqtt["username"], d.mqtt["password"]), 0);
}

// Finding 23 (metrics): the same ChirpStack uplink published twice is stored once and counted
// once as stored and once as a duplicate.
TEST_F(BrokerSecurityTest, DuplicateUplinkIsCountedAsDuplicateNotStored) {
  auto dev = Send(*a_.editor.client, "POST", a_.AppPath() + "/devices",
                  {{"name", "LoRa"}, {"transport", "lorawan"}, {"devEui", "0a0b0c0d0e0f0102"}});
  ASSERT_EQ(dev.status, 201) << dev.body;
  Peer cs("chirpstack");
  ASSERT_EQ(cs.Connect(MqttUrl(), "bysans-integrator",
                       ReadLine(fs::path(server_->data_dir()) / "mqtt-integrator.secret")),
            0);
  const std::string uplink = R"({"deduplicationId": "0d9c3a61-8a1e-4d7b-9a54-1f2e3d4c5b6a",
    "time": "2026-11-25T10:00:00Z", "deviceInfo": {"devEui": "0a0b0c0d0e0f0102"},
    "fCnt": 3, "fPort": 1, "data": "AQID", "rxInfo": [{"gatewayId": "0016c001f153a14c",
    "rssi": -80, "snr": 7.5}]})";
  const std::string topic = "application/app-1/device/0a0b0c0d0e0f0102/event/up";
  const double stored = MetricLine(R"(bysans_mqtt_messages_total{result="stored"})");
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(topic, uplink)));
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(topic, uplink)));
  ASSERT_TRUE(WaitFor(
      [&] { return MetricLine(R"(bysans_mqtt_messages_total{result="duplicate"})") == 1; }));
  EXPECT_EQ(MetricLine(R"(bysans_mqtt_messages_total{result="stored"})"), stored + 1);
  EXPECT_EQ(MetricLine("bysans_pipeline_duplicates_total"), 1);
}

}  // namespace
}  // namespace bysans::testing
