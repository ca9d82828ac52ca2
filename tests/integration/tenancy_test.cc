// Tenancy over real HTTP: a user of organisation B cannot see or change
// organisation A's objects (the full per-route matrix runs in-process in
// tests/unit/api); a viewer cannot write.
#include <gtest/gtest.h>

#include "fixture.h"

namespace bysans::testing {
namespace {

class TenancyTest : public ServerTest {};

TEST_F(TenancyTest, OtherOrganisationsObjectsAreInvisibleAndUnchangeable) {
  DeviceHandle a = CreateHttpDevice("Organisation A");
  DeviceHandle b = CreateHttpDevice("Organisation B");
  ASSERT_EQ(Ingest(a.ingest_key, R"({"co2": 700})").status, 204);

  // A user who is admin of B only.
  auto user = admin_->PostJson(
      "/api/v1/users",
      {{"email", "b-admin@kommune.dk"}, {"password", "b-admin-password"}, {"name", "B admin"}});
  ASSERT_EQ(user.status, 201) << user.body;
  int64_t uid = user.Json()["id"];
  auto member = admin_->Request(
      "PUT",
      "/api/v1/organizations/" + std::to_string(b.org_id) + "/members/" + std::to_string(uid),
      json{{"role", "admin"}}.dump(), {"Content-Type: application/json"});
  ASSERT_LT(member.status, 300) << member.body;

  HttpClient other(server_->url());
  ASSERT_EQ(other.Login("b-admin@kommune.dk", "b-admin-password").status, 200);
  std::string dev = "/api/v1/devices/" + std::to_string(a.device_id);
  std::string app = "/api/v1/applications/" + std::to_string(a.app_id);
  std::string org = "/api/v1/organizations/" + std::to_string(a.org_id);
  for (const std::string& path : {dev, dev + "/readings", dev + "/messages", app, app + "/devices",
                                  app + "/latest", org, org + "/applications", org + "/api-keys"}) {
    auto r = other.Get(path);
    EXPECT_TRUE(r.status == 403 || r.status == 404) << path << " → " << r.status << " " << r.body;
  }
  auto patch =
      other.Request("PATCH", dev, R"({"name":"stolen"})", {"Content-Type: application/json"});
  EXPECT_TRUE(patch.status == 403 || patch.status == 404) << patch.body;
  auto del = other.Request("DELETE", app);
  EXPECT_TRUE(del.status == 403 || del.status == 404) << del.body;
  auto key = other.PostJson(org + "/api-keys", {{"name", "x"}, {"role", "admin"}});
  EXPECT_TRUE(key.status == 403 || key.status == 404) << key.body;
  // Still A's and unchanged.
  EXPECT_EQ(admin_->Get(dev).Json()["name"], "Lokale 1");
  EXPECT_EQ(admin_->Get(app).status, 200);
  // B's own objects work for B.
  EXPECT_EQ(other.Get("/api/v1/devices/" + std::to_string(b.device_id)).status, 200);

  // An API key of B (viewer) is refused on A and cannot write in B.
  auto bkey = admin_->PostJson("/api/v1/organizations/" + std::to_string(b.org_id) + "/api-keys",
                               {{"name", "dashboard"}, {"role", "viewer"}});
  ASSERT_EQ(bkey.status, 201) << bkey.body;
  std::string secret = bkey.Json()["key"];
  HttpClient keyed(server_->url());
  auto cross = keyed.Get(dev, {"X-API-Key: " + secret});
  EXPECT_TRUE(cross.status == 403 || cross.status == 404) << cross.body;
  EXPECT_EQ(keyed
                .Get("/api/v1/devices/" + std::to_string(b.device_id),
                     {"Authorization: Bearer " + secret})
                .status,
            200);
  auto write =
      keyed.Request("PATCH", "/api/v1/devices/" + std::to_string(b.device_id), R"({"name":"x"})",
                    {"X-API-Key: " + secret, "Content-Type: application/json"});
  EXPECT_EQ(write.status, 403) << write.body;
}

TEST_F(TenancyTest, AuditLogRecordsLoginsAndWrites) {
  DeviceHandle a = CreateHttpDevice("Audit Kommune");
  auto audit = admin_->Get("/api/v1/audit?orgId=" + std::to_string(a.org_id));
  ASSERT_EQ(audit.status, 200) << audit.body;
  bool saw_device_create = false;
  const json entries = audit.Json();
  for (const auto& e : entries["items"])
    saw_device_create |= e.value("action", "") == "create" && e.value("objectType", "") == "device";
  EXPECT_TRUE(saw_device_create) << audit.body;
  auto all = admin_->Get("/api/v1/audit");
  bool saw_login = false;
  const json all_entries = all.Json();
  for (const auto& e : all_entries["items"]) saw_login |= e.value("action", "") == "login";
  EXPECT_TRUE(saw_login) << all.body;
}

}  // namespace
}  // namespace bysans::testing
