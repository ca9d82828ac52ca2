// Data targets (issue 16): organisation B cannot see or touch organisation A's targets, viewers
// and editors cannot write, header values are write-only, and a target cannot aim bysans at a
// loopback or private address without outbound.allow.
#include "integration/target_receiver.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

class DataTargetSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    server_env_ = {
        "BYSANS_OUTBOUND_ALLOW="};  // public addresses only (the harness allows loopback)
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    BuildTenants();
    auto r = Send(*a_.admin.client, "POST", a_.AppPath() + "/data-targets",
                  {{"name", "Kommunens datavarehus"},
                   {"url", "https://example.com/hook"},
                   {"headers", {{"Authorization", "Bearer a-secret-token"}}}});
    ASSERT_EQ(r.status, 201) << r.body;
    target_ = "/api/v1/data-targets/" + std::to_string(r.Json()["id"].get<int64_t>());
  }

  // Every write route on A's target, with a valid body.
  std::vector<std::tuple<std::string, std::string, json>> Writes() const {
    return {{"POST",
             a_.AppPath() + "/data-targets",
             {{"name", "stolen"}, {"url", "https://example.org/x"}}},
            {"PUT", target_, {{"name", "changed"}}},
            {"POST", target_ + "/pause", json::object()},
            {"POST", target_ + "/resume", json::object()},
            {"POST", target_ + "/test", {{"deviceId", a_.device.device_id}}},
            {"POST", target_ + "/dead-letters/replay", json::object()},
            {"POST", target_ + "/backfill", {{"from", "2026-01-01T00:00:00Z"}}},
            {"DELETE", target_ + "/backfill", json::object()},
            {"DELETE", target_, json::object()}};
  }
  std::vector<std::string> Reads() const {
    return {a_.AppPath() + "/data-targets", target_, target_ + "/deliveries",
            target_ + "/dead-letters"};
  }

  void ExpectUnchanged() {
    auto r = a_.admin.client->Get(target_);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Json().value("name", ""), "Kommunens datavarehus");
    EXPECT_FALSE(r.Json().value("paused", true));
    EXPECT_EQ(r.Json()["headerNames"], json({"Authorization"}));
  }

  std::string target_;
};

