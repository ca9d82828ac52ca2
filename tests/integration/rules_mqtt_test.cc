// Rule actions over MQTT through the real binary and its supervised Mosquitto:
// an "mqtt" action publishes to a topic a subscriber receives, a "downlink" action
// reaches ChirpStack's command/down topic of a LoRaWAN device and its downlink history (also
// as an object encoded by the device's decoder).
#include "integration/mqtt_fixture.h"

namespace bysans::testing {
namespace {

class RulesMqttTest : public MqttTest {
 protected:
  std::string Org(int64_t id) { return "/api/v1/organizations/" + std::to_string(id); }
  int64_t OrgOfApp(int64_t app) {
    return admin_->Get("/api/v1/applications/" + std::to_string(app)).Json().value("orgId", 0);
  }
  json Log(int64_t org) { return admin_->Get(Org(org) + "/actions/log?limit=1000").Json(); }
  // The actions log once it has at least one attempt.
  json WaitForLog(int64_t org) {
    json log;
    EXPECT_TRUE(WaitFor([&] {
      log = Log(org);
      return log.value("total", 0) >= 1;
    })) << "no action attempt logged";
    return log;
  }

  struct HttpDevice {
    int64_t id = 0;
    std::string api_key;
  };
  // Creates an HTTP device in `app` (use with ASSERT_NO_FATAL_FAILURE).
  void CreateHttpDevice(int64_t app, const std::string& name, HttpDevice* out) {
    auto dev = admin_->PostJson("/api/v1/applications/" + std::to_string(app) + "/devices",
                                {{"name", name}, {"transport", "http"}});
    ASSERT_EQ(dev.status, 201) << dev.body;
    out->id = dev.Json().value("id", int64_t{0});
    out->api_key = dev.Json().value("apiKey", "");
  }

  // A rule "<expression>" on one device with the given actions.
  static json DeviceRule(const std::string& name, int64_t device, const std::string& expression,
                         json actions) {
    return {{"name", name},
            {"scope", {{"kind", "device"}, {"id", device}}},
            {"expression", expression},
            {"actions", std::move(actions)}};
  }

  // Connects `peer` as the service user and subscribes it to `filter` before `rule` is
  // created in `org`, so whatever the rule publishes reaches the peer (use with
  // ASSERT_NO_FATAL_FAILURE).
  void SubscribeThenCreateRule(Peer& peer, const std::string& filter, int64_t org,
                               const json& rule) {
    ASSERT_EQ(peer.Connect(MqttUrl(), kIntegratorUser, IntegratorPassword()), 0);
    ASSERT_TRUE(peer.Subscribe(filter));
    auto created = admin_->PostJson(Org(org) + "/rules", rule);
    ASSERT_EQ(created.status, 201) << created.body;
  }
};

const char* kUplink = R"({
  "deduplicationId": "5d1f7a2e-0a43-4c55-9d3e-7a2b6c0e9f01",
  "time": "2026-11-25T10:00:00Z",
  "deviceInfo": {"applicationId": "7d3a1b52-93c4-4f6e-8a0b-2c9e5d4f1a77",
                 "applicationName": "Vand", "deviceName": "Pumpe", "devEui": "0202020202020202",
                 "tags": {}},
  "devAddr": "00189441", "adr": true, "dr": 5, "fCnt": 7, "fPort": 1, "confirmed": false,
  "data": "AQID",
  "rxInfo": [{"gatewayId": "0016c001f153a14c", "rssi": -80, "snr": 7.5}],
  "txInfo": {"frequency": 868100000}
})";

TEST_F(RulesMqttTest, MqttActionPublishesTheRenderedTopicAndPayload) {
  int64_t app = CreateApp("Odense");
  int64_t org = OrgOfApp(app);
  HttpDevice dev;
  ASSERT_NO_FATAL_FAILURE(CreateHttpDevice(app, "Lokale 7", &dev));

  Peer sub("alarm-subscriber");
  const std::string ns = "orgs/" + std::to_string(org) + "/";
  ASSERT_NO_FATAL_FAILURE(SubscribeThenCreateRule(
      sub, ns + "alarms/#", org,
      DeviceRule("CO2 high", dev.id, "co2 > 1000",
                 {{{"type", "mqtt"},
                   {"topic", ns + "alarms/{{device.id}}/{{alarm.event}}"},
                   {"payload", R"({"room":"{{device.name}}","co2":{{readings.co2}}})"},
                   {"qos", 1},
                   {"on", {"raise"}}}})));

  ASSERT_EQ(Ingest(dev.api_key, R"({"co2": 1500})").status, 204);
  auto got = sub.Received(0, 60);
  ASSERT_TRUE(got) << server_->log();
  EXPECT_EQ(got->first, ns + "alarms/" + std::to_string(dev.id) + "/raise");
  json payload = json::parse(got->second, nullptr, false);
  EXPECT_EQ(payload.value("room", ""), "Lokale 7") << got->second;
  EXPECT_EQ(payload.value("co2", 0), 1500) << got->second;

  // The attempt is in the actions log.
  json log = WaitForLog(org);
  ASSERT_GE(log.value("total", 0), 1);
  EXPECT_EQ(log["items"][0].value("type", ""), "mqtt") << log.dump();
  EXPECT_EQ(log["items"][0].value("ok", false), true) << log.dump();
  EXPECT_EQ(log["items"][0].value("target", ""), "mqtt://bysans") << log.dump();
}

