// One organisation must not shut the others out of ingest. Every uplink waits in the pipeline's
// in-flight window (ingest.max_in_flight) from receipt to commit, and a transport is told to retry
// when the window is full. A CoAP device need not wait for its answers, so organisation B's device
// can send requests faster than they are committed; here B's decoder (a loop, stopped by its
// time limit) also keeps each one waiting. Before each organisation had a share of the window
// (ingest.max_in_flight_per_org, pipeline/org_window.h), B held all of it and A's uplinks over
// HTTP and CoAP were answered 503 / 5.03 for as long as B kept sending.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "integration/coap_client.h"
#include "integration/mqtt_fixture.h"
#include "integration/sta_mqtt_fixture.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

constexpr int kWindow = 64;
constexpr int kShare = 16;

class IngestWindowSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    server_env_ = {"BYSANS_COAP_ENABLED=true", "BYSANS_COAP_UDP_PORT=0", "BYSANS_COAP_DTLS_PORT=-1",
                   "BYSANS_INGEST_MAX_IN_FLIGHT=" + std::to_string(kWindow),
                   "BYSANS_INGEST_MAX_IN_FLIGHT_PER_ORG=" + std::to_string(kShare)};
    ServerTest::SetUp();
    BuildTenants();
    port_ = PortInUrlFile(server_->data_dir() + "/coap.url");
    ASSERT_GT(port_, 0);
  }

  size_t StoredMessages(Tenant& t) {
    auto r = t.viewer.client->Get(t.DevicePath() + "/messages?limit=1000");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().value("items", json::array()).size();
  }

  // Organisation B at its share: its device's decoder loops (each uplink held `limit_ms` by its
  // time limit) and the device sends `n` non-confirmable CoAP requests without waiting.
  std::unique_ptr<RawCoapDevice> FloodAsB(int n, int limit_ms) {
    EXPECT_EQ(
        Send(*b_.admin.client, "PATCH", b_.OrgPath(), {{"decoderTimeoutMs", limit_ms}}).status,
        200);
    AttachNewDecoder(b_, "function decode(p, m) { for (;;) {} }");
    auto flood = std::make_unique<RawCoapDevice>(port_);
    for (int i = 0; i < n; ++i) {
      flood->Send(RawCoapDevice::Post(static_cast<uint16_t>(1000 + i), b_.device.ingest_key, 50,
                                      json{{"v", i}}.dump(), 1));
      if (i % 20 == 19) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_TRUE(WaitFor([&] { return MetricLine("bysans_pipeline_in_flight") >= kShare; }, 30))
        << server_->log();
    return flood;
  }

  // After `flooded` of B's CoAP requests, `waiting` messages of B wait for B's share: once all
  // have been refused, they are tried again in 2 s at most 10 times each. Every 20 ms would be ~100
  // tries per message in 2 s; growing to 0.5 s, at most ~6.
  void ExpectRetriesBackOff(int flooded, int waiting) {
    ASSERT_TRUE(WaitFor(
        [&] { return MetricLine("bysans_pipeline_org_share_rejected_total") >= flooded + waiting; },
        10));
    const double before = MetricLine("bysans_pipeline_org_share_rejected_total");
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const double tries = MetricLine("bysans_pipeline_org_share_rejected_total") - before;
    EXPECT_GT(MetricLine("bysans_pipeline_in_flight"), 0) << "B's share was still held";
    EXPECT_LE(tries, waiting * 10) << "B's waiting messages were retried without pause";
    EXPECT_GT(tries, 0) << "they were still waiting, and tried again";
  }

  int port_ = 0;
};

TEST_F(IngestWindowSecurityTest, OneOrganisationsFloodLeavesRoomForTheOthers) {
  constexpr int kFlood = 200;
  std::unique_ptr<RawCoapDevice> flood = FloodAsB(kFlood, 100);

  // A's uplinks over HTTP and over CoAP are stored while B holds its share.
  for (int i = 0; i < 20; ++i) {
    auto r = Ingest(a_.device.ingest_key, json{{"v", i}}.dump());
    ASSERT_EQ(r.status, 204) << r.body;
  }
  RawCoapDevice a_device(port_);
  for (int i = 0; i < 5; ++i) {
    auto req = RawCoapDevice::Post(static_cast<uint16_t>(i + 1), a_.device.ingest_key, 50,
                                   json{{"w", i}}.dump());
    a_device.Send(req);
    auto answer = a_device.Answer(req);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->code, 204) << answer->payload;
  }
  EXPECT_EQ(StoredMessages(a_), 25u);
  // B's own HTTP uplink is told to slow down (429), not that the server is full.
  auto b_http = Ingest(b_.device.ingest_key, json{{"v", -1}}.dump());
  EXPECT_EQ(b_http.status, 429) << b_http.body;
  EXPECT_NE(b_http.body.find("its share of the ingest pipeline"), std::string::npos) << b_http.body;
  EXPECT_GT(MetricLine("bysans_pipeline_in_flight"), 0) << "B's uplinks were still waiting";
  EXPECT_GT(MetricLine("bysans_pipeline_org_share_rejected_total"), 0);

  // B was told to retry past its share, and each request it was not told so is stored (raw,
  // with its decoder's time-limit error).
  int stored = 0, busy = 0;
  while (stored + busy < kFlood) {
    auto m = flood->Receive(10'000);
    if (!m) break;
    if (m->code == 204) ++stored;
    if (m->code == 503) ++busy;
  }
  EXPECT_GE(busy, kFlood - kWindow) << "B's requests past its share were refused";
  EXPECT_LE(stored, kWindow);
  EXPECT_GE(stored, 1);
  EXPECT_EQ(StoredMessages(b_), static_cast<size_t>(stored));
}

