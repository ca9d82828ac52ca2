// One organisation must not shut the others out of ingest. Every uplink waits in the pipeline's
// in-flight window (ingest.max_in_flight) from receipt to commit, and a transport is told to retry
// when the window is full. A CoAP device need not wait for its answers, so organisation B's device
// can send requests faster than they are committed; here B's decoder (a loop, stopped by its
// time limit) also keeps each one waiting. Before each organisation had a share of the window
// (ingest.max_in_flight_per_org, pipeline/org_window.h), B held all of it and A's uplinks over
// HTTP and CoAP were answered 503 / 5.03 for as long as B kept sending.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "integration/coap_client.h"
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
    std::ifstream f(server_->data_dir() + "/coap.url");
    std::string url;
    std::getline(f, url);
    port_ = std::stoi(url.substr(url.rfind(':') + 1));
  }

  size_t StoredMessages(Tenant& t) {
    auto r = t.viewer.client->Get(t.DevicePath() + "/messages?limit=1000");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().value("items", json::array()).size();
  }

  int port_ = 0;
};

TEST_F(IngestWindowSecurityTest, OneOrganisationsFloodLeavesRoomForTheOthers) {
  AttachNewDecoder(b_, "function decode(p, m) { for (;;) {} }");
  RawCoapDevice flood(port_);
  constexpr int kFlood = 200;
  for (int i = 0; i < kFlood; ++i) {
    // Non-confirmable: B's device sends on without waiting for any answer.
    flood.Send(RawCoapDevice::Post(static_cast<uint16_t>(1000 + i), b_.device.ingest_key, 50,
                                   json{{"v", i}}.dump(), 1));
    if (i % 20 == 19) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(WaitFor([&] { return MetricLine("bysans_pipeline_in_flight") >= kShare; }, 30))
      << server_->log();

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
  EXPECT_GT(MetricLine("bysans_pipeline_in_flight"), 0) << "B's uplinks were still waiting";
  EXPECT_GT(MetricLine("bysans_pipeline_org_share_rejected_total"), 0);

  // B was told to retry past its share, and each request it was not told so is stored (raw,
  // with its decoder's time-limit error).
  int stored = 0, busy = 0;
  while (stored + busy < kFlood) {
    auto m = flood.Receive(10'000);
    if (!m) break;
    if (m->code == 204) ++stored;
    if (m->code == 503) ++busy;
  }
  EXPECT_GE(busy, kFlood - kWindow) << "B's requests past its share were refused";
  EXPECT_LE(stored, kWindow);
  EXPECT_GE(stored, 1);
  EXPECT_EQ(StoredMessages(b_), static_cast<size_t>(stored));
}

}  // namespace
}  // namespace bysans::testing