TEST_F(RulesMqttTest, MqttActionsMayNotUseDeviceOrChirpstackTopics) {
  int64_t app = CreateApp("Vejle");
  int64_t org = OrgOfApp(app);
  HttpDevice dev;
  ASSERT_NO_FATAL_FAILURE(CreateHttpDevice(app, "Lokale", &dev));
  const std::string ns = "orgs/" + std::to_string(org) + "/";
  for (const std::string& topic : std::vector<std::string>{
           "devices/1/down", "application/x/device/0101/command/down", "$SYS/x", "a/+/b", "",
           "kommune/alarms", "orgs/" + std::to_string(org + 1) + "/x", ns + "a/#"}) {
    json rule = DeviceRule("r", dev.id, "co2 > 1000", {{{"type", "mqtt"}, {"topic", topic}}});
    auto r = admin_->PostJson(Org(org) + "/rules", rule);
    EXPECT_EQ(r.status, 400) << topic << " " << r.body;
    EXPECT_NE(r.body.find("actions[0].topic"), std::string::npos) << r.body;
  }
  json bad_qos =
      DeviceRule("r", dev.id, "co2 > 1000", {{{"type", "mqtt"}, {"topic", ns + "ok"}, {"qos", 2}}});
  EXPECT_EQ(admin_->PostJson(Org(org) + "/rules", bad_qos).status, 400);
  json bad_frame =
      DeviceRule("r", dev.id, "co2 > 1000", {{{"type", "downlink"}, {"fPort", 2}, {"hex", "0g"}}});
  auto r = admin_->PostJson(Org(org) + "/rules", bad_frame);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("actions[0].hex"), std::string::npos) << r.body;
}

TEST_F(RulesMqttTest, DownlinkActionReachesChirpstackAndTheDownlinkHistory) {
  int64_t app = CreateApp("Horsens");
  int64_t org = OrgOfApp(app);
  int64_t dev = CreateLorawanDevice(app, "0202020202020202");
  Peer cs("chirpstack");
  ASSERT_NO_FATAL_FAILURE(
      SubscribeThenCreateRule(cs, "application/+/device/+/command/down", org,
                              DeviceRule("Pumpe: signal svagt", dev, "lorawan.rssi > -100",
                                         {{{"type", "downlink"},
                                           {"fPort", 10},
                                           {"hex", "0102ff"},
                                           {"confirmed", true},
                                           {"on", {"raise"}}}})));

  const std::string topic =
      "application/7d3a1b52-93c4-4f6e-8a0b-2c9e5d4f1a77/device/0202020202020202/";
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(topic + "event/up", kUplink)));

  auto got = cs.Received(0, 60);
  ASSERT_TRUE(got) << server_->log() << "\n" << Log(org).dump();
  EXPECT_EQ(got->first, topic + "command/down");
  json cmd = json::parse(got->second, nullptr, false);
  EXPECT_EQ(cmd.value("devEui", ""), "0202020202020202");
  EXPECT_EQ(cmd.value("fPort", 0), 10);
  EXPECT_EQ(cmd.value("data", ""), "AQL/");
  EXPECT_EQ(cmd.value("confirmed", false), true);

  // Recorded like an API downlink, and logged as a delivered action.
  ASSERT_TRUE(WaitFor([&] {
    auto h = Items("/api/v1/devices/" + std::to_string(dev) + "/downlink");
    return h.size() == 1 && h[0].value("status", "") == "published" &&
           h[0].value("data", "") == "AQL/" && h[0].value("fPort", 0) == 10;
  }));
  ASSERT_TRUE(WaitFor([&] {
    json log = Log(org);
    return log.value("total", 0) >= 1 && log["items"][0].value("type", "") == "downlink" &&
           log["items"][0].value("ok", false);
  }));
}

