// The operator role (issue 21): acknowledges, comments, clears and silences alarms of its own
// organisation, and configures nothing. Each refused request is also sent by an admin (or
// editor) and must succeed there, so a test cannot pass because the request itself is bad.
#include <string>
#include <vector>

#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

constexpr const char* kUntil2099 = "2099-01-01T00:00:00Z";

class OperatorSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    a_op_ = AddMember(a_.device.org_id, "operator", "a");
    b_op_ = AddMember(b_.device.org_id, "operator", "b");
  }

  // A critical alarm on A's device (raised by A's editor's rule), its id.
  int64_t RaiseAlarmInA() {
    auto rule = Send(*a_.editor.client, "POST", a_.OrgPath() + "/rules",
                     {{"name", "Fald"},
                      {"severity", "critical"},
                      {"scope", {{"kind", "device"}, {"id", a_.device.device_id}}},
                      {"expression", "co2 > 1000"}});
    EXPECT_EQ(rule.status, 201) << rule.body;
    auto r = Ingest(a_.device.ingest_key, json{{"co2", 1500}}.dump());
    EXPECT_EQ(r.status, 204) << r.body;
    int64_t id = 0;
    EXPECT_TRUE(WaitFor([&] {
      auto list = a_.viewer.client->Get(a_.OrgPath() + "/alarms?state=open").Json();
      if (!list.contains("items") || list["items"].empty()) return false;
      id = list["items"][0].value("id", int64_t{0});
      return true;
    }));
    return id;
  }

  OrgMember a_op_, b_op_;
};

// The operator of A cannot create or change rules, devices, applications, device models,
// decoders, data targets, API keys, members or invitations; an admin of A can (same requests).
TEST_F(OperatorSecurityTest, AnOperatorConfiguresNothing) {
  struct Attempt {
    std::string method, path;
    json body;
  };
  const std::vector<Attempt> attempts = {
      {"POST",
       a_.OrgPath() + "/rules",
       {{"name", "r"},
        {"scope", {{"kind", "device"}, {"id", a_.device.device_id}}},
        {"expression", "co2 > 5000"}}},
      {"PATCH", a_.DevicePath(), {{"name", "Lokale 1b"}}},
      {"POST", a_.AppPath() + "/devices", {{"name", "ny"}, {"transport", "http"}}},
      {"POST", a_.OrgPath() + "/applications", {{"name", "ny app"}}},
      {"PATCH", a_.AppPath(), {{"name", "Indeklima 2"}}},
      {"POST", a_.OrgPath() + "/device-models", {{"name", "model"}}},
      {"POST",
       a_.OrgPath() + "/decoders",
       {{"name", "dec"}, {"code", "function decodeUplink(input) { return {data: {}}; }"}}},
      {"POST",
       a_.AppPath() + "/data-targets",
       {{"name", "target"}, {"url", "https://example.com/hook"}}},
      {"POST", a_.OrgPath() + "/api-keys", {{"name", "key"}, {"role", "viewer"}}},
      {"POST", a_.OrgPath() + "/invitations", {{"email", "ny@kommune.dk"}, {"role", "viewer"}}},
      {"PUT",
       a_.OrgPath() + "/members/" + std::to_string(a_op_.user_id),
       {{"role", "editor"}}},  // not even to promote itself
  };
  for (const auto& a : attempts) {
    auto r = Send(*a_op_.client, a.method, a.path, a.body);
    EXPECT_EQ(r.status, 403) << a.method << " " << a.path << ": " << r.body;
  }
  // Still an operator, and the requests themselves were fine.
  auto me = a_op_.client->Get("/api/v1/auth/me");
  EXPECT_NE(me.body.find("\"operator\""), std::string::npos) << me.body;
  for (const auto& a : attempts) {
    if (a.path.find("/members/") != std::string::npos) continue;  // would promote the operator
    auto r = Send(*a_.admin.client, a.method, a.path, a.body);
    EXPECT_LT(r.status, 300) << "admin " << a.method << " " << a.path << ": " << r.body;
  }
}

