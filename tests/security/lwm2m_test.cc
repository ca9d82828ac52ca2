// Attacks on a device's LwM2M registration and operations (api/lwm2m.cc, issue 20): another
// organisation's editor or admin reads, queues or lists nothing of A's device (404), a viewer
// reads but cannot queue (403) — an observe or cancel-observe neither — and nothing of A changes.
// A's backlog of operations for devices that never register neither starves B's registered
// device (lwm2m/server.cc Tick reads per reachable device) nor grows without bound (100 open per
// device, then 429; expired after coap.lwm2m_operation_expiry_s).
// (The CoAP side — another device's registration id or PSK identity — is attacked in
// tests/integration/lwm2m_test.cc.)
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "integration/coap_client.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

class Lwm2mSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    for (const char* e :
         {"BYSANS_COAP_ENABLED=true", "BYSANS_COAP_UDP_PORT=0", "BYSANS_COAP_DTLS_PORT=-1"})
      server_env_.push_back(e);
    ServerTest::SetUp();
    BuildTenants();
    coap_port_ = PortInUrlFile(server_->data_dir() + "/coap.url");
    ASSERT_GT(coap_port_, 0);
    // A's device registers (a raw CoAP POST /rd?ep=..&k=KEY with a link-format payload).
    auto dev = Register("meter-a", a_.device.ingest_key, "</3303/0>");
    ASSERT_TRUE(dev);
    auto op = Send(*a_.editor.client, "POST", Ops(), {{"kind", "read"}, {"path", "/3/0/0"}});
    ASSERT_EQ(op.status, 201) << op.body;
  }

  // A device of `key` registered over plain UDP from a socket of its own; null if refused.
  std::unique_ptr<RawCoapDevice> Register(const std::string& ep, const std::string& key,
                                          const std::string& objects) {
    auto dev = std::make_unique<RawCoapDevice>(coap_port_);
    CoapMessage reg;
    reg.code = 2;
    reg.mid = 1;
    reg.token = "r1";
    reg.options = {{11, "rd"}, {12, UintOption(40)}, {15, "ep=" + ep}, {15, "k=" + key}};
    reg.payload = objects;
    dev->Send(reg);
    auto answer = dev->Answer(reg);
    EXPECT_TRUE(answer);
    if (!answer) return nullptr;
    EXPECT_EQ(answer->code, 201) << answer->payload;
    return answer->code == 201 ? std::move(dev) : nullptr;
  }

  // A device in A's application that never registers.
  std::string UnregisteredADevice(const std::string& name) {
    auto dev = admin_->PostJson(a_.AppPath() + "/devices", {{"name", name}, {"transport", "http"}});
    EXPECT_EQ(dev.status, 201) << dev.body;
    return "/api/v1/devices/" + std::to_string(dev.Json().value("id", int64_t{0}));
  }

  // The device's operations as its organisation's editor lists them.
  static json OpsOf(HttpClient& c, const std::string& device_path) {
    auto r = c.Get(device_path + "/lwm2m/operations?limit=1000");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json()["items"];
  }

  std::string Reg() const { return a_.DevicePath() + "/lwm2m"; }
  std::string Ops() const { return a_.DevicePath() + "/lwm2m/operations"; }

  int coap_port_ = 0;
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

