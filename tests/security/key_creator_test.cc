// API keys answer to whoever created them (auth/key_authority.h): a key is authority delegated by
// its creator, so when A removes a member, or lowers their role, the keys that member created
// (and the keys those keys created) lose what the member lost, at their next request. The attack:
// a member who leaves keeps using the admin key they made before. Keys made by members who stay
// go on working.
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

class KeyCreatorSecurityTest : public SecurityTest {
 protected:
  // A key made with `client` (a session, or an API key in `with_key`): its secret.
  std::string MakeKey(HttpClient& client, const std::string& role,
                      const std::string& with_key = "") {
    std::vector<std::string> headers = {"Content-Type: application/json"};
    if (!with_key.empty()) headers.push_back("X-API-Key: " + with_key);
    auto k = client.Request("POST", a_.OrgPath() + "/api-keys",
                            json{{"name", role + " key"}, {"role", role}}.dump(), headers);
    EXPECT_EQ(k.status, 201) << k.body;
    return k.Json().value("key", "");
  }

  // What the key may do in A: read (viewer), write an application (editor), list keys (admin).
  struct Can {
    long read, write, admin;
  };
  Can Probe(const std::string& key) {
    return Can{WithKey("GET", a_.DevicePath(), key).status,
               WithKey("PATCH", a_.AppPath(), key, {{"description", "probe"}}).status,
               WithKey("GET", a_.OrgPath() + "/api-keys", key).status};
  }
  std::string MemberPath(int64_t user_id) {
    return a_.OrgPath() + "/members/" + std::to_string(user_id);
  }
};

TEST_F(KeyCreatorSecurityTest, AMembersKeysLoseWhatTheMemberLoses) {
  OrgMember leaver = AddMember(a_.device.org_id, "admin", "leaver");
  HttpClient anon(server_->url());
  const std::string key = MakeKey(*leaver.client, "admin");
  const std::string child = MakeKey(anon, "editor", key);  // made by the key, not the member
  const std::string stayer = MakeKey(*a_.admin.client, "admin");
  for (const std::string& k : {key, child, stayer}) {
    Can can = Probe(k);
    EXPECT_EQ(can.read, 200);
    EXPECT_EQ(can.write, 200);
  }
  EXPECT_EQ(Probe(key).admin, 200);

  // Lowered to viewer: the admin key and its editor child read, and write nothing.
  ASSERT_EQ(Send(*a_.admin.client, "PUT", MemberPath(leaver.user_id), {{"role", "viewer"}}).status,
            200);
  for (const std::string& k : {key, child}) {
    Can can = Probe(k);
    EXPECT_EQ(can.read, 200);
    EXPECT_EQ(can.write, 403);
    EXPECT_EQ(can.admin, 403);
  }
  // Restricted to A's application (no role in the organisation as a whole): the keys, made for
  // the whole organisation, have none either.
  ASSERT_EQ(Send(*a_.admin.client, "PUT", MemberPath(leaver.user_id),
                 {{"role", "editor"}, {"applications", {a_.device.app_id}}})
                .status,
            200);
  for (const std::string& k : {key, child}) EXPECT_EQ(Probe(k).read, 401);
  // Removed: both keys are refused, saying why.
  ASSERT_EQ(a_.admin.client->Request("DELETE", MemberPath(leaver.user_id)).status, 204);
  for (const std::string& k : {key, child}) {
    auto r = WithKey("GET", a_.DevicePath(), k);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_NE(r.body.find("no longer holds a role"), std::string::npos) << r.body;
    EXPECT_EQ(WithKey("PATCH", a_.AppPath(), k, {{"description", "after leaving"}}).status, 401);
    EXPECT_EQ(
        WithKey("POST", a_.OrgPath() + "/api-keys", k, {{"name", "x"}, {"role", "viewer"}}).status,
        401);
  }
  EXPECT_EQ(leaver.client->Get(a_.DevicePath()).status, 404);
  // The application kept what was written before the member left.
  auto app = a_.admin.client->Get(a_.AppPath());
  ASSERT_EQ(app.status, 200);
  EXPECT_EQ(app.Json().value("description", ""), "probe");
  // A key of a member who stays works on.
  Can can = Probe(stayer);
  EXPECT_EQ(can.write, 200);
  EXPECT_EQ(can.admin, 200);
}

TEST_F(KeyCreatorSecurityTest, ADeletedUsersKeysAreRefused) {
  OrgMember user = AddMember(a_.device.org_id, "admin", "deleted");
  const std::string key = MakeKey(*user.client, "editor");
  EXPECT_EQ(Probe(key).write, 200);
  ASSERT_EQ(admin_->Request("DELETE", "/api/v1/users/" + std::to_string(user.user_id)).status, 204);
  auto r = WithKey("GET", a_.DevicePath(), key);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(Probe(MakeKey(*a_.admin.client, "editor")).write, 200);
}

}  // namespace
}  // namespace bysans::testing