// An operator may read what a viewer reads (alarms, devices), handle A's alarms and silences,
// never B's; a viewer still cannot acknowledge, clear, comment or silence.
TEST_F(OperatorSecurityTest, AnOperatorHandlesOnlyItsOwnOrganisationsAlarms) {
  const int64_t alarm = RaiseAlarmInA();
  ASSERT_NE(alarm, 0);
  const std::string path = "/api/v1/alarms/" + std::to_string(alarm);
  EXPECT_EQ(a_op_.client->Get(a_.DevicePath()).status, 200);

  // B's operator: A's alarm does not exist for it, whatever it tries.
  for (const char* what : {"/acknowledge", "/clear", "/comment"}) {
    auto r = Send(*b_op_.client, "POST", path + what, {{"comment", "not yours"}});
    EXPECT_EQ(r.status, 404) << what << ": " << r.body;
  }
  // A's viewer: may read, not handle.
  EXPECT_EQ(a_.viewer.client->Get(path).status, 200);
  for (const char* what : {"/acknowledge", "/clear", "/comment"}) {
    auto r = Send(*a_.viewer.client, "POST", path + what, {{"comment", "viewer"}});
    EXPECT_EQ(r.status, 403) << what << ": " << r.body;
  }
  auto viewer_silence = Send(*a_.viewer.client, "POST", a_.OrgPath() + "/silences",
                             {{"deviceId", a_.device.device_id}, {"until", kUntil2099}});
  EXPECT_EQ(viewer_silence.status, 403) << viewer_silence.body;
  auto untouched = a_.viewer.client->Get(path).Json();
  EXPECT_EQ(untouched["acknowledged"], false) << untouched.dump();
  EXPECT_TRUE(untouched["comments"].empty());

  // A's operator: comment, acknowledge, clear; the history names the operator.
  auto comment = Send(*a_op_.client, "POST", path + "/comment", {{"comment", "ringer op"}});
  ASSERT_EQ(comment.status, 200) << comment.body;
  auto ack = Send(*a_op_.client, "POST", path + "/acknowledge", {{"comment", "på vej"}});
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_EQ(ack.Json()["acknowledgedBy"], a_op_.email);
  auto clear = Send(*a_op_.client, "POST", path + "/clear", {{"comment", "ok"}});
  ASSERT_EQ(clear.status, 200) << clear.body;
  EXPECT_EQ(clear.Json()["clearedBy"], a_op_.email);
  EXPECT_EQ(clear.Json()["clearComment"], "ok");

  // Silences: A's operator adds and lifts one; B's operator can neither see nor lift it.
  auto silence = Send(*a_op_.client, "POST", a_.OrgPath() + "/silences",
                      {{"deviceId", a_.device.device_id}, {"until", kUntil2099}});
  ASSERT_EQ(silence.status, 201) << silence.body;
  const std::string one = "/api/v1/silences/" + std::to_string(silence.Json()["id"].get<int64_t>());
  EXPECT_EQ(b_op_.client->Request("DELETE", one, {}, {}).status, 404);
  auto b_silence = Send(*b_op_.client, "POST", b_.OrgPath() + "/silences",
                        {{"deviceId", a_.device.device_id}, {"until", kUntil2099}});
  EXPECT_GE(b_silence.status, 400) << "B silenced A's device: " << b_silence.body;
  EXPECT_EQ(Send(*b_op_.client, "POST", a_.OrgPath() + "/silences",
                 {{"deviceId", a_.device.device_id}, {"until", kUntil2099}})
                .status,
            404);
  EXPECT_EQ(a_.viewer.client->Request("DELETE", one, {}, {}).status, 403);
  EXPECT_EQ(a_op_.client->Request("DELETE", one, {}, {}).status, 204);
}

// An operator's API key: the role round-trips through the store (stored as code 4) and the
// key acknowledges but cannot create a rule.
TEST_F(OperatorSecurityTest, AnOperatorKeyHandlesAlarmsAndConfiguresNothing) {
  auto key = Send(*a_.admin.client, "POST", a_.OrgPath() + "/api-keys",
                  {{"name", "vagtcentral"}, {"role", "operator"}});
  ASSERT_EQ(key.status, 201) << key.body;
  EXPECT_EQ(key.Json()["role"], "operator");
  const std::string secret = key.Json()["key"].get<std::string>();
  HttpClient raw(server_->url());
  const std::vector<std::string> auth = {"X-API-Key: " + secret, "Content-Type: application/json"};
  auto listed = a_.admin.client->Get(a_.OrgPath() + "/api-keys").Json();
  bool found = false;
  for (const auto& k : listed.value("items", json::array())) {
    if (k.value("name", "") != "vagtcentral") continue;
    found = true;
    EXPECT_EQ(k["role"], "operator") << listed.dump();
  }
  EXPECT_TRUE(found) << listed.dump();

  const int64_t alarm = RaiseAlarmInA();
  ASSERT_NE(alarm, 0);
  auto rule = raw.Request("POST", a_.OrgPath() + "/rules",
                          json{{"name", "x"},
                               {"scope", {{"kind", "device"}, {"id", a_.device.device_id}}},
                               {"expression", "co2 > 1"}}
                              .dump(),
                          auth);
  EXPECT_EQ(rule.status, 403) << rule.body;
  auto ack =
      raw.Request("POST", "/api/v1/alarms/" + std::to_string(alarm) + "/acknowledge", "{}", auth);
  EXPECT_EQ(ack.status, 200) << ack.body;
  // An operator key cannot mint keys (admins only), not even a viewer key.
  auto mint = raw.Request("POST", a_.OrgPath() + "/api-keys",
                          json{{"name", "y"}, {"role", "viewer"}}.dump(), auth);
  EXPECT_EQ(mint.status, 403) << mint.body;
}

}  // namespace
}  // namespace bysans::testing
