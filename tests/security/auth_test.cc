// Issue 14, identities and sessions (findings 8, 9, 13, 17, 18 streams, 20):
// member enumeration, revocation of open streams, password changes, login
// throttling, X-Forwarded-For, the password rule (API and CLI) and API keys
// minted by API keys. Each test attacks the real server and checks that the
// legitimate use still works.
#include <curl/curl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "security/security_fixture.h"
#include "security/sse_stream.h"

namespace bysans::testing {
namespace {

std::string Iso(std::chrono::seconds from_now) {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + from_now);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

class AuthSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    // Many logins from one address in these tests; a short stream re-check.
    server_env_.push_back("BYSANS_AUTH_LOGIN_ATTEMPTS_PER_MINUTE=1000");
    server_env_.push_back("BYSANS_AUTH_STREAM_RECHECK_S=1");
    SecurityTest::SetUp();
  }

  std::unique_ptr<SseStream> OpenStream(const Tenant& t, const std::string& header) {
    auto s = std::make_unique<SseStream>(server_->url() + t.OrgPath() + "/stream",
                                         std::vector<std::string>{header});
    EXPECT_TRUE(s->Opened()) << "the stream did not open";
    return s;
  }

  // Logs `m` in on a fresh client; returns {client, "Cookie: ..." header}.
  std::pair<std::unique_ptr<HttpClient>, std::string> NewSession(const OrgMember& m) {
    auto c = std::make_unique<HttpClient>(server_->url());
    auto login = c->Login(m.email, m.password);
    EXPECT_EQ(login.status, 200) << login.body;
    return {std::move(c), "Cookie: " + SessionCookie(login)};
  }

  // The client address of the newest audit entry with this action and user.
  std::string AuditAddress(const std::string& action, int64_t user_id) {
    auto audit = admin_->Get("/api/v1/audit?limit=1000");
    EXPECT_EQ(audit.status, 200) << audit.body;
    const json entries = audit.Json();
    for (const auto& e : entries["items"])
      if (e.value("action", "") == action && e.value("userId", int64_t{0}) == user_id)
        return e.value("remoteAddr", "");
    return "<no audit entry>";
  }
};

// ---- finding 8: members by id, invitations by email

TEST_F(AuthSecurityTest, OrgAdminCannotLookUpUsersOutsideTheOrganisation) {
  // B's admin "adds" A's admin by user id: the same 404 as for a user that does not exist.
  const std::string members = b_.OrgPath() + "/members/";
  auto probe = Send(*b_.admin.client, "PUT", members + std::to_string(a_.admin.user_id),
                    {{"role", "viewer"}});
  EXPECT_EQ(probe.status, 404) << probe.body;
  EXPECT_EQ(probe.body.find(a_.admin.email), std::string::npos) << probe.body;
  EXPECT_EQ(probe.body.find("@"), std::string::npos) << probe.body;
  auto unknown = Send(*b_.admin.client, "PUT", members + "999999", {{"role", "viewer"}});
  EXPECT_EQ(unknown.status, 404);
  auto normalise = [](std::string body, int64_t id) {
    std::string s = std::to_string(id);
    for (size_t at = body.find(s); at != std::string::npos; at = body.find(s))
      body.replace(at, s.size(), "N");
    return body;
  };
  EXPECT_EQ(normalise(probe.body, a_.admin.user_id), normalise(unknown.body, 999999));
  EXPECT_EQ(b_.admin.client->Get(members + std::to_string(a_.admin.user_id)).status, 404);
  EXPECT_EQ(b_.admin.client->Get("/api/v1/users/" + std::to_string(a_.admin.user_id)).status, 403);
  // A did not become a member of B.
  auto list = b_.admin.client->Get(b_.OrgPath() + "/members");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(a_.admin.email), std::string::npos);
  // B's admin still changes the role of B's own member.
  auto own = Send(*b_.admin.client, "PUT", members + std::to_string(b_.viewer.user_id),
                  {{"role", "editor"}});
  EXPECT_EQ(own.status, 200) << own.body;
}

