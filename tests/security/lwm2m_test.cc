// Attacks on a device's LwM2M registration and operations (api/lwm2m.cc, issue 20): another
// organisation's editor or admin reads, queues or lists nothing of A's device (404), a viewer
// reads but cannot queue (403) — an observe or cancel-observe neither — and nothing of A changes.
// (The CoAP side — another device's registration id or PSK identity — is attacked in
// tests/integration/lwm2m_test.cc.)
#include <gtest/gtest.h>

#include <fstream>

#include "integration/coap_client.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

class Lwm2mSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    server_env_ = {"BYSANS_COAP_ENABLED=true", "BYSANS_COAP_UDP_PORT=0",
                   "BYSANS_COAP_DTLS_PORT=-1"};
    ServerTest::SetUp();
    BuildTenants();
    std::ifstream f(server_->data_dir() + "/coap.url");
    std::string url;
    std::getline(f, url);
    ASSERT_FALSE(url.empty());
    // A's device registers (a raw CoAP POST /rd?ep=..&k=KEY with a link-format payload).
    RawCoapDevice dev(std::stoi(url.substr(url.rfind(':') + 1)));
    CoapMessage reg;
    reg.code = 2;
    reg.mid = 1;
    reg.token = "r1";
    reg.options = {
        {11, "rd"}, {12, UintOption(40)}, {15, "ep=meter-a"}, {15, "k=" + a_.device.ingest_key}};
    reg.payload = "</3303/0>";
    dev.Send(reg);
    auto answer = dev.Answer(reg);
    ASSERT_TRUE(answer);
    ASSERT_EQ(answer->code, 201) << answer->payload;
    auto op = Send(*a_.editor.client, "POST", Ops(), {{"kind", "read"}, {"path", "/3/0/0"}});
    ASSERT_EQ(op.status, 201) << op.body;
  }

  std::string Reg() const { return a_.DevicePath() + "/lwm2m"; }
  std::string Ops() const { return a_.DevicePath() + "/lwm2m/operations"; }
};

TEST_F(Lwm2mSecurityTest, OtherOrganisationCannotReadOrQueue) {
  const json reg_before = admin_->Get(Reg()).Json();
  ASSERT_EQ(reg_before["endpoint"], "meter-a");
  const json ops_before = admin_->Get(Ops()).Json();
  ASSERT_EQ(ops_before["items"].size(), 1u);
  for (OrgMember* m : {&b_.editor, &b_.admin}) {
    auto get = m->client->Get(Reg());
    EXPECT_EQ(get.status, 404) << get.body;
    EXPECT_EQ(get.body.find("meter-a"), std::string::npos);
    auto list = m->client->Get(Ops());
    EXPECT_EQ(list.status, 404) << list.body;
    EXPECT_EQ(list.body.find("/3/0/0"), std::string::npos);
    auto queue = Send(*m->client, "POST", Ops(), {{"kind", "execute"}, {"path", "/3/0/5"}});
    EXPECT_EQ(queue.status, 404) << queue.body;
  }
  EXPECT_EQ(admin_->Get(Reg()).Json(), reg_before);
  EXPECT_EQ(admin_->Get(Ops()).Json(), ops_before);
}

// Observe and cancel-observe (notifications become A's readings) follow the same rules.
TEST_F(Lwm2mSecurityTest, ObserveOnlyByTheOrganisationsEditors) {
  const json ops_before = admin_->Get(Ops()).Json();
  for (OrgMember* m : {&b_.editor, &b_.admin}) {
    for (const char* kind : {"observe", "cancel-observe"}) {
      auto queue = Send(*m->client, "POST", Ops(), {{"kind", kind}, {"path", "/3303/0"}});
      EXPECT_EQ(queue.status, 404) << kind << " " << queue.body;
    }
  }
  for (const char* kind : {"observe", "cancel-observe"}) {
    auto queue = Send(*a_.viewer.client, "POST", Ops(), {{"kind", kind}, {"path", "/3303/0"}});
    EXPECT_EQ(queue.status, 403) << kind << " " << queue.body;
  }
  EXPECT_EQ(admin_->Get(Ops()).Json(), ops_before);
  // The observations are A's to see: B's members get 404 for the registration that lists them.
  EXPECT_EQ(b_.editor.client->Get(Reg()).status, 404);
  EXPECT_TRUE(a_.viewer.client->Get(Reg()).Json().contains("observations"));
  auto ok = Send(*a_.editor.client, "POST", Ops(), {{"kind", "observe"}, {"path", "/3303/0"}});
  EXPECT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(ok.Json()["kind"], "observe");
}

TEST_F(Lwm2mSecurityTest, ViewerReadsButCannotQueue) {
  auto get = a_.viewer.client->Get(Reg());
  EXPECT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(get.Json()["endpoint"], "meter-a");
  EXPECT_EQ(a_.viewer.client->Get(Ops()).status, 200);
  auto queue = Send(*a_.viewer.client, "POST", Ops(), {{"kind", "execute"}, {"path", "/3/0/4"}});
  EXPECT_EQ(queue.status, 403) << queue.body;
  EXPECT_EQ(admin_->Get(Ops()).Json()["items"].size(), 1u);
  // An editor may queue; a malformed path is refused.
  EXPECT_EQ(Send(*a_.editor.client, "POST", Ops(), {{"kind", "write"}, {"path", "/3/x"}}).status,
            400);
  EXPECT_EQ(Send(*a_.admin.client, "POST", Ops(), {{"kind", "execute"}, {"path", "/3/0/4"}}).status,
            201);
}

}  // namespace
}  // namespace bysans::testing
