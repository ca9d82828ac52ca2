// MQTT devices and ChirpStack against the real binary and the Mosquitto that
// bysans supervises itself; libmosquitto plays the devices and ChirpStack. On each store (a real
// SQLite file; a real PostgreSQL 15).
#include <algorithm>
#include <cstdio>

#include "backend_fixture.h"
#include "mqtt_fixture.h"
#include "store_contents.h"

namespace bysans::testing {
namespace {

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

class MqttStoresTest : public OnBothStores<MqttTest> {};
BYSANS_ON_BOTH_STORES(MqttStoresTest);

TEST_P(MqttStoresTest, DevicePublishesWithItsCredentialsAndReadingsAreStored) {
  int64_t app = CreateApp("Aarhus");
  MqttDevice d = CreateMqttDevice(app, "Lokale 7");
  EXPECT_EQ(d.mqtt.value("upTopic", ""), "devices/" + std::to_string(d.device_id) + "/up");
  EXPECT_GT(d.mqtt.value("port", 0), 0);
  auto peer = ConnectDevice(d);
  ASSERT_TRUE(peer) << server_->log();
  int mid = peer->Publish(d.mqtt["upTopic"], R"({"temperature": 21.5, "co2": 612})");
  ASSERT_TRUE(peer->WaitAcked(mid));
  ASSERT_TRUE(WaitFor([&] { return Readings(d.device_id, "co2").size() == 1; })) << server_->log();
  EXPECT_DOUBLE_EQ(Readings(d.device_id, "temperature")[0].value("value", 0.0), 21.5);
  auto msgs = Messages(d.device_id);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].value("transport", ""), "mqtt");

  // Raw bytes: kept, no readings.
  mid = peer->Publish(d.mqtt["upTopic"], std::string("\x01\x02\xff", 3));
  ASSERT_TRUE(peer->WaitAcked(mid));
  ASSERT_TRUE(WaitFor([&] { return Messages(d.device_id).size() == 2; }));
  EXPECT_EQ(Messages(d.device_id)[0].value("decodeStatus", ""), "none");

  // SenML.
  mid = peer->Publish(d.mqtt["upTopic"], R"([{"bn":"room/","n":"lux","u":"lx","v":310}])");
  ASSERT_TRUE(peer->WaitAcked(mid));
  ASSERT_TRUE(WaitFor([&] { return Readings(d.device_id, "room/lux").size() == 1; }));
}

// SenML CBOR (RFC 8428 §6) on devices/{id}/up/senml-cbor: read like SenML JSON; a truncated
// document is kept as a rejected message with the reason (acknowledged, not retried), and the
// next message flows. Another device cannot publish on that topic (the broker's ACL).
TEST_P(MqttStoresTest, SenmlCborOnItsTopicIsStoredAndTruncatedCborIsRejectedWithTheReason) {
  int64_t app = CreateApp("Herning");
  MqttDevice d = CreateMqttDevice(app, "CBOR meter");
  MqttDevice other = CreateMqttDevice(app, "Other");
  auto peer = ConnectDevice(d);
  ASSERT_TRUE(peer) << server_->log();
  const std::string topic = d.mqtt.value("upTopic", "") + "/senml-cbor";
  // [{bn: "room/", n: "lux", u: "lx", v: 310}] with the integer labels.
  const std::string cbor("\x81\xa4\x21\x65room/\x00\x63lux\x01\x62lx\x02\x19\x01\x36", 22);
  ASSERT_TRUE(peer->WaitAcked(peer->Publish(topic, cbor.substr(0, 12))));
  ASSERT_TRUE(WaitFor([&] { return Messages(d.device_id).size() == 1; })) << server_->log();
  json bad = Messages(d.device_id)[0];
  EXPECT_EQ(bad.value("decodeStatus", ""), "error");
  EXPECT_NE(bad.value("decodeError", "").find("truncated"), std::string::npos) << bad.dump();

  ASSERT_TRUE(peer->WaitAcked(peer->Publish(topic, cbor)));
  ASSERT_TRUE(WaitFor([&] { return Readings(d.device_id, "room/lux").size() == 1; }))
      << server_->log();
  json lux = Readings(d.device_id, "room/lux")[0];
  EXPECT_DOUBLE_EQ(lux.value("value", 0.0), 310);
  EXPECT_EQ(lux.value("unit", ""), "lx");
  EXPECT_EQ(Messages(d.device_id)[0].value("contentType", ""), "application/senml+cbor");

  // The other device publishes on d's CBOR topic: dropped by the broker.
  auto po = ConnectDevice(other);
  ASSERT_TRUE(po);
  ASSERT_TRUE(po->WaitAcked(po->Publish(topic, cbor)));
  ASSERT_TRUE(po->WaitAcked(po->Publish(other.mqtt.value("upTopic", "") + "/senml-cbor", cbor)));
  ASSERT_TRUE(WaitFor([&] { return Messages(other.device_id).size() == 1; }));
  EXPECT_EQ(Messages(d.device_id).size(), 2u);
}