TEST_F(AuthSecurityTest, InvitationsRevealNothingAndTheInviteeAccepts) {
  const std::string invitations = b_.OrgPath() + "/invitations";
  auto existing =
      Send(*b_.admin.client, "POST", invitations, {{"email", a_.viewer.email}, {"role", "editor"}});
  auto nobody = Send(*b_.admin.client, "POST", invitations,
                     {{"email", "nobody-at-all@kommune.dk"}, {"role", "editor"}});
  ASSERT_EQ(existing.status, 201) << existing.body;
  EXPECT_EQ(nobody.status, existing.status);
  // Same fields, nothing about the user (no id, no name).
  std::vector<std::string> keys_a, keys_b;
  const json existing_json = existing.Json(), nobody_json = nobody.Json();
  for (const auto& [k, v] : existing_json.items()) keys_a.push_back(k);
  for (const auto& [k, v] : nobody_json.items()) keys_b.push_back(k);
  EXPECT_EQ(keys_a, keys_b);
  EXPECT_FALSE(existing.Json().contains("userId")) << existing.body;
  EXPECT_EQ(existing.body.find(std::to_string(a_.viewer.user_id) + ","), std::string::npos);
  const int64_t id = existing.Json().value("id", int64_t{0});

  // Only the invitee sees and accepts it.
  const std::string accept = "/api/v1/me/invitations/" + std::to_string(id) + "/accept";
  EXPECT_EQ(Send(*a_.editor.client, "POST", accept, json::object()).status, 404);
  auto other_list = a_.editor.client->Get("/api/v1/me/invitations");
  EXPECT_EQ(other_list.Json().value("total", -1), 0) << other_list.body;
  auto mine = a_.viewer.client->Get("/api/v1/me/invitations");
  ASSERT_EQ(mine.status, 200) << mine.body;
  ASSERT_EQ(mine.Json().value("total", 0), 1) << mine.body;
  EXPECT_EQ(mine.Json()["items"][0].value("orgName", ""), "Organisation B");
  EXPECT_EQ(a_.viewer.client->Get(b_.OrgPath()).status, 404);  // not a member yet
  auto accepted = Send(*a_.viewer.client, "POST", accept, json::object());
  EXPECT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(a_.viewer.client->Get(b_.OrgPath()).status, 200);
  const json me = a_.viewer.client->Get("/api/v1/auth/me").Json();
  bool editor_in_b = false;
  for (const auto& m : me["memberships"])
    editor_in_b |=
        m.value("orgId", int64_t{0}) == b_.device.org_id && m.value("role", "") == "editor";
  EXPECT_TRUE(editor_in_b) << me.dump();
  // Accepted once; B's admin now lists the new member; the pending one can be revoked.
  EXPECT_EQ(Send(*a_.viewer.client, "POST", accept, json::object()).status, 404);
  EXPECT_NE(b_.admin.client->Get(b_.OrgPath() + "/members").body.find(a_.viewer.email),
            std::string::npos);
  const int64_t pending = nobody.Json().value("id", int64_t{0});
  EXPECT_EQ(
      a_.admin.client->Request("DELETE", a_.OrgPath() + "/invitations/" + std::to_string(pending))
          .status,
      404);  // A's admin cannot touch B's invitations
  EXPECT_EQ(b_.admin.client->Request("DELETE", invitations + "/" + std::to_string(pending)).status,
            204);
}

// ---- finding 9 and 18: open streams, password changes

TEST_F(AuthSecurityTest, StreamEndsAfterLogout) {
  auto [client, cookie] = NewSession(a_.viewer);
  auto stream = OpenStream(a_, cookie);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_FALSE(stream->EndsWithin(std::chrono::milliseconds(0)));  // open while logged in
  EXPECT_EQ(Send(*client, "POST", "/api/v1/auth/logout", json::object()).status, 204);
  EXPECT_TRUE(stream->EndsWithin(std::chrono::seconds(5))) << stream->body();
  EXPECT_NE(stream->body().find("event: revoked"), std::string::npos) << stream->body();
  // The opening was audited with its organisation.
  auto audit = a_.admin.client->Get("/api/v1/audit?orgId=" + std::to_string(a_.device.org_id));
  EXPECT_NE(audit.body.find("\"subscribe\""), std::string::npos) << audit.body;
}

TEST_F(AuthSecurityTest, StreamEndsAfterKeyRevocation) {
  auto key = Send(*a_.admin.client, "POST", a_.OrgPath() + "/api-keys",
                  {{"name", "dashboard"}, {"role", "viewer"}});
  ASSERT_EQ(key.status, 201) << key.body;
  auto stream = OpenStream(a_, "X-API-Key: " + key.Json().value("key", ""));
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_FALSE(stream->EndsWithin(std::chrono::milliseconds(0)));
  auto del = a_.admin.client->Request(
      "DELETE", "/api/v1/api-keys/" + std::to_string(key.Json().value("id", int64_t{0})));
  EXPECT_EQ(del.status, 204);
  EXPECT_TRUE(stream->EndsWithin(std::chrono::seconds(5))) << stream->body();
}

