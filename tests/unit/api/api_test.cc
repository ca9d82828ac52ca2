// CRUD round trips, validation, sessions and API keys through the router.
#include <set>

#include "api/openapi.h"
#include "core/time_format.h"
#include "unit/api/api_fixture.h"

namespace bysans::testing {
namespace {

class ApiTest : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    MakeUser("root@example.dk", "Root-pass-for-tests-1", /*global_admin=*/true);
    root_ = Login("root@example.dk", "Root-pass-for-tests-1");
    Reply org = Call("POST", "/api/v1/organizations", root_, json{{"name", "Aarhus"}});
    ASSERT_EQ(org.status, 201) << org.raw;
    org_ = org.body["id"].get<Id>();
    Reply app = Call("POST", OrgPath("/applications"), root_, json{{"name", "Air"}});
    ASSERT_EQ(app.status, 201) << app.raw;
    app_ = app.body["id"].get<Id>();
  }

  std::string OrgPath(const std::string& rest = {}) {
    return "/api/v1/organizations/" + std::to_string(org_) + rest;
  }
  std::string AppPath(const std::string& rest = {}) {
    return "/api/v1/applications/" + std::to_string(app_) + rest;
  }

  // A member of org_ with the given role, logged in.
  Creds Member(const std::string& email, const std::string& role) {
    User u = MakeUser(email, "Member-pass-for-tests-1", false);
    Reply r = Call("PUT", OrgPath("/members/" + std::to_string(u.id)), root_, json{{"role", role}});
    EXPECT_EQ(r.status, 200) << r.raw;
    return Login(email, "Member-pass-for-tests-1");
  }

  std::string NewKey(const std::string& role, const json& extra = json::object()) {
    json body = {{"name", "k-" + role}, {"role", role}};
    body.update(extra);
    Reply r = Call("POST", OrgPath("/api-keys"), root_, body);
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body.value("key", "");
  }

  Creds root_;
  Id org_ = 0;
  Id app_ = 0;
};

