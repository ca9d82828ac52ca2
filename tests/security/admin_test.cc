// Issue 21 §2, administration in the UI: rotating an organisation's API key and removing members,
// attacked against the real server. B's admin, A's editor and the key itself try to rotate A's
// key (404/403, the key keeps working); after A's admin rotates it the old secret is refused at
// once. The last admin of A cannot be removed or demoted, by anyone. A time-limited admin key
// neither takes over a key that outlives it by rotating it nor gives a membership (which would
// outlive it) by invitation or role change.
#include <chrono>
#include <ctime>

#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

std::string Iso(std::chrono::seconds from_now) {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + from_now);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

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
    return WithKey(method, path, key, json::object()).status;
  }

  // A key of A made by A's admin (session): {id, secret}; no expiry when `expires` is empty.
  std::pair<int64_t, std::string> KeyOfA(const std::string& name, const std::string& role,
                                         const std::string& expires = "") {
    json body = {{"name", name}, {"role", role}};
    if (!expires.empty()) body["expiresAt"] = expires;
    auto k = Send(*a_.admin.client, "POST", a_.OrgPath() + "/api-keys", body);
    EXPECT_EQ(k.status, 201) << k.body;
    json j = k.Json();
    return {j.value("id", int64_t{0}), j.value("key", "")};
  }

  static std::string RotatePath(int64_t id) {
    return "/api/v1/api-keys/" + std::to_string(id) + "/rotate";
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

// A short-lived admin key K2 rotating the never-expiring admin key K1 would hold K1's new secret
// (a key that outlives K2) and lock K1's owner out: refused, as minting such a key is.
TEST_F(AdminSecurityTest, ATimeLimitedKeyCannotTakeOverALongerLivedKeyByRotatingIt) {
  using std::chrono::hours;
  using std::chrono::minutes;
  auto [k1, k1_secret] = KeyOfA("k1-forever", "admin");
  auto [k2, k2_secret] = KeyOfA("k2-hour", "admin", Iso(hours(1)));
  (void)k2;
  // Minting a longer-lived key with K2 is refused...
  auto minted = WithKey("POST", a_.OrgPath() + "/api-keys", k2_secret,
                        {{"name", "x"}, {"role", "admin"}, {"expiresAt", Iso(hours(2))}});
  EXPECT_EQ(minted.status, 400) << minted.body;
  // ... and so is taking one over by rotation: a key that never expires, or expires later.
  auto attack = WithKey("POST", RotatePath(k1), k2_secret, json::object());
  EXPECT_EQ(attack.status, 403) << attack.body;
  EXPECT_NE(attack.body.find("expires later"), std::string::npos) << attack.body;
  EXPECT_EQ(attack.body.find("bys_"), std::string::npos) << attack.body;  // no secret in it
  auto [k3, k3_secret] = KeyOfA("k3-two-hours", "admin", Iso(hours(2)));
  EXPECT_EQ(StatusWithKey("POST", RotatePath(k3), k2_secret), 403);
  // Neither secret changed.
  EXPECT_EQ(StatusWithKey("GET", a_.OrgPath() + "/api-keys", k1_secret), 200);
  EXPECT_EQ(StatusWithKey("GET", a_.OrgPath() + "/api-keys", k3_secret), 200);

  // What K2 could have minted it may rotate: same role or lower, expiring earlier.
  for (const char* role : {"admin", "viewer"}) {
    auto [id, secret] = KeyOfA(std::string("short-") + role, role, Iso(minutes(30)));
    auto rotated = WithKey("POST", RotatePath(id), k2_secret, json::object());
    ASSERT_EQ(rotated.status, 200) << role << rotated.body;
    const std::string fresh = rotated.Json().value("key", "");
    EXPECT_EQ(StatusWithKey("GET", a_.OrgPath(), secret), 401) << role;
    EXPECT_EQ(StatusWithKey("GET", a_.OrgPath(), fresh), 200) << role;
  }
  // A key without expiry and A's admin (session) rotate the longer-lived keys.
  auto [k4, k4_secret] = KeyOfA("k4-forever", "admin");
  (void)k4;
  auto by_key = WithKey("POST", RotatePath(k1), k4_secret, json::object());
  ASSERT_EQ(by_key.status, 200) << by_key.body;
  EXPECT_TRUE(by_key.Json()["expiresAt"].is_null());
  EXPECT_EQ(StatusWithKey("GET", a_.OrgPath(), k1_secret), 401);
  EXPECT_EQ(StatusWithKey("GET", a_.OrgPath(), by_key.Json().value("key", "")), 200);
  auto by_session = Send(*a_.admin.client, "POST", RotatePath(k3), json::object());
  ASSERT_EQ(by_session.status, 200) << by_session.body;
  EXPECT_EQ(StatusWithKey("GET", a_.OrgPath(), k3_secret), 401);
  // K2 itself still works.
  EXPECT_EQ(StatusWithKey("GET", a_.OrgPath(), k2_secret), 200);
}

// A membership never expires: a time-limited admin key giving one (an invitation, or a member's
// role) would hand out access that outlives it. A key without expiry may.
TEST_F(AdminSecurityTest, ATimeLimitedKeyGivesNoMembershipThatOutlivesIt) {
  auto [limited_id, limited] = KeyOfA("limited", "admin", Iso(std::chrono::hours(1)));
  auto [forever_id, forever] = KeyOfA("forever", "admin");
  (void)limited_id;
  (void)forever_id;
  const std::string invitations = a_.OrgPath() + "/invitations";
  const std::string viewer = a_.OrgPath() + "/members/" + std::to_string(a_.viewer.user_id);

  auto invite =
      WithKey("POST", invitations, limited, {{"email", "newcomer@kommune.dk"}, {"role", "admin"}});
  EXPECT_EQ(invite.status, 403) << invite.body;
  auto promote = WithKey("PUT", viewer, limited, {{"role", "admin"}});
  EXPECT_EQ(promote.status, 403) << promote.body;
  // Nothing was given: no invitation is pending, A's viewer is still a viewer.
  auto pending = a_.admin.client->Get(invitations);
  ASSERT_EQ(pending.status, 200) << pending.body;
  EXPECT_EQ(pending.body.find("newcomer"), std::string::npos) << pending.body;
  auto member = a_.admin.client->Get(viewer);
  ASSERT_EQ(member.status, 200) << member.body;
  EXPECT_EQ(member.Json().value("role", ""), "viewer");
  EXPECT_EQ(a_.viewer.client->Get(a_.OrgPath() + "/members").status, 403);

  // An admin key without expiry still invites and changes roles.
  auto ok_invite =
      WithKey("POST", invitations, forever, {{"email", "newcomer@kommune.dk"}, {"role", "editor"}});
  EXPECT_EQ(ok_invite.status, 201) << ok_invite.body;
  auto ok_role = WithKey("PUT", viewer, forever, {{"role", "editor"}});
  EXPECT_EQ(ok_role.status, 200) << ok_role.body;
  EXPECT_EQ(ok_role.Json().value("role", ""), "editor");
}

}  // namespace
}  // namespace bysans::testing