TEST_F(DataTargetSecurityTest, OtherOrganisationCannotReadOrWriteTargets) {
  for (OrgMember* m : {&b_.admin, &b_.editor, &b_.viewer}) {
    for (const auto& path : Reads()) {
      auto r = m->client->Get(path);
      EXPECT_EQ(r.status, 404) << m->email << " GET " << path << ": " << r.body;
    }
    for (const auto& [method, path, body] : Writes()) {
      auto r = Send(*m->client, method, path, body);
      EXPECT_EQ(r.status, 404) << m->email << " " << method << " " << path << ": " << r.body;
    }
  }
  ExpectUnchanged();
  // B's own target cannot name A's device.
  auto r =
      Send(*b_.admin.client, "POST", b_.AppPath() + "/data-targets",
           {{"name", "b"}, {"url", "https://example.com/b"}, {"deviceIds", {a_.device.device_id}}});
  EXPECT_EQ(r.status, 400) << r.body;
  // Nor test with it.
  r = Send(*b_.admin.client, "POST", b_.AppPath() + "/data-targets",
           {{"name", "b"}, {"url", "https://example.com/b"}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto b_target = "/api/v1/data-targets/" + std::to_string(r.Json()["id"].get<int64_t>());
  r = Send(*b_.admin.client, "POST", b_target + "/test", {{"deviceId", a_.device.device_id}});
  EXPECT_EQ(r.status, 400) << r.body;
}

TEST_F(DataTargetSecurityTest, ViewersAndEditorsOnlyRead) {
  for (OrgMember* m : {&a_.viewer, &a_.editor}) {
    for (const auto& path : Reads()) {
      auto r = m->client->Get(path);
      EXPECT_EQ(r.status, 200) << m->email << " GET " << path << ": " << r.body;
      EXPECT_EQ(r.body.find("a-secret-token"), std::string::npos) << r.body;
    }
    for (const auto& [method, path, body] : Writes()) {
      auto r = Send(*m->client, method, path, body);
      EXPECT_EQ(r.status, 403) << m->email << " " << method << " " << path << ": " << r.body;
    }
  }
  ExpectUnchanged();
  // The admin may (so the refusals above are about the role, not a broken route).
  auto r = Send(*a_.admin.client, "PUT", target_, {{"name", "Datavarehus"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("a-secret-token"), std::string::npos) << r.body;
  r = Send(*a_.admin.client, "POST", target_ + "/pause", json::object());
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.Json().value("paused", false));
}

TEST_F(DataTargetSecurityTest, LoopbackAndPrivateAddressesAreRefusedWithoutOutboundAllow) {
  for (const std::string url : {"http://127.0.0.1:8080/x", "http://[::1]/x", "http://10.1.2.3/x",
                                "http://192.168.1.1/x", "http://169.254.169.254/latest/meta-data",
                                "http://0.0.0.0:80/", "http://[::ffff:127.0.0.1]/"}) {
    auto r = Send(*a_.admin.client, "POST", a_.AppPath() + "/data-targets",
                  {{"name", "internal"}, {"url", url}});
    EXPECT_EQ(r.status, 400) << url << ": " << r.body;
    r = Send(*a_.admin.client, "PUT", target_,
             {{"url", url}, {"headers", {{"Authorization", nullptr}}}});
    EXPECT_EQ(r.status, 400) << url << ": " << r.body;
  }
  // MQTT targets too (mqtt/client.h checks names on connect, like the integrations).
  for (const std::string url : {"mqtt://127.0.0.1:1883", "mqtts://10.0.0.5", "mqtt://[::1]:1883"}) {
    auto r = Send(*a_.admin.client, "POST", a_.AppPath() + "/data-targets",
                  {{"name", "broker"}, {"type", "mqtt"}, {"url", url}, {"topic", "t/{device}"}});
    EXPECT_EQ(r.status, 400) << url << ": " << r.body;
  }
  // An NGSI-LD target's OAuth2 token URL gets its client secret: the same policy applies.
  for (const std::string token_url : {"http://127.0.0.1:9000/token", "http://10.0.0.7/token"}) {
    json ngsild = {{"auth",
                    {{"type", "oauth2"},
                     {"tokenUrl", token_url},
                     {"clientId", "bysans"},
                     {"clientSecret", "s3cret"}}}};
    auto r = Send(*a_.admin.client, "POST", a_.AppPath() + "/data-targets",
                  {{"name", "broker"},
                   {"type", "ngsi-ld"},
                   {"url", "https://context.example.com/"},
                   {"ngsiLd", ngsild}});
    EXPECT_EQ(r.status, 400) << token_url << ": " << r.body;
    EXPECT_NE(r.body.find("tokenUrl"), std::string::npos) << r.body;
    ngsild["auth"]["tokenUrl"] = "https://auth.example.com/token";  // a public one is accepted
    r = Send(*a_.admin.client, "POST", a_.AppPath() + "/data-targets",
             {{"name", "broker"},
              {"type", "ngsi-ld"},
              {"url", "https://context.example.com/"},
              {"ngsiLd", ngsild},
              {"paused", true}});
    EXPECT_EQ(r.status, 201) << r.body;
  }
  // Credentials in the URL would be shown to every viewer: refused.
  auto r = Send(*a_.admin.client, "POST", a_.AppPath() + "/data-targets",
                {{"name", "creds"}, {"url", "https://user:pw@example.com/"}});
  EXPECT_EQ(r.status, 400) << r.body;
  // A name that resolves to loopback passes the form but never connects.
  TargetReceiver rx(TargetReceiver::Mode::kOk);
  r = Send(*a_.admin.client, "POST", a_.AppPath() + "/data-targets",
           {{"name", "by name"}, {"url", "http://localhost:" + std::to_string(rx.port()) + "/x"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string path = "/api/v1/data-targets/" + std::to_string(r.Json()["id"].get<int64_t>());
  ASSERT_EQ(Ingest(a_.device.ingest_key, R"({"temperature": 21.5})").status, 204);
  r = Send(*a_.admin.client, "POST", path + "/test", {{"deviceId", a_.device.device_id}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.Json().value("ok", true)) << r.body;
  EXPECT_NE(r.Json().value("error", "").find("could not connect"), std::string::npos) << r.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the worker's attempt, too
  EXPECT_TRUE(rx.hits().empty());
}

TEST_F(DataTargetSecurityTest, HeaderValuesAreWriteOnly) {
  for (const auto& path : {target_, a_.AppPath() + "/data-targets"}) {
    auto r = a_.admin.client->Get(path);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body.find("a-secret-token"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("Authorization"), std::string::npos) << r.body;  // the name is shown
  }
  // A header that would inject another line is refused.
  auto r = Send(*a_.admin.client, "PUT", target_, {{"headers", {{"X-A", "v\r\nX-Evil: 1"}}}});
  EXPECT_EQ(r.status, 400) << r.body;
  // Moving the target to another server without giving the secret again is refused, so a
  // stored credential never follows the URL.
  r = Send(*a_.admin.client, "PUT", target_, {{"url", "https://attacker.example.net/"}});
  EXPECT_EQ(r.status, 400) << r.body;
  ExpectUnchanged();
  // An MQTT target's password: write-only, and it does not follow the URL to another broker.
  r = Send(*a_.admin.client, "POST", a_.AppPath() + "/data-targets",
           {{"name", "broker"},
            {"type", "mqtt"},
            {"url", "mqtts://broker.example.com"},
            {"topic", "kommune/{device}"},
            {"username", "bysans"},
            {"password", "mqtt-secret-pw"}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.body.find("mqtt-secret-pw"), std::string::npos) << r.body;
  EXPECT_TRUE(r.Json().value("hasPassword", false));
  const std::string mqtt = "/api/v1/data-targets/" + std::to_string(r.Json()["id"].get<int64_t>());
  for (OrgMember* m : {&a_.admin, &a_.viewer}) {
    auto g = m->client->Get(mqtt);
    ASSERT_EQ(g.status, 200) << g.body;
    EXPECT_EQ(g.body.find("mqtt-secret-pw"), std::string::npos) << g.body;
  }
  r = Send(*a_.admin.client, "PUT", mqtt, {{"url", "mqtt://attacker.example.net"}});
  EXPECT_EQ(r.status, 400) << r.body;
  r = Send(*a_.admin.client, "PUT", mqtt, {{"name", "renamed"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.Json().value("hasPassword", false)) << r.body;
}

}  // namespace
}  // namespace bysans::testing