TEST_F(AuthSecurityTest, StreamEndsWhenTheKeyExpires) {
  // No revocation event: the periodic re-check (1 s here) ends it.
  auto key =
      Send(*a_.admin.client, "POST", a_.OrgPath() + "/api-keys",
           {{"name", "short"}, {"role", "viewer"}, {"expiresAt", Iso(std::chrono::seconds(3))}});
  ASSERT_EQ(key.status, 201) << key.body;
  auto stream = OpenStream(a_, "X-API-Key: " + key.Json().value("key", ""));
  EXPECT_FALSE(stream->EndsWithin(std::chrono::milliseconds(1000)));
  EXPECT_TRUE(stream->EndsWithin(std::chrono::seconds(6))) << stream->body();
}

TEST_F(AuthSecurityTest, StreamEndsAfterMembershipRemoval) {
  auto [client, cookie] = NewSession(a_.editor);
  auto stream = OpenStream(a_, cookie);
  auto removed = a_.admin.client->Request(
      "DELETE", a_.OrgPath() + "/members/" + std::to_string(a_.editor.user_id));
  EXPECT_EQ(removed.status, 204) << removed.body;
  EXPECT_TRUE(stream->EndsWithin(std::chrono::seconds(5))) << stream->body();
  // A member's stream stays open meanwhile.
  auto [viewer_client, viewer_cookie] = NewSession(a_.viewer);
  auto kept = OpenStream(a_, viewer_cookie);
  EXPECT_FALSE(kept->EndsWithin(std::chrono::milliseconds(1500)));
  EXPECT_EQ(Send(*viewer_client, "POST", "/api/v1/auth/logout", json::object()).status, 204);
  EXPECT_TRUE(kept->EndsWithin(std::chrono::seconds(5)));
}

TEST_F(AuthSecurityTest, PasswordChangeEndsTheOtherSessions) {
  auto [other, cookie] = NewSession(a_.editor);
  auto stream = OpenStream(a_, cookie);
  ASSERT_EQ(other->Get("/api/v1/auth/me").status, 200);
  const std::string self = "/api/v1/users/" + std::to_string(a_.editor.user_id);
  auto changed =
      Send(*a_.editor.client, "PATCH", self,
           {{"password", "Another-strong-pass-2027"}, {"currentPassword", a_.editor.password}});
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(other->Get("/api/v1/auth/me").status, 401);
  EXPECT_EQ(a_.editor.client->Get("/api/v1/auth/me").status, 200);  // the current one goes on
  EXPECT_TRUE(stream->EndsWithin(std::chrono::seconds(5))) << stream->body();
  HttpClient fresh(server_->url());
  EXPECT_EQ(fresh.Login(a_.editor.email, "Another-strong-pass-2027").status, 200);
}

// ---- finding 13: throttling, not locking; X-Forwarded-For

TEST_F(AuthSecurityTest, WrongPasswordsThrottleButDoNotLockTheOwnerOut) {
  HttpClient attacker(server_->url());
  int unauthorised = 0, throttled = 0;
  std::string retry_after;
  for (int i = 0; i < 10; ++i) {
    auto r = attacker.Login(a_.viewer.email, "wrong-guess-" + std::to_string(i));
    if (r.status == 401) ++unauthorised;
    if (r.status == 429) {
      ++throttled;
      retry_after = r.headers["retry-after"];
    }
  }
  EXPECT_EQ(unauthorised, 5);
  EXPECT_EQ(throttled, 5);
  ASSERT_FALSE(retry_after.empty());
  EXPECT_LE(std::stoi(retry_after), 2);
  // The owner must wait the short delay, not a lock-out...
  HttpClient owner(server_->url());
  EXPECT_EQ(owner.Login(a_.viewer.email, a_.viewer.password).status, 429);
  std::this_thread::sleep_for(std::chrono::seconds(std::stoi(retry_after)) +
                              std::chrono::milliseconds(300));
  EXPECT_EQ(owner.Login(a_.viewer.email, a_.viewer.password).status, 200);
  // ... and other accounts were never affected.
  HttpClient other(server_->url());
  EXPECT_EQ(other.Login(a_.editor.email, a_.editor.password).status, 200);
}

TEST_F(AuthSecurityTest, ForwardedForIsIgnoredFromAnUntrustedPeer) {
  HttpClient c(server_->url());
  auto login = c.PostJson("/api/v1/auth/login",
                          {{"email", a_.viewer.email}, {"password", a_.viewer.password}},
                          {"X-Forwarded-For: 203.0.113.7"});
  ASSERT_EQ(login.status, 200);
  EXPECT_EQ(AuditAddress("login", a_.viewer.user_id), "127.0.0.1");
}