TEST_P(MqttStoresTest, WrongPasswordAndCrossDevicePublishingAreRefused) {
  int64_t app = CreateApp("Vejle");
  MqttDevice a = CreateMqttDevice(app, "A");
  MqttDevice b = CreateMqttDevice(app, "B");
  auto pa = ConnectDevice(a);
  ASSERT_TRUE(pa);
  {
    Peer wrong("wrong-password");
    EXPECT_NE(wrong.Connect(MqttUrl(), a.mqtt["username"], "not-the-password"), 0);
  }
  // A publishes on B's topic (refused by the ACL), then on its own.
  int bad = pa->Publish(b.mqtt["upTopic"], R"({"spoofed": 1})");
  ASSERT_TRUE(pa->WaitAcked(bad));  // MQTT 3.1.1: the broker acks and drops it
  int good = pa->Publish(a.mqtt["upTopic"], R"({"own": 1})");
  ASSERT_TRUE(pa->WaitAcked(good)) << BrokerLog();
  ASSERT_TRUE(WaitFor([&] { return Messages(a.device_id).size() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Messages(b.device_id).size(), 0u);
}

const char* kUplink = R"({
  "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
  "time": "2026-11-25T10:00:00.123456789+00:00",
  "deviceInfo": {"tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242", "tenantName": "Kommune",
                 "applicationId": "17c82e96-be03-4f38-aef3-f83d48582d97",
                 "applicationName": "Indeklima", "deviceProfileName": "ERS CO2",
                 "deviceName": "Lokale 12", "devEui": "0101010101010101", "tags": {}},
  "devAddr": "00189440", "adr": true, "dr": 5, "fCnt": 42, "fPort": 1, "confirmed": false,
  "data": "AQID",
  "rxInfo": [
    {"gatewayId": "0016c001f153a14c", "uplinkId": 4217106255, "rssi": -104, "snr": -3.2,
     "channel": 2, "location": {}, "context": "AAA=", "metadata": {}},
    {"gatewayId": "0016c001f153a14d", "uplinkId": 4217106256, "rssi": -70, "snr": 9.5,
     "channel": 2, "location": {}, "context": "AAA=", "metadata": {}}
  ],
  "txInfo": {"frequency": 868100000,
             "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 7,
                                     "codeRate": "CR_4_5"}}}
})";

