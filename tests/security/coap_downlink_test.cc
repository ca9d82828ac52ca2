// Attacks on the downlinks of CoAP (HTTP-transport) devices (api/downlink.cc, coap/, issue 20):
// another organisation's editor or admin cannot queue a downlink on A's device, nor read its
// history; A's viewer cannot queue one. Over CoAP a device only ever gets its own downlinks:
// B's device, posting with its own key, never receives A's; A's device never receives B's. Each
// test also checks the legitimate use, so it cannot pass by everything being broken.
#include <gtest/gtest.h>

#include "integration/coap_client.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

class CoapDownlinkSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    server_env_ = {"BYSANS_COAP_ENABLED=true", "BYSANS_COAP_UDP_PORT=0",
                   "BYSANS_COAP_DTLS_PORT=-1"};
    ServerTest::SetUp();
    BuildTenants();
    port_ = PortInUrlFile(server_->data_dir() + "/coap.url");
    ASSERT_GT(port_, 0);
  }

  // The payload of the 2.04 answering a stored uplink of the device with this key.
  std::string UplinkAnswer(const std::string& key, uint16_t mid) {
    RawCoapDevice dev(port_);
    auto req = RawCoapDevice::Post(mid, key, 50, R"({"n": 1})");
    dev.Send(req);
    auto a = dev.Answer(req);
    EXPECT_TRUE(a);
    if (!a) return "<no answer>";
    EXPECT_EQ(a->code, 204) << a->payload;
    return a->payload;
  }

  int port_ = 0;
};

TEST_F(CoapDownlinkSecurityTest, OtherOrganisationAndViewersCannotQueueOrRead) {
  const std::string path = a_.DevicePath() + "/downlink";
  for (OrgMember* m : {&b_.editor, &b_.admin}) {
    auto post = Send(*m->client, "POST", path, {{"hex", "dead"}});
    EXPECT_EQ(post.status, 404) << post.body;
    auto obj = Send(*m->client, "POST", path, {{"object", {{"x", 1}}}});
    EXPECT_EQ(obj.status, 404) << obj.body;
    auto get = m->client->Get(path);
    EXPECT_EQ(get.status, 404) << get.body;
  }
  auto viewer = Send(*a_.viewer.client, "POST", path, {{"hex", "dead"}});
  EXPECT_EQ(viewer.status, 403) << viewer.body;
  EXPECT_EQ(a_.viewer.client->Get(path).Json()["items"].size(), 0u) << "nothing queued";
  EXPECT_EQ(UplinkAnswer(a_.device.ingest_key, 1), "") << "nothing delivered";

  // A's editor may: queued, then delivered to A's device.
  auto ok = Send(*a_.editor.client, "POST", path, {{"hex", "0a"}});
  ASSERT_EQ(ok.status, 202) << ok.body;
  EXPECT_EQ(ok.Json().value("status", ""), "queued");
  EXPECT_EQ(UplinkAnswer(a_.device.ingest_key, 2), "\x0a");
}

TEST_F(CoapDownlinkSecurityTest, ADeviceOnlyEverGetsItsOwnDownlinks) {
  ASSERT_EQ(Send(*a_.editor.client, "POST", a_.DevicePath() + "/downlink", {{"hex", "aa"}}).status,
            202);
  ASSERT_EQ(Send(*b_.editor.client, "POST", b_.DevicePath() + "/downlink", {{"hex", "bb"}}).status,
            202);
  // B's device first: it gets B's downlink, never A's; then nothing more.
  EXPECT_EQ(UplinkAnswer(b_.device.ingest_key, 10), "\xbb");
  EXPECT_EQ(UplinkAnswer(b_.device.ingest_key, 11), "");
  auto a_history = a_.viewer.client->Get(a_.DevicePath() + "/downlink").Json()["items"];
  ASSERT_EQ(a_history.size(), 1u);
  EXPECT_EQ(a_history[0].value("status", ""), "queued") << "A's downlink is still waiting";
  EXPECT_EQ(UplinkAnswer(a_.device.ingest_key, 12), "\xaa");
  // A key that is no device's gets a refusal, never a downlink.
  RawCoapDevice dev(port_);
  auto req = RawCoapDevice::Post(13, a_.device.ingest_key + "x", 50, R"({"n": 1})");
  dev.Send(req);
  auto a = dev.Answer(req);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code, 403);
}

}  // namespace
}  // namespace bysans::testing
