// Issue 21 §2, administration in the UI: rotating an organisation's API key and removing members,
// attacked against the real server. B's admin, A's editor and the key itself try to rotate A's
// key (404/403, the key keeps working); after A's admin rotates it the old secret is refused at
// once. The last admin of A cannot be removed or demoted, by anyone.
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

class AdminSecurityTest : public SecurityTest {
 protected:
  // An admin API key of A: {id, secret}.
  std::pair<int64_t, std::string> AdminKeyOfA(const std::string& name) {
    auto k = Send(*a_.admin.client, "POST", a_.OrgPath() + "/api-keys",
                  {{"name", name}, {"role", "admin"}});
    EXPECT_EQ(k.status, 201) << k.body;
    json j = k.Json();
    return {j.value("id", int64_t{0}), j.value("key", "")};
  }

  int StatusWithKey(const std::string& method, const std::string& path, const std::string& key) {
    HttpClient anon(server_->url());
    return anon.Request(method, path, {}, {"X-API-Key: " + key, "Content-Type: application/json"})
        .status;
  }
};

TEST_F(AdminSecurityTest, OnlyAnAdminOfTheKeysOrganisationRotatesIt) {
  auto [id, secret] = AdminKeyOfA("ci");
  const std::string rotate = "/api/v1/api-keys/" + std::to_string(id) + "/rotate";
  // B's admin (session and B's own admin key): as if the key did not exist.
  EXPECT_EQ(Send(*b_.admin.client, "POST", rotate, json::object()).status, 404);
  auto b_key = Send(*b_.admin.client, "POST", b_.OrgPath() + "/api-keys",
                    {{"name", "b"}, {"role", "admin"}});
  ASSERT_EQ(b_key.status, 201) << b_key.body;
  EXPECT_EQ(StatusWithKey("POST", rotate, b_key.Json().value("key", "")), 404);
  // A's editor and viewer: not allowed.
  EXPECT_EQ(Send(*a_.editor.client, "POST", rotate, json::object()).status, 403);
  EXPECT_EQ(Send(*a_.viewer.client, "POST", rotate, json::object()).status, 403);
  // The key itself, although an admin key: a leaked key cannot renew itself.
  EXPECT_EQ(StatusWithKey("POST", rotate, secret), 403);
  // None of that changed the secret.
  EXPECT_EQ(StatusWithKey("GET", a_.OrgPath(), secret), 200);

  auto rotated = Send(*a_.admin.client, "POST", rotate, json::object());
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string fresh = rotated.Json().value("key", "");
  ASSERT_FALSE(fresh.empty());
  EXPECT_NE(fresh, secret);
  // The old secret is refused at once, everywhere; the new one works.
  EXPECT_EQ(StatusWithKey("GET", a_.OrgPath(), secret), 401);
  EXPECT_EQ(StatusWithKey("GET", a_.OrgPath() + "/api-keys", secret), 401);
  EXPECT_EQ(StatusWithKey("GET", a_.OrgPath(), fresh), 200);
  // The list never shows it again.
  auto list = a_.admin.client->Get(a_.OrgPath() + "/api-keys");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(fresh), std::string::npos);
  // Rotated again by another admin key of A: the previous new secret stops in turn.
  auto [other_id, other_secret] = AdminKeyOfA("other");
  (void)other_id;
  EXPECT_EQ(StatusWithKey("POST", rotate, other_secret), 200);
  EXPECT_EQ(StatusWithKey("GET", a_.OrgPath(), fresh), 401);
  // B's keys were not touched.
  EXPECT_EQ(StatusWithKey("GET", b_.OrgPath(), b_key.Json().value("key", "")), 200);
}

TEST_F(AdminSecurityTest, TheLastAdminCannotBeRemovedOrDemoted) {
  const std::string admin = a_.OrgPath() + "/members/" + std::to_string(a_.admin.user_id);
  // B's admin cannot even see A's member; A's editor may not remove anyone.
  EXPECT_EQ(b_.admin.client->Request("DELETE", admin).status, 404);
  EXPECT_EQ(a_.editor.client->Request("DELETE", admin).status, 403);
  // A's only admin, removing or demoting itself; and the global admin: 409.
  EXPECT_EQ(a_.admin.client->Request("DELETE", admin).status, 409);
  EXPECT_EQ(Send(*a_.admin.client, "PUT", admin, {{"role", "viewer"}}).status, 409);
  EXPECT_EQ(admin_->Request("DELETE", admin).status, 409);
  // Still A's admin.
  EXPECT_EQ(a_.admin.client->Get(a_.OrgPath() + "/members").status, 200);
  // With a second admin, the first is removed (and loses access at once).
  const std::string editor = a_.OrgPath() + "/members/" + std::to_string(a_.editor.user_id);
  ASSERT_EQ(Send(*a_.admin.client, "PUT", editor, {{"role", "admin"}}).status, 200);
  EXPECT_EQ(a_.editor.client->Request("DELETE", admin).status, 204);
  EXPECT_EQ(a_.admin.client->Get(a_.OrgPath()).status, 404);
  EXPECT_EQ(a_.editor.client->Request("DELETE", editor).status, 409);
}

}  // namespace
}  // namespace bysans::testing