TEST_P(MqttStoresTest, ChirpstackUplinkIsStoredOnceWithHealthReadings) {
  int64_t app = CreateApp("Horsens");
  int64_t dev = CreateLorawanDevice(app, "0101010101010101");
  Peer cs("chirpstack");
  ASSERT_EQ(cs.Connect(MqttUrl(), kIntegratorUser, IntegratorPassword()), 0);
  const std::string topic =
      "application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/";
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(topic + "up", kUplink)));
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(topic + "up", kUplink)));  // a redelivered duplicate
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(
      topic + "status",
      R"({"deduplicationId":"9f0e4a52-0c43-4b1e-a0b7-1f6e2a9e8c11","time":"2026-11-25T10:01:00Z",
          "deviceInfo":{"devEui":"0101010101010101"},"margin":7,"externalPowerSource":false,
          "batteryLevel":87.5})")));
  ASSERT_TRUE(WaitFor([&] { return Readings(dev, "battery").size() == 1; })) << server_->log();
  auto rssi = Readings(dev, "lorawan.rssi");
  ASSERT_EQ(rssi.size(), 1u);
  EXPECT_DOUBLE_EQ(rssi[0].value("value", 0.0), -70);  // the best gateway
  EXPECT_DOUBLE_EQ(Readings(dev, "lorawan.snr")[0].value("value", 0.0), 9.5);
  EXPECT_DOUBLE_EQ(Readings(dev, "lorawan.fcnt")[0].value("value", 0.0), 42);
  EXPECT_DOUBLE_EQ(Readings(dev, "lorawan.dr")[0].value("value", 0.0), 5);
  EXPECT_DOUBLE_EQ(Readings(dev, "lorawan.margin")[0].value("value", 0.0), 7);
  auto msgs = Messages(dev);
  ASSERT_EQ(msgs.size(), 2u);  // one uplink (the duplicate dropped) + one status
  int uplinks = 0;
  for (const auto& m : msgs) {
    if (m.value("payload", "").find("3ac7e3c4") != std::string::npos) ++uplinks;
    EXPECT_EQ(m.value("transport", ""), "lorawan");
  }
  EXPECT_EQ(uplinks, 1);
  // Both gateways are listed for the device's organisation (recorded by the store about once a
  // second, store/sqlite/gateway_touches.h: waited for, not assumed).
  int64_t org = admin_->Get("/api/v1/applications/" + std::to_string(app)).Json().value("orgId", 0);
  json gws;
  ASSERT_TRUE(WaitFor(
      [&] {
        gws = Items("/api/v1/organizations/" + std::to_string(org) + "/lorawan/gateways");
        return gws.size() == 2u;
      },
      10))
      << gws;
  EXPECT_EQ(gws[0].value("gatewayId", ""), "0016c001f153a14c");

  // A downlink goes to ChirpStack's command topic of the application seen in the uplink.
  ASSERT_TRUE(cs.Subscribe("application/+/device/+/command/down"));
  auto down = admin_->PostJson("/api/v1/devices/" + std::to_string(dev) + "/downlink",
                               {{"fPort", 10}, {"hex", "0102ff"}, {"confirmed", true}});
  ASSERT_EQ(down.status, 202) << down.body;
  auto got = cs.Received(0);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->first, topic.substr(0, topic.size() - 6) + "command/down");
  json cmd = json::parse(got->second);
  EXPECT_EQ(cmd.value("devEui", ""), "0101010101010101");
  EXPECT_EQ(cmd.value("fPort", 0), 10);
  EXPECT_EQ(cmd.value("data", ""), "AQL/");
  EXPECT_EQ(cmd.value("confirmed", false), true);
  ASSERT_TRUE(WaitFor([&] {
    auto h = Items("/api/v1/devices/" + std::to_string(dev) + "/downlink");
    return h.size() == 1 && h[0].value("status", "") == "published";
  }));
}

// A ChirpStack event's idempotency key is scoped to the device bysans resolved: an event sent
// (through one organisation's ChirpStack) with the deduplicationId of another organisation's
// uplink does not make that uplink a "duplicate", and an id far longer than a UUID (beyond what
// PostgreSQL's unique index takes) is stored and holds up no one.
TEST_P(MqttStoresTest, AChirpstackEventCannotSuppressAnotherDevicesUplink) {
  const int64_t victim = CreateLorawanDevice(CreateApp("Offer"), "0404040404040404");
  const int64_t attacker = CreateLorawanDevice(CreateApp("Angriber"), "0505050505050505");
  Peer cs("chirpstack-dedup");
  ASSERT_EQ(cs.Connect(MqttUrl(), kIntegratorUser, IntegratorPassword()), 0);
  auto event = [](const std::string& dev_eui, const std::string& id) {
    json e = json::parse(kUplink);
    e["deduplicationId"] = id;
    e["deviceInfo"]["devEui"] = dev_eui;
    return std::make_pair("application/app-9/device/" + dev_eui + "/event/up", e.dump());
  };
  const std::string id = "3ac7e3c4-4401-4b8d-9386-a5c902f9202d";
  auto [attack_topic, attack] = event("0505050505050505", id);
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(attack_topic, attack)));
  ASSERT_TRUE(WaitFor([&] { return Messages(attacker).size() == 1; })) << server_->log();
  auto [topic, uplink] = event("0404040404040404", id);
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(topic, uplink)));
  ASSERT_TRUE(WaitFor([&] { return Messages(victim).size() == 1; }))
      << "the victim's uplink was taken for a duplicate\n"
      << server_->log();
  // 10,000 characters that do not compress.
  std::string huge;
  uint64_t x = 88172645463325252ull;
  while (huge.size() < 10'000) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(x));
    huge += hex;
  }
  auto [long_topic, long_id] = event("0505050505050505", huge);
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(long_topic, long_id)));
  auto [next_topic, next] = event("0404040404040404", "b1c2d3e4-0000-4000-8000-000000000001");
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(next_topic, next)));
  EXPECT_TRUE(WaitFor([&] { return Messages(attacker).size() == 2; })) << server_->log();
  EXPECT_TRUE(WaitFor([&] { return Messages(victim).size() == 2; })) << server_->log();
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(long_topic, long_id)));  // its redelivery: a duplicate
  ASSERT_TRUE(WaitFor([&] { return Metric("duplicate") >= 1; })) << server_->log();
  EXPECT_EQ(Messages(attacker).size(), 2u);
}