TEST_F(ApiTest, HealthAndMetrics) {
  Reply h = Call("GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, json({{"status", "ok"}}));
  Reply m = Call("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.headers.Get("content-type").find("version=0.0.4"), std::string::npos);
}

TEST_F(ApiTest, LoginSetsHardenedCookieAndMeWorks) {
  Reply r = Call("POST", "/api/v1/auth/login", {},
                 json{{"email", "ROOT@example.dk"}, {"password", "Root-pass-for-tests-1"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  std::string c = r.headers.Get("set-cookie");
  EXPECT_EQ(c.rfind("bysans_session=", 0), 0u) << c;
  EXPECT_NE(c.find("; Path=/"), std::string::npos);
  EXPECT_NE(c.find("; HttpOnly"), std::string::npos);
  EXPECT_NE(c.find("; SameSite=Strict"), std::string::npos);
  EXPECT_EQ(c.find("Secure"), std::string::npos);  // not configured for TLS here
  EXPECT_EQ(r.body["user"]["email"], "root@example.dk");
  EXPECT_FALSE(r.body["user"].contains("passwordHash"));
  EXPECT_TRUE(r.body["memberships"].is_array());
  Creds cookie = Creds::Cookie(c.substr(0, c.find(';')));
  Reply me = Call("GET", "/api/v1/auth/me", cookie);
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(me.body["user"]["globalAdmin"], true);
}

TEST_F(ApiTest, LogoutClearsCookieAndEndsSession) {
  Creds c = Login("root@example.dk", "Root-pass-for-tests-1");
  Reply out = Call("POST", "/api/v1/auth/logout", c);
  EXPECT_EQ(out.status, 204);
  std::string cleared = out.headers.Get("set-cookie");
  EXPECT_NE(cleared.find("bysans_session=;"), std::string::npos) << cleared;
  EXPECT_NE(cleared.find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", c).status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", root_).status, 200);  // other sessions live on
}

TEST_F(ApiTest, WrongPasswordAndUnknownEmailAnswerTheSame401) {
  Reply a = Call("POST", "/api/v1/auth/login", {},
                 json{{"email", "root@example.dk"}, {"password", "wrong-password"}});
  Reply b = Call("POST", "/api/v1/auth/login", {},
                 json{{"email", "nobody@example.dk"}, {"password", "wrong-password"}});
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(b.status, 401);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.body["error"]["code"], "unauthenticated");
}

TEST_F(ApiTest, LoginThrottlesPerAccountWithoutLockingItAndLimitsPerAddress) {
  auto attempt = [&](const std::string& email, const std::string& password,
                     const std::string& addr) {
    return Call("POST", "/api/v1/auth/login", {},
                json{{"email", email}, {"password", password}}.dump(), addr);
  };
  const std::string root = "root@example.dk", right = "Root-pass-for-tests-1";
  EXPECT_EQ(attempt(root, right, "192.0.2.50").status, 200);  // the owner's usual address
  // Per account and address: 5 free failures, then waits of 2, 4, 8, ... s.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(attempt(root, "guess", "203.0.113.9").status, 401);
  Reply wait = attempt(root, right, "203.0.113.9");
  EXPECT_EQ(wait.status, 429);
  EXPECT_EQ(wait.headers.Get("retry-after"), "2");
  EXPECT_EQ(attempt(root, right, "192.0.2.50").status, 200);  // not the owner's address
  clock_.Advance(2'000);
  EXPECT_EQ(attempt(root, "guess", "203.0.113.9").status, 401);  // the 6th failure: 4 s
  clock_.Advance(3'000);
  EXPECT_EQ(attempt(root, right, "203.0.113.9").status, 429);
  clock_.Advance(1'000);
  EXPECT_EQ(attempt(root, right, "203.0.113.9").status, 200);  // and its count starts again
  EXPECT_EQ(attempt(root, "guess", "203.0.113.9").status, 401);
  // From every address together: after 20 failures a new address waits, a known one does not.
  for (int i = 0; i < 13; ++i)  // 7 failures so far
    EXPECT_EQ(attempt(root, "guess", "198.51.100." + std::to_string(i)).status, 401);
  EXPECT_EQ(attempt(root, right, "198.51.100.200").status, 429);
  EXPECT_EQ(attempt(root, right, "192.0.2.50").status, 200);
  // Per address: 10 attempts a minute, whatever the account.
  int limited = 0;
  for (int i = 0; i < 12; ++i) {
    Reply r = attempt("user" + std::to_string(i) + "@example.dk", "x", "198.51.100.77");
    if (r.status == 429)
      ++limited;
    else
      EXPECT_EQ(r.status, 401);
  }
  EXPECT_EQ(limited, 2);
  clock_.Advance(61'000);
  EXPECT_EQ(attempt("someone@example.dk", "x", "198.51.100.77").status, 401);
}

TEST_F(ApiTest, LoginsAreAudited) {
  (void)Call("POST", "/api/v1/auth/login", {},
             json{{"email", "root@example.dk"}, {"password", "bad-password"}});
  Reply audit = Call("GET", "/api/v1/audit", root_);
  ASSERT_EQ(audit.status, 200) << audit.raw;
  std::multiset<std::string> actions;
  for (const auto& e : audit.body["items"]) actions.insert(e["action"].get<std::string>());
  EXPECT_GE(actions.count("login"), 1u);
  EXPECT_EQ(actions.count("login_failed"), 1u);
  EXPECT_EQ(audit.body["items"][0]["remoteAddr"], "192.0.2.10");
}

TEST_F(ApiTest, NoCredentialsIs401) {
  EXPECT_EQ(Call("GET", OrgPath()).status, 401);
  EXPECT_EQ(Call("GET", OrgPath(), Creds::Cookie("bysans_session=forged")).status, 401);
}

TEST_F(ApiTest, SessionExpires) {
  clock_.Advance(12 * 3'600'000 + 1);
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", root_).status, 401);
}

TEST_F(ApiTest, ApiKeyWorksInBothHeadersAndIsShownOnce) {
  std::string key = NewKey("viewer");
  ASSERT_FALSE(key.empty());
  EXPECT_EQ(Call("GET", OrgPath(), Creds::Key(key)).status, 200);
  EXPECT_EQ(Call("GET", OrgPath(), Creds::Key(key, /*bearer=*/true)).status, 200);
  EXPECT_EQ(Call("GET", OrgPath(), Creds::Key(key + "x")).status, 401);
  Reply list = Call("GET", OrgPath("/api-keys"), root_);
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.body["items"].size(), 1u);
  EXPECT_FALSE(list.body["items"][0].contains("key"));
  EXPECT_EQ(list.raw.find(key), std::string::npos);
  EXPECT_EQ(list.body["items"][0]["prefix"], key.substr(0, 10));
  // A viewer key cannot write.
  EXPECT_EQ(Call("POST", OrgPath("/applications"), Creds::Key(key), json{{"name", "x"}}).status,
            403);
}

TEST_F(ApiTest, ExpiredApiKeyIs401SayingExpired) {
  std::string key = NewKey("editor", {{"expiresAt", FormatRfc3339(clock_.NowMs() + 60'000)}});
  EXPECT_EQ(Call("GET", OrgPath(), Creds::Key(key)).status, 200);
  clock_.Advance(60'000);
  Reply r = Call("GET", OrgPath(), Creds::Key(key));
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body["error"]["message"].get<std::string>().find("expired"), std::string::npos);
  Reply past =
      Call("POST", OrgPath("/api-keys"), root_,
           json{{"name", "old"}, {"role", "viewer"}, {"expiresAt", "2001-01-01T00:00:00Z"}});
  EXPECT_EQ(past.status, 400);
}

TEST_F(ApiTest, DeletedApiKeyStopsAtOnce) {
  std::string key = NewKey("admin");
  Reply list = Call("GET", OrgPath("/api-keys"), Creds::Key(key));
  ASSERT_EQ(list.status, 200);
  Id id = list.body["items"][0]["id"].get<Id>();
  EXPECT_EQ(Call("DELETE", "/api/v1/api-keys/" + std::to_string(id), root_).status, 204);
  EXPECT_EQ(Call("GET", OrgPath(), Creds::Key(key)).status, 401);
}

TEST_F(ApiTest, RotatedApiKeyAnswersANewSecretOnceAndRefusesTheOld) {
  Reply made = Call("POST", OrgPath("/api-keys"), root_, json{{"name", "ci"}, {"role", "editor"}});
  ASSERT_EQ(made.status, 201) << made.raw;
  const std::string old_key = made.body["key"].get<std::string>();
  const std::string path = "/api/v1/api-keys/" + std::to_string(made.body["id"].get<Id>());
  // The key itself (even an admin key) cannot renew itself; an editor key is refused too.
  Reply admin = Call("POST", OrgPath("/api-keys"), root_, json{{"name", "adm"}, {"role", "admin"}});
  ASSERT_EQ(admin.status, 201) << admin.raw;
  const std::string admin_key = admin.body["key"].get<std::string>();
  Reply self =
      Call("POST", "/api/v1/api-keys/" + std::to_string(admin.body["id"].get<Id>()) + "/rotate",
           Creds::Key(admin_key));
  EXPECT_EQ(self.status, 403) << self.raw;
  EXPECT_NE(self.raw.find("cannot rotate itself"), std::string::npos) << self.raw;
  EXPECT_EQ(Call("POST", path + "/rotate", Creds::Key(old_key)).status, 403);  // editor
  EXPECT_EQ(Call("POST", "/api/v1/api-keys/999999/rotate", root_).status, 404);

  Reply rotated = Call("POST", path + "/rotate", Creds::Key(admin_key));
  ASSERT_EQ(rotated.status, 200) << rotated.raw;
  const std::string new_key = rotated.body["key"].get<std::string>();
  EXPECT_NE(new_key, old_key);
  EXPECT_EQ(rotated.body["name"], "ci");
  EXPECT_EQ(rotated.body["role"], "editor");
  EXPECT_EQ(rotated.body["prefix"], new_key.substr(0, 10));
  EXPECT_EQ(Call("GET", OrgPath(), Creds::Key(old_key)).status, 401);
  EXPECT_EQ(Call("GET", OrgPath(), Creds::Key(new_key)).status, 200);
  // Not shown again, and audited.
  Reply list = Call("GET", OrgPath("/api-keys"), root_);
  EXPECT_EQ(list.raw.find(new_key), std::string::npos);
  Reply audit = Call("GET", "/api/v1/audit?limit=1000&orgId=" + std::to_string(org_), root_);
  bool audited = false;
  for (const auto& e : audit.body["items"])
    audited |= e["action"] == "rotate_key" && e["objectType"] == "api_key" &&
               e["objectId"] == std::to_string(made.body["id"].get<Id>());
  EXPECT_TRUE(audited) << audit.raw;
  EXPECT_EQ(audit.raw.find(new_key), std::string::npos);
}

TEST_F(ApiTest, TheLastAdminIsNeitherRemovedNorDemoted) {
  User a = MakeUser("a1@example.dk", "Member-pass-for-tests-1", false);
  std::string a_path = OrgPath("/members/" + std::to_string(a.id));
  ASSERT_EQ(Call("PUT", a_path, root_, json{{"role", "admin"}}).status, 200);
  Creds a_login = Login("a1@example.dk", "Member-pass-for-tests-1");
  // Alone: refused for the admin and for a global admin, both ways.
  for (const Creds& who : {a_login, root_}) {
    Reply removed = Call("DELETE", a_path, who);
    EXPECT_EQ(removed.status, 409) << removed.raw;
    EXPECT_NE(removed.raw.find("last admin"), std::string::npos) << removed.raw;
    EXPECT_EQ(Call("PUT", a_path, who, json{{"role", "editor"}}).status, 409);
  }
  // Nor by accepting an invitation with a lower role (an existing membership takes its role).
  Reply inv = Call("POST", OrgPath("/invitations"), root_,
                   json{{"email", "a1@example.dk"}, {"role", "viewer"}});
  ASSERT_EQ(inv.status, 201) << inv.raw;
  Reply accepted =
      Call("POST", "/api/v1/me/invitations/" + std::to_string(inv.body["id"].get<Id>()) + "/accept",
           a_login, json::object());
  EXPECT_EQ(accepted.status, 409) << accepted.raw;
  EXPECT_EQ(Call("GET", a_path, root_).body["role"], "admin");
  // With a second admin, the first may go (here: removes itself).
  User b = MakeUser("a2@example.dk", "Member-pass-for-tests-1", false);
  std::string b_path = OrgPath("/members/" + std::to_string(b.id));
  ASSERT_EQ(Call("PUT", b_path, a_login, json{{"role", "admin"}}).status, 404);  // invite by email
  ASSERT_EQ(Call("PUT", b_path, root_, json{{"role", "admin"}}).status, 200);
  EXPECT_EQ(Call("PUT", b_path, a_login, json{{"role", "editor"}}).status, 200);  // demoted
  EXPECT_EQ(Call("PUT", b_path, a_login, json{{"role", "admin"}}).status, 200);
  EXPECT_EQ(Call("DELETE", a_path, a_login).status, 204);
  EXPECT_EQ(Call("DELETE", b_path, root_).status, 409);  // b is now the last
  // Non-admin members are removed as before.
  User c = MakeUser("c@example.dk", "Member-pass-for-tests-1", false);
  std::string c_path = OrgPath("/members/" + std::to_string(c.id));
  ASSERT_EQ(Call("PUT", c_path, root_, json{{"role", "viewer"}}).status, 200);
  EXPECT_EQ(Call("DELETE", c_path, root_).status, 204);
}

TEST_F(ApiTest, OrganizationCrud) {
  Reply list = Call("GET", "/api/v1/organizations", root_);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body["total"], 1);
  Reply patched = Call("PATCH", OrgPath(), root_, json{{"name", "Aarhus Kommune"}});
  EXPECT_EQ(patched.status, 200);
  EXPECT_EQ(Call("GET", OrgPath(), root_).body["name"], "Aarhus Kommune");
  EXPECT_EQ(Call("PATCH", OrgPath(), root_, json{{"title", "x"}}).status, 400);
  // Only global admins create and delete organisations.
  Creds admin = Member("admin@example.dk", "admin");
  EXPECT_EQ(Call("POST", "/api/v1/organizations", admin, json{{"name", "X"}}).status, 403);
  EXPECT_EQ(Call("DELETE", OrgPath(), admin).status, 403);
  EXPECT_EQ(Call("PATCH", OrgPath(), admin, json{{"name", "By admin"}}).status, 200);
  Reply mine = Call("GET", "/api/v1/organizations", admin);
  ASSERT_EQ(mine.status, 200);
  EXPECT_EQ(mine.body["total"], 1);
  EXPECT_EQ(Call("DELETE", OrgPath(), root_).status, 204);
  EXPECT_EQ(Call("GET", OrgPath(), root_).status, 404);
  EXPECT_EQ(Call("GET", AppPath(), root_).status, 404);
}

TEST_F(ApiTest, Memberships) {
  User u = MakeUser("m@example.dk", "Member-pass-for-tests-1", false);
  std::string path = OrgPath("/members/" + std::to_string(u.id));
  EXPECT_EQ(Call("PUT", path, root_, json{{"role", "boss"}}).status, 400);
  EXPECT_EQ(Call("PUT", path, root_, json{{"role", "editor"}}).status, 200);
  EXPECT_EQ(Call("GET", path, root_).body["role"], "editor");
  Reply members = Call("GET", OrgPath("/members"), root_);
  ASSERT_EQ(members.status, 200);
  EXPECT_EQ(members.body["items"][0]["email"], "m@example.dk");
  EXPECT_EQ(Call("PUT", OrgPath("/members/999999"), root_, json{{"role", "viewer"}}).status, 404);
  Creds m = Login("m@example.dk", "Member-pass-for-tests-1");
  EXPECT_EQ(Call("GET", OrgPath("/members"), m).status, 403);
  EXPECT_EQ(Call("DELETE", path, root_).status, 204);
  EXPECT_EQ(Call("GET", OrgPath(), m).status, 404);
  EXPECT_EQ(Call("DELETE", path, root_).status, 404);
}

TEST_F(ApiTest, ApplicationCrud) {
  Reply get = Call("GET", AppPath(), root_);
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(get.body["name"], "Air");
  EXPECT_EQ(get.body["orgId"], org_);
  EXPECT_EQ(Call("PATCH", AppPath(), root_, json{{"description", "NO2 sensors"}}).status, 200);
  EXPECT_EQ(Call("GET", AppPath(), root_).body["description"], "NO2 sensors");
  Reply bad = Call("POST", OrgPath("/applications"), root_, json{{"nmae", "typo"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.raw.find("nmae"), std::string::npos);
  Reply missing = Call("POST", OrgPath("/applications"), root_, json{{"description", "d"}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.raw.find("name"), std::string::npos);
  EXPECT_EQ(Call("POST", OrgPath("/applications"), root_, std::string("{not json")).status, 400);
  Reply list = Call("GET", OrgPath("/applications?limit=1"), root_);
  EXPECT_EQ(list.body["total"], 1);
  EXPECT_EQ(list.body["limit"], 1);
  EXPECT_EQ(Call("GET", OrgPath("/applications?limit=0"), root_).status, 400);
  EXPECT_EQ(Call("DELETE", AppPath(), root_).status, 204);
  EXPECT_EQ(Call("GET", AppPath(), root_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/applications/abc", root_).status, 404);
}

TEST_F(ApiTest, DeviceCrudAndValidation) {
  json body = {{"name", "Sensor 1"},
               {"transport", "http"},
               {"location", {{"lat", 56.15}, {"lon", 10.2}}},
               {"tags", {"air", "street"}},
               {"metadata", {{"street", "Vestergade"}}},
               {"expectedIntervalS", 600}};
  Reply created = Call("POST", AppPath("/devices"), root_, body);
  ASSERT_EQ(created.status, 201) << created.raw;
  Id id = created.body["id"].get<Id>();
  std::string key = created.body["apiKey"];
  EXPECT_GE(key.size(), 40u);
  std::string dev = "/api/v1/devices/" + std::to_string(id);
  Reply got = Call("GET", dev, root_);
  ASSERT_EQ(got.status, 200);
  EXPECT_FALSE(got.body.contains("apiKey"));
  EXPECT_EQ(got.body["location"]["lat"], 56.15);
  EXPECT_EQ(got.body["tags"], json({"air", "street"}));
  EXPECT_EQ(got.body["metadata"]["street"], "Vestergade");
  EXPECT_EQ(got.body["createdAt"], FormatRfc3339(kStart));
  // The ingest key is stored hashed and finds the device.
  auto found = store_->FindDeviceByIngestKey(auth::Sha256Hex(key));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, id);
  // Rotation replaces it.
  Reply rotated = Call("POST", dev + "/rotate-key", root_);
  ASSERT_EQ(rotated.status, 200);
  EXPECT_FALSE(store_->FindDeviceByIngestKey(auth::Sha256Hex(key)).ok());
  EXPECT_TRUE(
      store_->FindDeviceByIngestKey(auth::Sha256Hex(rotated.body["apiKey"].get<std::string>()))
          .ok());

  Reply patched = Call("PATCH", dev, root_, json{{"inMaintenance", true}, {"location", nullptr}});
  ASSERT_EQ(patched.status, 200) << patched.raw;
  EXPECT_EQ(Call("GET", dev, root_).body["inMaintenance"], true);
  EXPECT_TRUE(Call("GET", dev, root_).body["location"].is_null());

  auto expect_400 = [&](const json& b, const std::string& field) {
    Reply r = Call("POST", AppPath("/devices"), root_, b);
    EXPECT_EQ(r.status, 400) << b.dump();
    EXPECT_NE(r.raw.find(field), std::string::npos) << r.raw;
  };
  expect_400({{"name", "x"}, {"colour", "red"}}, "colour");
  expect_400({{"name", "x"}, {"transport", "zigbee"}}, "transport");
  expect_400({{"name", "x"}, {"transport", "lorawan"}}, "devEui");
  expect_400({{"name", "x"}, {"transport", "lorawan"}, {"devEui", "0011"}}, "devEui");
  expect_400({{"name", "x"}, {"location", {{"lat", 91}, {"lon", 0}}}}, "location.lat");
  expect_400({{"name", "x"}, {"location", {{"lat", 0}, {"lon", -181}}}}, "location.lon");
  expect_400({{"name", "x"}, {"tags", {1, 2}}}, "tags");
  expect_400({{"name", "x"}, {"metadata", {{"a", 1}}}}, "metadata");
  expect_400({{"name", "x"}, {"deviceModelId", 424242}}, "deviceModelId");
  expect_400({{"name", "x"}, {"expectedIntervalS", "often"}}, "expectedIntervalS");
  expect_400({{"transport", "http"}}, "name");
  EXPECT_EQ(Call("PATCH", dev, root_, json{{"transport", "mqtt"}}).status, 400);

  Reply lora =
      Call("POST", AppPath("/devices"), root_,
           json{{"name", "Bin 7"}, {"transport", "lorawan"}, {"devEui", "A1B2C3D4E5F60718"}});
  ASSERT_EQ(lora.status, 201) << lora.raw;
  EXPECT_EQ(lora.body["devEui"], "a1b2c3d4e5f60718");
  EXPECT_FALSE(lora.body.contains("apiKey"));
  EXPECT_EQ(Call("POST", "/api/v1/devices/" + lora.body["id"].dump() + "/rotate-key", root_).status,
            409);

  // Filters on the organisation's list.
  EXPECT_EQ(Call("GET", OrgPath("/devices"), root_).body["total"], 2);
  EXPECT_EQ(Call("GET", OrgPath("/devices?tag=air"), root_).body["total"], 1);
  EXPECT_EQ(Call("GET", OrgPath("/devices?search=bin"), root_).body["total"], 1);
  EXPECT_EQ(Call("GET", OrgPath("/devices?app=" + std::to_string(app_)), root_).body["total"], 2);
  EXPECT_EQ(Call("GET", OrgPath("/devices?app=zz"), root_).status, 400);
  EXPECT_EQ(Call("GET", AppPath("/devices"), root_).body["total"], 2);

  EXPECT_EQ(Call("DELETE", dev, root_).status, 204);
  EXPECT_EQ(Call("GET", dev, root_).status, 404);
}

TEST_F(ApiTest, DeviceModelCrud) {
  json doc = {{"type", "DeviceModel"},
              {"modelName", "ERS CO2"},
              {"brandName", "Elsys"},
              {"controlledProperty", {"temperature", "co2"}}};
  Reply created = Call("POST", OrgPath("/device-models"), root_, doc);
  ASSERT_EQ(created.status, 201) << created.raw;
  EXPECT_EQ(created.body["name"], "ERS CO2");
  EXPECT_EQ(created.body["doc"]["brandName"], "Elsys");
  std::string path = "/api/v1/device-models/" + created.body["id"].dump();
  Reply patched = Call("PATCH", path, root_, json{{"brandName", "ELSYS"}, {"type", nullptr}});
  ASSERT_EQ(patched.status, 200);
  EXPECT_EQ(patched.body["doc"]["brandName"], "ELSYS");
  EXPECT_FALSE(patched.body["doc"].contains("type"));
  EXPECT_EQ(patched.body["doc"]["controlledProperty"], json({"temperature", "co2"}));
  Reply bad = Call("POST", OrgPath("/device-models"), root_,
                   json{{"name", "x"}, {"controlledProperty", {1}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.raw.find("controlledProperty"), std::string::npos);
  Reply unnamed = Call("POST", OrgPath("/device-models"), root_, json{{"brandName", "x"}});
  EXPECT_EQ(unnamed.status, 400);
  EXPECT_NE(unnamed.raw.find("modelName"), std::string::npos);
  // A device may point at the model.
  Reply dev = Call("POST", AppPath("/devices"), root_,
                   json{{"name", "d"}, {"deviceModelId", created.body["id"]}});
  ASSERT_EQ(dev.status, 201) << dev.raw;
  EXPECT_EQ(
      Call("GET", OrgPath("/devices?model=" + created.body["id"].dump()), root_).body["total"], 1);
  EXPECT_EQ(Call("GET", OrgPath("/device-models"), root_).body["total"], 1);
  EXPECT_EQ(Call("DELETE", path, root_).status, 204);
  EXPECT_EQ(Call("GET", path, root_).status, 404);
}

TEST_F(ApiTest, UserManagementAndSelfService) {
  Reply created = Call(
      "POST", "/api/v1/users", root_,
      json{{"email", "Jens@Example.dk"}, {"password", "Long-enough-pass-1"}, {"name", "Jens"}});
  ASSERT_EQ(created.status, 201) << created.raw;
  EXPECT_EQ(created.body["email"], "jens@example.dk");
  EXPECT_FALSE(created.body.contains("passwordHash"));
  EXPECT_EQ(Call("POST", "/api/v1/users", root_,
                 json{{"email", "jens@example.dk"}, {"password", "Long-enough-pass-1"}})
                .status,
            409);
  EXPECT_EQ(
      Call("POST", "/api/v1/users", root_, json{{"email", "a@b.dk"}, {"password", "short"}}).status,
      400);
  Id id = created.body["id"].get<Id>();
  std::string path = "/api/v1/users/" + std::to_string(id);
  Creds jens = Login("jens@example.dk", "Long-enough-pass-1");
  EXPECT_EQ(Call("GET", path, jens).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/users", jens).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/users/1", jens).status, 403);
  EXPECT_EQ(Call("PATCH", path, jens, json{{"globalAdmin", true}}).status, 403);
  EXPECT_EQ(Call("PATCH", path, jens, json{{"password", "Fresh-password-2026"}}).status, 400);
  EXPECT_EQ(Call("PATCH", path, jens,
                 json{{"password", "Fresh-password-2026"}, {"currentPassword", "wrongwrong"}})
                .status,
            403);
  Reply ok = Call("PATCH", path, jens,
                  json{{"name", "Jens H"},
                       {"password", "Fresh-password-2026"},
                       {"currentPassword", "Long-enough-pass-1"}});
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(ok.body["name"], "Jens H");
  Login("jens@example.dk", "Fresh-password-2026");
  EXPECT_EQ(Call("DELETE", path, jens).status, 403);
  EXPECT_EQ(Call("DELETE", path, root_).status, 204);
  EXPECT_EQ(Call("GET", path, root_).status, 404);
  // The audit log never holds a password.
  Reply audit = Call("GET", "/api/v1/audit?limit=1000", root_);
  EXPECT_EQ(audit.raw.find("Fresh-password-2026"), std::string::npos);
  EXPECT_EQ(audit.raw.find("Long-enough-pass-1"), std::string::npos);
}

TEST_F(ApiTest, WritesAreAuditedWithWhoAndWhere) {
  Reply r = Call("POST", OrgPath("/applications"), root_, json{{"name", "Bins"}});
  ASSERT_EQ(r.status, 201);
  Reply audit = Call("GET", "/api/v1/audit?orgId=" + std::to_string(org_), root_);
  ASSERT_EQ(audit.status, 200);
  const json& e = audit.body["items"][0];
  EXPECT_EQ(e["action"], "create");
  EXPECT_EQ(e["objectType"], "application");
  EXPECT_EQ(e["objectId"], r.body["id"].dump());
  EXPECT_EQ(e["orgId"], org_);
  EXPECT_TRUE(e["userId"].is_number());
  EXPECT_EQ(e["remoteAddr"], "192.0.2.10");
  Creds admin = Member("a@example.dk", "admin");
  EXPECT_EQ(Call("GET", "/api/v1/audit", admin).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/audit?orgId=" + std::to_string(org_), admin).status, 200);
  Creds editor = Member("e@example.dk", "editor");
  EXPECT_EQ(Call("GET", "/api/v1/audit?orgId=" + std::to_string(org_), editor).status, 403);
}

TEST_F(ApiTest, RolesGateWrites) {
  Creds viewer = Member("v@example.dk", "viewer");
  Creds editor = Member("e@example.dk", "editor");
  EXPECT_EQ(Call("GET", AppPath(), viewer).status, 200);
  EXPECT_EQ(Call("PATCH", AppPath(), viewer, json{{"name", "v"}}).status, 403);
  EXPECT_EQ(Call("POST", AppPath("/devices"), viewer, json{{"name", "v"}}).status, 403);
  EXPECT_EQ(Call("PATCH", AppPath(), editor, json{{"name", "e"}}).status, 200);
  EXPECT_EQ(Call("POST", AppPath("/devices"), editor, json{{"name", "e"}}).status, 201);
  EXPECT_EQ(
      Call("POST", OrgPath("/api-keys"), editor, json{{"name", "k"}, {"role", "viewer"}}).status,
      403);
  EXPECT_EQ(Call("GET", OrgPath("/api-keys"), editor).status, 403);
  EXPECT_EQ(Call("PUT", OrgPath("/members/1"), editor, json{{"role", "admin"}}).status, 403);
  EXPECT_EQ(Call("GET", OrgPath("/members"), editor).status, 403);
}

TEST_F(ApiTest, OpenApiListsEveryRoute) {
  Reply doc = Call("GET", "/api/openapi.json");
  ASSERT_EQ(doc.status, 200);
  EXPECT_EQ(doc.body["openapi"], "3.0.3");
  for (const auto& r : router_.Routes()) {
    std::string method = r.method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string key = r.pattern;  // the router's "{*path}" is "{path}" in OpenAPI
    if (size_t i = key.find("{*"); i != std::string::npos) key.erase(i + 1, 1);
    ASSERT_TRUE(doc.body["paths"].contains(key)) << key;
    EXPECT_TRUE(doc.body["paths"][key].contains(method)) << r.method << " " << key;
  }
  // Every route has a hand-written schema row.
  EXPECT_EQ(api::RoutesWithoutSchema(router_.Routes()), std::vector<std::string>{});
  // Every $ref resolves.
  std::string text = doc.raw;
  for (size_t i = 0; (i = text.find("#/components/schemas/", i)) != std::string::npos;) {
    i += 21;
    std::string name = text.substr(i, text.find('"', i) - i);
    EXPECT_TRUE(doc.body["components"]["schemas"].contains(name)) << name;
  }
}

}  // namespace
}  // namespace bysans::testing

namespace bysans::testing {
namespace {

// An organisation admin cannot flood people with invitations: at most 100 pending per
// organisation; inviting an e-mail again replaces its invitation; a revoked one frees a place.
TEST_F(ApiTest, PendingInvitationsPerOrganisationAreCapped) {
  auto invite = [&](int n) {
    return Call("POST", OrgPath("/invitations"), root_,
                json{{"email", "person" + std::to_string(n) + "@kommune.dk"}, {"role", "viewer"}});
  };
  Id first = 0;
  for (int n = 0; n < 100; ++n) {
    Reply r = invite(n);
    ASSERT_EQ(r.status, 201) << n << " " << r.raw;
    if (n == 0) first = r.body.value("id", Id{0});
  }
  Reply over = invite(100);
  EXPECT_EQ(over.status, 429) << over.raw;
  EXPECT_NE(over.raw.find("at most 100 pending invitations"), std::string::npos) << over.raw;
  EXPECT_EQ(invite(7).status, 201);  // the same e-mail again: replaced, not a new one
  ASSERT_EQ(Call("DELETE", OrgPath("/invitations/" + std::to_string(first)), root_).status, 204);
  EXPECT_EQ(invite(100).status, 201);
}

}  // namespace
}  // namespace bysans::testing