class TrustedProxyTest : public AuthSecurityTest {
 protected:
  void SetUp() override {
    server_env_ = {"BYSANS_HTTP_TRUSTED_PROXIES=10.0.0.0/8, 127.0.0.1"};
    AuthSecurityTest::SetUp();
  }
};

TEST_F(TrustedProxyTest, ForwardedForIsHonouredFromATrustedProxy) {
  // The right-most address not a trusted proxy: the client's own claim (left) is not believed.
  HttpClient c(server_->url());
  auto login = c.PostJson("/api/v1/auth/login",
                          {{"email", a_.viewer.email}, {"password", a_.viewer.password}},
                          {"X-Forwarded-For: 198.51.100.1, 203.0.113.7, 10.1.2.3"});
  ASSERT_EQ(login.status, 200);
  EXPECT_EQ(AuditAddress("login", a_.viewer.user_id), "203.0.113.7");
}

// An anonymous guesser cannot keep an account's owner out (the review of 2026-12-06: one wrong
// password every 15 minutes from anywhere kept any account waiting): a guesser's failures slow
// only its own address, and failures spread over many addresses slow new addresses, not the one
// the owner logs in from. Addresses come through X-Forwarded-For from the trusted proxy.
TEST_F(TrustedProxyTest, AGuesserElsewhereDoesNotKeepTheOwnerOut) {
  HttpClient c(server_->url());
  auto login = [&](const std::string& password, const std::string& from) {
    return c.PostJson("/api/v1/auth/login", {{"email", a_.viewer.email}, {"password", password}},
                      {"X-Forwarded-For: " + from});
  };
  const std::string home = "198.51.100.20";
  ASSERT_EQ(login(a_.viewer.password, home).status, 200);
  int throttled = 0;
  for (int i = 0; i < 10; ++i)
    throttled += login("wrong-" + std::to_string(i), "203.0.113.66").status == 429;
  EXPECT_EQ(throttled, 5);
  EXPECT_EQ(login(a_.viewer.password, "203.0.113.66").status, 429);  // the guesser's address waits
  EXPECT_EQ(login(a_.viewer.password, home).status, 200);            // the owner does not
  // Guessing spread over 15 more addresses (20 failures in all): a new address waits...
  for (int i = 0; i < 15; ++i)
    EXPECT_EQ(login("wrong", "203.0.113." + std::to_string(100 + i)).status, 401) << i;
  EXPECT_EQ(login(a_.viewer.password, "192.0.2.99").status, 429);
  // ... the owner's own address still logs in at once, and other accounts were never affected.
  EXPECT_EQ(login(a_.viewer.password, home).status, 200);
  HttpClient other(server_->url());
  EXPECT_EQ(other.Login(a_.editor.email, a_.editor.password).status, 200);
}

// ---- finding 17: one password rule, CLI without argv

TEST_F(AuthSecurityTest, CommonAndShortPasswordsAreRefusedByTheApi) {
  for (const char* weak : {"123456789012", "passwordpassword", "PasswordPassword", "Short-pw-1"}) {
    auto r = admin_->PostJson("/api/v1/users", {{"email", "weak@kommune.dk"}, {"password", weak}});
    EXPECT_EQ(r.status, 400) << weak << ": " << r.body;
    auto change =
        Send(*a_.editor.client, "PATCH", "/api/v1/users/" + std::to_string(a_.editor.user_id),
             {{"password", weak}, {"currentPassword", a_.editor.password}});
    EXPECT_EQ(change.status, 400) << weak << ": " << change.body;
  }
  auto strong = admin_->PostJson(
      "/api/v1/users", {{"email", "weak@kommune.dk"}, {"password", "Sporvogn-Lilla-Kaffe-9"}});
  EXPECT_EQ(strong.status, 201) << strong.body;
}

// Runs the CLI with `input` on its standard input; {exit code, output}.
std::pair<int, std::string> RunWithStdin(const std::vector<std::string>& args,
                                         const std::string& input) {
  char tmpl[] = "/tmp/bysans-cli-XXXXXX";
  int fd = mkstemp(tmpl);
  close(fd);
  std::string cmd = ServerProcess::BinaryPath();
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " >" + std::string(tmpl) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "w");
  if (!p) return {-1, "popen failed"};
  std::fputs(input.c_str(), p);
  int status = pclose(p);
  std::ifstream in(tmpl);
  std::stringstream ss;
  ss << in.rdbuf();
  std::filesystem::remove(tmpl);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
}