TEST_P(MqttStoresTest, BadInputOnEveryTopicIsCountedAndTheServerKeepsServing) {
  int64_t app = CreateApp("Silkeborg");
  int64_t lora = CreateLorawanDevice(app, "0202020202020202");
  MqttDevice d = CreateMqttDevice(app, "M");
  auto dev = ConnectDevice(d);
  ASSERT_TRUE(dev);
  Peer cs("chirpstack-bad");
  ASSERT_EQ(cs.Connect(MqttUrl(), kIntegratorUser, IntegratorPassword()), 0);
  const std::string topic = "application/app-1/device/0202020202020202/event/up";
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(topic, "this is not json")));
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(topic, R"({"fCnt": "many", "rxInfo": 3})")));
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(topic, R"({"fCnt": 1, "data": "!!not base64!!"})")));
  ASSERT_TRUE(cs.WaitAcked(cs.Publish("application/app-1/device/0303030303030303/event/up",
                                      R"({"fCnt": 1, "data": "AQ=="})")));
  ASSERT_TRUE(dev->WaitAcked(dev->Publish(d.mqtt["upTopic"], R"({"broken": )")));
  ASSERT_TRUE(dev->WaitAcked(dev->Publish(d.mqtt["upTopic"], "{" + std::string(1 << 20, ' '))));

  ASSERT_TRUE(WaitFor([&] {
    return Metric("bad_json") >= 2 && Metric("bad_shape") >= 1 && Metric("bad_base64") >= 1 &&
           Metric("unknown_deveui") >= 1 && Metric("too_large") >= 1;
  })) << admin_->Get("/metrics").body;
  // Known devices keep the bad messages, with the error.
  ASSERT_TRUE(
      WaitFor([&] { return Messages(lora).size() == 3 && Messages(d.device_id).size() == 2; }));
  for (const auto& m : Messages(lora)) EXPECT_EQ(m.value("decodeStatus", ""), "error");
  EXPECT_EQ(admin_->Get("/healthz").status, 200);
  // The unknown DevEUI is listed for onboarding, and a good message still flows.
  auto unknown = Items("/api/v1/lorawan/unknown-devices");
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0].value("devEui", ""), "0303030303030303");
  EXPECT_EQ(unknown[0].value("applicationId", ""), "app-1");
  ASSERT_TRUE(dev->WaitAcked(dev->Publish(d.mqtt["upTopic"], R"({"ok": 1})")));
  ASSERT_TRUE(WaitFor([&] { return Readings(d.device_id, "ok").size() == 1; }));
}