// A downlink action may give an object: the device's decoder encodes it at delivery
// (encodeDownlink), and the history keeps the object next to the bytes.
TEST_F(RulesMqttTest, DownlinkActionObjectIsEncodedByTheDevicesDecoder) {
  int64_t app = CreateApp("Skive");
  int64_t org = OrgOfApp(app);
  int64_t dev = CreateLorawanDevice(app, "0202020202020202");
  auto dec = admin_->PostJson(Org(org) + "/decoders",
                              {{"name", "valve"},
                               {"code",
                                "function decodeUplink(input) { return {data: {}}; }"
                                "function encodeDownlink(input) { return {bytes: [0x10, "
                                "input.data.valve], fPort: 12}; }"}});
  ASSERT_EQ(dec.status, 201) << dec.body;
  auto attach = admin_->Request("PUT", "/api/v1/devices/" + std::to_string(dev) + "/decoder",
                                json{{"decoderId", dec.Json().value("id", 0)}}.dump(),
                                {"Content-Type: application/json"});
  ASSERT_EQ(attach.status, 200) << attach.body;
  auto bad = admin_->PostJson(Org(org) + "/rules",
                              DeviceRule("r", dev, "lorawan.rssi > -100",
                                         {{{"type", "downlink"}, {"object", json::array({1})}}}));
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("actions[0].object"), std::string::npos) << bad.body;
  Peer cs("chirpstack");
  ASSERT_NO_FATAL_FAILURE(SubscribeThenCreateRule(
      cs, "application/+/device/+/command/down", org,
      DeviceRule("Ventil", dev, "lorawan.rssi > -100",
                 {{{"type", "downlink"}, {"object", {{"valve", 1}}}, {"on", {"raise"}}}})));
  const std::string topic =
      "application/7d3a1b52-93c4-4f6e-8a0b-2c9e5d4f1a77/device/0202020202020202/";
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(topic + "event/up", kUplink)));
  auto got = cs.Received(0, 60);
  ASSERT_TRUE(got) << server_->log() << "\n" << Log(org).dump();
  json cmd = json::parse(got->second, nullptr, false);
  EXPECT_EQ(cmd.value("fPort", 0), 12) << got->second;
  EXPECT_EQ(cmd.value("data", ""), "EAE=") << got->second;  // 10 01
  json history;
  ASSERT_TRUE(WaitFor([&] {
    history = Items("/api/v1/devices/" + std::to_string(dev) + "/downlink");
    return history.size() == 1 && history[0].value("status", "") == "published";
  })) << history.dump();
  EXPECT_EQ(history[0]["object"], json({{"valve", 1}})) << history.dump();
}

// An HTTP device takes downlinks over CoAP (coap/README.md): the rule's downlink is queued
// for the answer to its next CoAP uplink, delivered once into the action log.
TEST_F(RulesMqttTest, DownlinkToAnHttpDeviceIsQueuedForItsNextCoapUplink) {
  int64_t app = CreateApp("Aalborg");
  int64_t org = OrgOfApp(app);
  HttpDevice dev;
  ASSERT_NO_FATAL_FAILURE(CreateHttpDevice(app, "Lokale", &dev));
  json rule = DeviceRule("r", dev.id, "co2 > 1000",
                         {{{"type", "downlink"}, {"fPort", 2}, {"data", "AQ=="}}});
  ASSERT_EQ(admin_->PostJson(Org(org) + "/rules", rule).status, 201);
  ASSERT_EQ(Ingest(dev.api_key, R"({"co2": 1500})").status, 204);
  json log = WaitForLog(org);
  ASSERT_GE(log.value("total", 0), 1);
  EXPECT_EQ(log["items"][0].value("ok", false), true) << log.dump();
  auto history = admin_->Get("/api/v1/devices/" + std::to_string(dev.id) + "/downlink");
  ASSERT_EQ(history.status, 200) << history.body;
  const json items = history.Json()["items"];
  ASSERT_EQ(items.size(), 1u) << history.body;
  EXPECT_EQ(items[0].value("status", ""), "queued");
  EXPECT_EQ(items[0].value("topic", ""), "coap");
  EXPECT_EQ(items[0].value("data", ""), "AQ==");
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // base backoff is 1 s
  EXPECT_EQ(Log(org).value("total", 0), 1) << "delivered once";
}

}  // namespace
}  // namespace bysans::testing