// B's MQTT messages that arrive while B holds its share wait in bysans' retry queue (they hold
// the broker session's receive window until stored). Each is tried again after a delay that grows
// while the pressure lasts (20 ms to 0.5 s): before, all were submitted again every 20 ms, up to
// the whole receive window, 800,000 tries a second, a core spent while B kept its share full.
// None is lost: each is stored once B's share frees.
TEST_F(IngestWindowSecurityTest, MqttMessagesWaitingForTheirShareBackOff) {
  auto flood = FloodAsB(100, 500);  // B at its share for ~8 s (16 decodes of 0.5 s in turn)
  auto dev = Send(*b_.editor.client, "POST", b_.AppPath() + "/devices",
                  {{"name", "Maaler"}, {"transport", "mqtt"}});
  ASSERT_EQ(dev.status, 201) << dev.body;
  MqttDevice mqtt;
  mqtt.device_id = dev.Json().value("id", int64_t{0});
  mqtt.mqtt = dev.Json().value("mqtt", json::object());
  auto peer = ConnectAs(ReadLine(fs::path(server_->data_dir()) / "mqtt.url"), mqtt);
  ASSERT_TRUE(peer);
  constexpr int kMessages = 20;
  for (int i = 0; i < kMessages; ++i) {
    int mid = peer->Publish(mqtt.mqtt["upTopic"], json{{"m", i}}.dump());
    ASSERT_TRUE(mid >= 0 && peer->WaitAcked(mid));
  }
  ASSERT_NO_FATAL_FAILURE(ExpectRetriesBackOff(100, kMessages));
  auto stored = [&] {
    auto r = b_.viewer.client->Get("/api/v1/devices/" + std::to_string(mqtt.device_id) +
                                   "/messages?limit=100");
    return r.Json().value("items", json::array()).size();
  };
  EXPECT_TRUE(WaitFor([&] { return stored() >= kMessages; }, 60)) << server_->log();
  EXPECT_EQ(stored(), static_cast<size_t>(kMessages));
}

// SensorThings Observations that B publishes over MQTT (server/sta_mqtt.cc) while B holds its
// share wait in that service's retry list, as ingest's MQTT messages do, and back off the same
// way: before, each was submitted again every 20 ms. None is lost.
TEST_F(IngestWindowSecurityTest, SensorThingsObservationsWaitingForTheirShareBackOff) {
  ASSERT_EQ(Ingest(b_.device.ingest_key, json{{"ts", kStaT0}, {"temperature", -5}}.dump()).status,
            204);
  const int64_t ds = DatastreamId(*b_.viewer.client, b_.device.device_id, "temperature");
  ASSERT_GT(ds, 0);
  MqttKey key = CreateMqttKey(*b_.admin.client, b_.device.org_id, "editor");
  auto flood = FloodAsB(100, 500);
  auto pub = ConnectKey(ReadLine(fs::path(server_->data_dir()) / "mqtt.url"), key);
  ASSERT_NE(pub, nullptr);
  constexpr int kObservations = 20;
  for (int i = 1; i <= kObservations; ++i)
    ASSERT_TRUE(pub->WaitAcked(pub->Publish(DatastreamTopic(ds), ObservationBody(i, i))));
  ASSERT_NO_FATAL_FAILURE(ExpectRetriesBackOff(100, kObservations));
  auto stored = [&] {
    auto [status, body] =
        StaGet(*b_.viewer.client, "Datastreams(" + std::to_string(ds) + ")/Observations",
               {{"$top", "100"}});
    EXPECT_EQ(status, 200) << body.dump();
    return body.value("value", json::array()).size();
  };
  EXPECT_TRUE(WaitFor([&] { return stored() >= kObservations + 1; }, 60)) << server_->log();
  EXPECT_EQ(stored(), static_cast<size_t>(kObservations + 1));  // and the first reading
}

}  // namespace
}  // namespace bysans::testing