// An attack on the group commit: one organisation's device sends readings at times no store
// keeps (beyond ±31,700 years) amid another organisation's stream. Its messages are stored raw
// with the reason; the other's, committed in the same groups, are all stored. (On PostgreSQL
// such a reading failed the whole group commit, so the other's messages were never acknowledged
// to the broker and never stored while bysans stayed connected.)
TEST_P(MqttStoresTest, ReadingsAtTimesNoStoreKeepsAreRefusedAloneAndHoldUpNoOne) {
  MqttDevice bad = CreateMqttDevice(CreateApp("Angriber"), "Bad");
  // Two neighbours: on PostgreSQL one of them shares the attacker's group-commit writer (a
  // device's writer is its id modulo the two writers).
  const int64_t app = CreateApp("Nabo");
  std::vector<MqttDevice> good = {CreateMqttDevice(app, "Good 1"), CreateMqttDevice(app, "Good 2")};
  auto attacker = ConnectDevice(bad);
  ASSERT_TRUE(attacker) << server_->log();
  std::vector<std::unique_ptr<Peer>> neighbours;
  for (const MqttDevice& g : good) {
    neighbours.push_back(ConnectDevice(g));
    ASSERT_TRUE(neighbours.back()) << server_->log();
  }
  constexpr int kEach = 150;
  const int64_t t0 = 1'780'000'000'000;  // each reading its own time: none replaces another
  int sent_bad = 0, sent_nul = 0;
  for (int i = 0; i < kEach; ++i) {
    for (size_t g = 0; g < good.size(); ++g)
      ASSERT_GE(neighbours[g]->Publish(
                    good[g].mqtt["upTopic"],
                    "{\"seq\": " + std::to_string(i) + ", \"ts\": " + std::to_string(t0 + i) + "}"),
                0);
    if (i % 15 == 0) {
      // Distinct payloads: a device's copies of one message (same time and bytes) are stored once.
      const std::string n = std::to_string(i);
      ASSERT_GE(attacker->Publish(bad.mqtt["upTopic"],
                                  i % 30 == 0 ? R"({"ts": 5000000000000000, "v": )" + n + "}"
                                              : R"({"time": -4000000000000000, "v": )" + n + "}"),
                0);
      ++sent_bad;
      // A text value holding U+0000 (PostgreSQL keeps no such text): kept, with U+FFFD.
      ASSERT_GE(
          attacker->Publish(bad.mqtt["upTopic"], R"({"label": "x\u0000y", "w": )" + n +
                                                     ", \"ts\": " + std::to_string(t0 + i) + "}"),
          0);
      ++sent_nul;
    }
  }
  for (const MqttDevice& g : good)
    EXPECT_TRUE(WaitFor([&] { return Readings(g.device_id, "seq").size() == kEach; }))
        << Readings(g.device_id, "seq").size() << " of " << kEach << " stored\n"
        << server_->log();
  ASSERT_TRUE(WaitFor([&] { return Readings(bad.device_id, "w").size() == size_t(sent_nul); }))
      << server_->log();
  for (const auto& r : Readings(bad.device_id, "label"))
    EXPECT_EQ(r.value("value", ""), "x\xEF\xBF\xBDy");
  ASSERT_TRUE(WaitFor([&] {
    return Messages(bad.device_id).size() == size_t(sent_bad + sent_nul);
  })) << server_->log();
  for (const auto& m : Messages(bad.device_id)) {
    if (m.value("decodeStatus", "") != "error") continue;  // the U+0000 ones
    --sent_bad;
    EXPECT_NE(m.value("decodeError", "").find("outside the range a store keeps"), std::string::npos)
        << m.dump();
  }
  EXPECT_EQ(sent_bad, 0) << "each out-of-range message is stored with its error";
  EXPECT_TRUE(Readings(bad.device_id, "v").empty());
}

// PostgreSQL only (a trigger makes it refuse what no check of bysans knows about).
class MqttRefusalTest : public OnBothStores<MqttTest> {
 protected:
  void Sql(const std::string& sql) {
    auto r = SharedPostgres::Get()->Query(PostgresDatabaseOf(server_env_), sql);
    ASSERT_TRUE(r.ok()) << r.status().message();
  }
};
INSTANTIATE_TEST_SUITE_P(Stores, MqttRefusalTest, ::testing::Values("postgres"),
                         [](const auto& info) { return info.param; });

