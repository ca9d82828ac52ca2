// Shared set-up for the security suite: the real bysans binary with two
// organisations, A (the victim) and B (the attacker), each with an
// application, an HTTP device and a logged-in user of every role.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "integration/fixture.h"

namespace bysans::testing {

// The "name=value" session cookie a login answered.
inline std::string SessionCookie(const HttpResult& login) {
  auto it = login.headers.find("set-cookie");
  if (it == login.headers.end()) return {};
  return it->second.substr(0, it->second.find(';'));
}

struct OrgMember {
  int64_t user_id = 0;
  std::string email, password;
  std::unique_ptr<HttpClient> client;  // logged in (session cookie)
};

struct Tenant {
  DeviceHandle device;  // org_id, app_id, device_id, ingest_key
  OrgMember admin, editor, viewer;
  std::string OrgPath() const { return "/api/v1/organizations/" + std::to_string(device.org_id); }
  std::string AppPath() const { return "/api/v1/applications/" + std::to_string(device.app_id); }
  std::string DevicePath() const { return "/api/v1/devices/" + std::to_string(device.device_id); }
};

class SecurityTest : public ServerTest {
 protected:
  // Tests that need other settings fill server_args_/server_env_ and call
  // ServerTest::SetUp themselves before BuildTenants().
  void SetUp() override {
    ServerTest::SetUp();
    BuildTenants();
  }

  void BuildTenants() {
    BuildTenant("Organisation A", "a", a_);
    BuildTenant("Organisation B", "b", b_);
  }

  // A user created by the global admin and made a member of `org` with `role`.
  OrgMember AddMember(int64_t org_id, const std::string& role, const std::string& tag) {
    OrgMember m;
    m.email = role + "-" + tag + "@kommune.dk";
    m.password = "Strong-pass-" + tag + "-" + role + "-2026";
    auto user = admin_->PostJson("/api/v1/users",
                                 {{"email", m.email}, {"password", m.password}, {"name", m.email}});
    EXPECT_EQ(user.status, 201) << user.body;
    m.user_id = user.Json().value("id", int64_t{0});
    auto member = admin_->Request(
        "PUT",
        "/api/v1/organizations/" + std::to_string(org_id) + "/members/" + std::to_string(m.user_id),
        json{{"role", role}}.dump(), {"Content-Type: application/json"});
    EXPECT_LT(member.status, 300) << member.body;
    m.client = std::make_unique<HttpClient>(server_->url());
    auto login = m.client->Login(m.email, m.password);
    EXPECT_EQ(login.status, 200) << login.body;
    return m;
  }

  void BuildTenant(const std::string& name, const std::string& tag, Tenant& t) {
    t.device = CreateHttpDevice(name);
    t.admin = AddMember(t.device.org_id, "admin", tag);
    t.editor = AddMember(t.device.org_id, "editor", tag);
    t.viewer = AddMember(t.device.org_id, "viewer", tag);
  }

  // JSON write helpers that send the content type the API requires.
  static HttpResult Send(HttpClient& c, const std::string& method, const std::string& path,
                         const json& body) {
    return c.Request(method, path, body.dump(), {"Content-Type: application/json"});
  }

  // A decoder of `code` created by the tenant's editor and attached to its device; its id.
  int64_t AttachNewDecoder(Tenant& t, const std::string& code) {
    auto d = Send(*t.editor.client, "POST", t.OrgPath() + "/decoders",
                  {{"name", "decoder"}, {"code", code}});
    EXPECT_EQ(d.status, 201) << d.body;
    int64_t id = d.Json().value("id", int64_t{0});
    auto a = Send(*t.editor.client, "PUT", t.DevicePath() + "/decoder", {{"decoderId", id}});
    EXPECT_EQ(a.status, 200) << a.body;
    return id;
  }

  // A request with an API key (X-API-Key) from a client without a session.
  HttpResult WithKey(const std::string& method, const std::string& path, const std::string& key,
                     const json& body = json::object()) {
    HttpClient anon(server_->url());
    return anon.Request(method, path, body.dump(),
                        {"X-API-Key: " + key, "Content-Type: application/json"});
  }

  Tenant a_, b_;
};

}  // namespace bysans::testing