TEST(AuthCliTest, CreateUserTakesThePasswordFromStdinOrTheEnvironmentOnly) {
  char tmpl[] = "/tmp/bysans-cli-dir-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto args = [&](const std::string& email) {
    return std::vector<std::string>{"admin", "create-user", "--data-dir", dir, "--email", email};
  };
  // argv is refused, even with a good password.
  auto argv_args = args("argv@kommune.dk");
  argv_args.insert(argv_args.end(), {"--password", "Sporvogn-Lilla-Kaffe-9"});
  auto [argv_code, argv_out] = RunBinary(argv_args);
  EXPECT_NE(argv_code, 0) << argv_out;
  EXPECT_NE(argv_out.find("standard input"), std::string::npos) << argv_out;
  // Common or short passwords are refused.
  for (const char* weak : {"123456789012\n", "passwordpassword\n", "short-one\n"}) {
    auto [code, out] = RunWithStdin(args("weak@kommune.dk"), weak);
    EXPECT_NE(code, 0) << weak << out;
    EXPECT_EQ(out.find("created user"), std::string::npos) << out;
  }
  auto [code, out] = RunWithStdin(args("pia@kommune.dk"), "Sporvogn-Lilla-Kaffe-9\n");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("created user pia@kommune.dk"), std::string::npos) << out;
  auto [env_code, env_out] =
      RunBinary(args("ole@kommune.dk"), {"BYSANS_NEW_USER_PASSWORD=Cykelsti-Ved-Aaen-77"});
  EXPECT_EQ(env_code, 0) << env_out;
  std::filesystem::remove_all(dir);
}

// ---- finding 20: keys minted by keys

TEST_F(AuthSecurityTest, KeysNeverOutrankOrOutliveTheirCreator) {
  const std::string keys = a_.OrgPath() + "/api-keys";
  auto make = [&](HttpClient& c, const std::string& role, std::vector<std::string> extra = {}) {
    json body = {{"name", role + "-key"}, {"role", role}};
    if (!extra.empty()) body["expiresAt"] = extra[0];
    return Send(c, "POST", keys, body);
  };
  auto viewer_key = make(*a_.admin.client, "viewer");
  auto editor_key = make(*a_.admin.client, "editor");
  auto expiring = make(*a_.admin.client, "admin", {Iso(std::chrono::hours(1))});
  ASSERT_EQ(expiring.status, 201) << expiring.body;
  auto as = [&](const HttpResult& k) {
    return std::vector<std::string>{"X-API-Key: " + k.Json().value("key", ""),
                                    "Content-Type: application/json"};
  };
  HttpClient raw(server_->url());
  auto mint = [&](const HttpResult& creator, json body) {
    return raw.Request("POST", keys, body.dump(), as(creator));
  };
  // Lower-ranked keys cannot mint an admin key.
  EXPECT_EQ(mint(viewer_key, {{"name", "x"}, {"role", "admin"}}).status, 403);
  EXPECT_EQ(mint(editor_key, {{"name", "x"}, {"role", "admin"}}).status, 403);
  // An expiring key cannot mint a longer-lived one...
  EXPECT_EQ(
      mint(expiring, {{"name", "x"}, {"role", "admin"}, {"expiresAt", Iso(std::chrono::hours(2))}})
          .status,
      400);
  // ... its children expire no later than it does, and die with it.
  auto child = mint(expiring, {{"name", "child"}, {"role", "editor"}});
  ASSERT_EQ(child.status, 201) << child.body;
  EXPECT_EQ(child.Json()["expiresAt"], expiring.Json()["expiresAt"]);
  auto grandchild =
      raw.Request("POST", keys, json{{"name", "gc"}, {"role", "viewer"}}.dump(), as(child));
  EXPECT_EQ(grandchild.status, 403);  // an editor key mints nothing
  auto admin_child = mint(expiring, {{"name", "admin-child"}, {"role", "admin"}});
  ASSERT_EQ(admin_child.status, 201);
  auto grand = mint(admin_child, {{"name", "grand"}, {"role", "viewer"}});
  ASSERT_EQ(grand.status, 201);
  EXPECT_EQ(raw.Request("GET", a_.DevicePath(), {}, as(grand)).status, 200);
  auto revoked = a_.admin.client->Request(
      "DELETE", "/api/v1/api-keys/" + std::to_string(expiring.Json().value("id", int64_t{0})));
  EXPECT_EQ(revoked.status, 204);
  for (const auto* k : {&child, &admin_child, &grand})
    EXPECT_EQ(raw.Request("GET", a_.DevicePath(), {}, as(*k)).status, 401) << k->body;
  // Keys the user made are unaffected.
  EXPECT_EQ(raw.Request("GET", a_.DevicePath(), {}, as(viewer_key)).status, 200);
}

}  // namespace
}  // namespace bysans::testing