// The store refuses a message's readings for a reason no check knows: the message is stored raw
// with the reason and acknowledged. Before, it was left unacknowledged, holding one of the
// broker's in-flight slots until a reconnect (enough of them stop ingest for everyone). When the
// raw message is refused too, it is tried again with a delay until it is stored, once.
TEST_P(MqttRefusalTest, AMessageTheStoreRefusesIsKeptRawAndAcknowledged) {
  ASSERT_NO_FATAL_FAILURE(
      Sql("CREATE FUNCTION refuse_666() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
          "IF NEW.num = 666 THEN RAISE EXCEPTION 'refused by a test'; END IF; RETURN NEW; END $$;"
          "CREATE TRIGGER refuse_666 BEFORE INSERT ON readings FOR EACH ROW "
          "EXECUTE FUNCTION refuse_666();"
          "CREATE SEQUENCE poison_refusals;"
          "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
          "IF position('poison' in convert_from(NEW.payload, 'UTF8')) > 0 "
          "AND nextval('poison_refusals') <= 4 THEN RAISE EXCEPTION 'refused by a test'; END IF; "
          "RETURN NEW; END $$;"
          "CREATE TRIGGER refuse_poison BEFORE INSERT ON raw_messages FOR EACH ROW "
          "EXECUTE FUNCTION refuse_poison()"));
  MqttDevice d = CreateMqttDevice(CreateApp("Afvist"), "Refused");
  auto dev = ConnectDevice(d);
  ASSERT_TRUE(dev) << server_->log();
  const int64_t t0 = 1'780'000'000'000;
  ASSERT_TRUE(dev->WaitAcked(
      dev->Publish(d.mqtt["upTopic"], R"({"v": 666, "ts": )" + std::to_string(t0) + "}")))
      << "a message whose readings the store refused was not acknowledged\n"
      << server_->log();
  ASSERT_TRUE(dev->WaitAcked(
      dev->Publish(d.mqtt["upTopic"], R"({"v": 1, "ts": )" + std::to_string(t0 + 1) + "}")));
  ASSERT_TRUE(dev->WaitAcked(dev->Publish(
      d.mqtt["upTopic"], R"({"v": 2, "note": "poison", "ts": )" + std::to_string(t0 + 2) + "}")))
      << "a message refused again and again was not stored and acknowledged\n"
      << server_->log();
  ASSERT_TRUE(WaitFor([&] { return Messages(d.device_id).size() == 3; })) << server_->log();
  int refused = 0;
  for (const auto& m : Messages(d.device_id)) {
    if (m.value("decodeStatus", "") != "error") continue;
    ++refused;
    EXPECT_NE(m.value("decodeError", "").find("not stored as readings"), std::string::npos)
        << m.dump();
  }
  EXPECT_EQ(refused, 2);
  const auto v = Readings(d.device_id, "v");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].value("value", 0.0), 1.0);
  EXPECT_GE(Metric("store_error"), 2);
}

TEST_P(MqttStoresTest, Kill9WhilePublishingLosesNothingAcknowledged) {
  // Our own server with a fixed broker port, so the restart reuses it.
  std::string port = std::to_string(FreePort());
  server_ =
      std::make_unique<ServerProcess>(std::string(), std::vector<std::string>{"--mqtt-port", port});
  server_->SetEnv(server_env_);  // the same store
  ASSERT_TRUE(server_->Start()) << server_->log();
  admin_ = std::make_unique<HttpClient>(server_->url());
  ASSERT_EQ(admin_->Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword).status, 200);
  int64_t app = CreateApp("Odense");
  MqttDevice d = CreateMqttDevice(app, "Flood");
  auto pub = ConnectDevice(d);
  ASSERT_TRUE(pub);

  constexpr int64_t kBase = 1'700'000'000'000;
  std::map<int, int> seq_of_mid;
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::mutex mu;
  std::thread flood([&] {
    for (int seq = 0; !stop.load() && seq < 20000; ++seq) {
      json body = {{"seq", seq}, {"timestamp", kBase + seq}};
      int mid = pub->Publish(d.mqtt["upTopic"], body.dump());
      if (mid < 0) break;
      {
        std::lock_guard lock(mu);
        seq_of_mid[mid] = seq;
      }
      sent = seq + 1;
      if (seq % 50 == 49) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  // Crash bysans (and with it its broker, which saves its queue on SIGTERM) mid-stream.
  ASSERT_TRUE(WaitFor([&] { return Readings(d.device_id, "seq").size() >= 200; }));
  server_->Kill9();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  flood.join();
  std::set<int> acked;
  {
    std::lock_guard lock(mu);
    for (auto& [mid, seq] : seq_of_mid)
      if (pub->Acked(mid)) acked.insert(seq);
  }
  pub.reset();

  std::string dir = server_->data_dir();
  auto keep = std::move(server_);
  server_ = std::make_unique<ServerProcess>(dir, std::vector<std::string>{"--mqtt-port", port});
  server_->SetEnv(server_env_);
  ASSERT_TRUE(server_->Start()) << server_->log();
  admin_ = std::make_unique<HttpClient>(server_->url());
  ASSERT_EQ(admin_->Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword).status, 200);

  const SeqTally t = TallyAckedSeqs(d.device_id, acked);
  std::printf(
      "kill -9: sent %d, broker-acked %zu, stored distinct %zu, raw messages %zu, "
      "acked missing %zu\n",
      sent.load(), acked.size(), t.stored.size(), t.raw, t.missing.size());
  EXPECT_TRUE(t.missing.empty()) << "first missing seq " << t.missing.front();
  EXPECT_EQ(t.raw, t.stored.size());
  EXPECT_GT(acked.size(), 200u);
}

}  // namespace
}  // namespace bysans::testing