// The reviewer's starvation attack: A's editor queues operations for devices that never register
// — 100 per device, the most a device may have open (the 101st is refused), on 10 devices, more
// than the 1,000 the CoAP server once read per tick across all organisations, oldest first. B's
// device registers and B's read of it is sent and done at once, not behind A's backlog.
TEST_F(Lwm2mSecurityTest, AnotherOrganisationsBacklogDoesNotStarveADevice) {
  const std::string first = UnregisteredADevice("never-registers-0");
  for (int i = 0; i < 100; ++i) {
    auto r = Send(*a_.editor.client, "POST", first + "/lwm2m/operations",
                  {{"kind", "read"}, {"path", "/3/0/0"}});
    ASSERT_EQ(r.status, 201) << i << " " << r.body;
  }
  auto refused = Send(*a_.editor.client, "POST", first + "/lwm2m/operations",
                      {{"kind", "read"}, {"path", "/3/0/0"}});
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_NE(refused.body.find("100 LwM2M operations queued or sent"), std::string::npos)
      << refused.body;
  EXPECT_EQ(OpsOf(*a_.editor.client, first).size(), 100u);
  for (int d = 1; d < 10; ++d) {
    const std::string dev = UnregisteredADevice("never-registers-" + std::to_string(d));
    for (int i = 0; i < 100; ++i) {
      auto r = Send(*a_.editor.client, "POST", dev + "/lwm2m/operations",
                    {{"kind", "read"}, {"path", "/3/0/0"}});
      ASSERT_EQ(r.status, 201) << d << "/" << i << " " << r.body;
    }
  }

  // B's device registers (no objects it would be observed on) and answers every request 2.05.
  auto b_dev = Register("meter-b", b_.device.ingest_key, "</1/0>");
  ASSERT_TRUE(b_dev);
  const std::string b_ops = b_.DevicePath() + "/lwm2m/operations";
  auto queued = Send(*b_.editor.client, "POST", b_ops, {{"kind", "read"}, {"path", "/3/0/0"}});
  ASSERT_EQ(queued.status, 201) << queued.body;
  const auto start = std::chrono::steady_clock::now();
  json op;
  bool asked = false;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    while (auto m = b_dev->Receive(200)) {
      if (m->type != 0 || m->code == 0 || m->code >= 100) continue;  // requests only
      std::string path;
      for (const auto& [number, value] : m->options)
        if (number == 11) path += "/" + value;
      if (path == "/3/0/0") asked = true;
      b_dev->Send(CoapMessage{2, 205, m->mid, m->token, {{12, ""}}, "hello"});
    }
    json items = OpsOf(*b_.editor.client, b_.DevicePath());
    ASSERT_EQ(items.size(), 1u);
    op = items[0];
    if (op["state"] == "done") break;
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  EXPECT_TRUE(asked) << "B's device was never sent the read";
  EXPECT_EQ(op["state"], "done") << op.dump() << " after " << took << " ms";
  EXPECT_EQ(op.value("resultCode", ""), "2.05") << op.dump();
  EXPECT_EQ(op.value("result", ""), "hello") << op.dump();
  // A's backlog is still there, queued: nothing of A was lost or sent.
  const json a_first = OpsOf(*a_.editor.client, first);
  EXPECT_EQ(a_first.size(), 100u);
  for (const json& o : a_first) EXPECT_EQ(o["state"], "queued") << o.dump();
}

// Queued operations of a device that does not register expire (here after 2 s,
// coap.lwm2m_operation_expiry_s): failed, with the reason in the API (a failed one no longer
// counts under the cap: device_channels_backends_test.cc).
class Lwm2mExpirySecurityTest : public Lwm2mSecurityTest {
 protected:
  void SetUp() override {
    server_env_ = {"BYSANS_COAP_LWM2M_OPERATION_EXPIRY_S=2"};
    Lwm2mSecurityTest::SetUp();
  }
};

TEST_F(Lwm2mExpirySecurityTest, QueuedOperationsOfAnAbsentDeviceExpire) {
  const std::string dev = UnregisteredADevice("never-registers");
  for (const char* path : {"/3/0/0", "/3/0/1"}) {
    auto r = Send(*a_.editor.client, "POST", dev + "/lwm2m/operations",
                  {{"kind", "read"}, {"path", path}});
    ASSERT_EQ(r.status, 201) << r.body;
  }
  json items;
  for (int i = 0; i < 100; ++i) {
    items = OpsOf(*a_.viewer.client, dev);
    ASSERT_EQ(items.size(), 2u);
    if (items[0]["state"] == "failed" && items[1]["state"] == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (const json& o : items) {
    EXPECT_EQ(o["state"], "failed") << o.dump();
    EXPECT_EQ(o.value("error", "").rfind("expired: ", 0), 0u) << o.dump();
    EXPECT_NE(o.value("error", "").find("within 2 s"), std::string::npos) << o.dump();
  }
  // Expired or not, they are A's: B's editor cannot list them.
  EXPECT_EQ(b_.editor.client->Get(dev + "/lwm2m/operations").status, 404);
}

}  // namespace
}  // namespace bysans::testing
