// Authenticator against a real SQLite store: passwords, sessions, API keys,
// the login rate limit and the role checks.
#include "auth/auth.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/sqlite/sqlite_store.h"

namespace bysans::auth {
namespace {

TEST(PasswordTest, HashAndVerify) {
  std::string h = HashPassword("correct horse", /*fast=*/true);
  EXPECT_EQ(h.rfind("$argon2id$", 0), 0u) << h;
  EXPECT_TRUE(VerifyPassword(h, "correct horse"));
  EXPECT_FALSE(VerifyPassword(h, "correct horse "));
  EXPECT_FALSE(VerifyPassword("", "x"));
  EXPECT_FALSE(VerifyPassword("garbage", "x"));
  EXPECT_NE(HashPassword("correct horse", true), h);  // salted
}

TEST(Sha256Test, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(RequireTest, RolesAndTenancy) {
  Principal p;
  p.roles[1] = Role::kEditor;
  EXPECT_TRUE(Require(p, 1, Role::kViewer).ok());
  EXPECT_TRUE(Require(p, 1, Role::kEditor).ok());
  EXPECT_EQ(Require(p, 1, Role::kAdmin).code(), Code::kPermissionDenied);
  EXPECT_EQ(Require(p, 2, Role::kViewer).code(), Code::kNotFound);
  EXPECT_EQ(RequireGlobalAdmin(p).code(), Code::kPermissionDenied);
  p.global_admin = true;
  EXPECT_TRUE(Require(p, 2, Role::kAdmin).ok());
  EXPECT_TRUE(RequireGlobalAdmin(p).ok());
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bysans_auth_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    SqliteOptions so;
    so.path = dir_ + "/auth.db";
    so.clock = &clock_;
    auto s = OpenSqliteStore(so);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
    AuthOptions o;
    o.fast_password_hashing_for_tests = true;
    o.login_attempts_per_minute = 3;
    o.login_free_failures = 3;
    o.session_ttl_ms = 3'600'000;
    auth_ = std::make_unique<Authenticator>(*store_, clock_, random_, o);
    Organization org;
    org.name = "Odense";
    org_ = store_->CreateOrganization(org)->id;
    User u;
    u.email = "anna@example.dk";
    u.password_hash = HashPassword("annas-password", true);
    user_ = store_->CreateUser(u)->id;
    ASSERT_TRUE(store_->PutMembership({user_, org_, Role::kEditor}).ok());
  }
  void TearDown() override {
    auth_.reset();
    if (store_) store_->Close();
    std::filesystem::remove_all(dir_);
  }

  http::Request WithCookie(const std::string& token) {
    http::Request r;
    r.headers.Set("cookie", "other=1; " + std::string(kSessionCookie) + "=" + token);
    return r;
  }

  std::string AddKey(Role role, std::optional<TimeMs> expires, Id created_by = 0,
                     std::optional<Id> created_by_key = std::nullopt) {
    auto s = auth_->NewApiKeySecret();
    ApiKey k;
    k.org_id = org_;
    k.name = "k";
    k.role = role;
    k.prefix = s.prefix;
    k.secret_hash = s.hash;
    k.expires_ms = expires;
    k.created_by = created_by;
    k.created_by_key = created_by_key;
    auto created = store_->CreateApiKey(k);
    EXPECT_TRUE(created.ok());
    key_id_ = created.ok() ? created->id : 0;
    return s.secret;
  }

  std::string dir_;
  ManualClock clock_{1'780'000'000'000};
  SystemRandom random_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Authenticator> auth_;
  Id org_ = 0, user_ = 0, key_id_ = 0;
};

// Access per application: a restricted member has no role in the organisation as a whole (every
// organisation-wide check fails closed) and their role on their applications only.
TEST(RequireTest, AMemberRestrictedToApplicationsPassesOnlyForThem) {
  Principal p;
  p.roles[1] = Role::kOperator;
  p.app_scope[1] = {10, 11};
  EXPECT_EQ(p.RoleIn(1), std::nullopt);
  EXPECT_EQ(Require(p, 1, Role::kViewer).code(), Code::kNotFound);
  EXPECT_TRUE(RequireInApp(p, 1, 10, Role::kOperator).ok());
  EXPECT_EQ(RequireInApp(p, 1, 10, Role::kEditor).code(), Code::kPermissionDenied);
  EXPECT_EQ(RequireInApp(p, 1, 12, Role::kViewer).code(), Code::kNotFound);
  EXPECT_EQ(RequireInApp(p, 2, 10, Role::kViewer).code(), Code::kNotFound);
  EXPECT_EQ(p.MemberRoleIn(1), Role::kOperator);
  ASSERT_NE(p.ScopeIn(1), nullptr);
  EXPECT_EQ(p.ScopeIn(1)->size(), 2u);
  p.app_scope[1] = {};  // their last application deleted: nothing, not the whole organisation
  EXPECT_EQ(RequireInApp(p, 1, 10, Role::kViewer).code(), Code::kNotFound);
  EXPECT_EQ(Require(p, 1, Role::kViewer).code(), Code::kNotFound);
  p.global_admin = true;  // a global admin is never restricted
  EXPECT_EQ(p.ScopeIn(1), nullptr);
  EXPECT_TRUE(Require(p, 1, Role::kAdmin).ok());
}

TEST_F(AuthenticatorTest, LoginCreatesSessionStoredOnlyAsHash) {
  auto r = auth_->Login("Anna@Example.dk", "annas-password", "10.0.0.1");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->user.id, user_);
  EXPECT_EQ(r->expires_ms, clock_.NowMs() + 3'600'000);
  EXPECT_FALSE(store_->FindSession(r->session_token).ok());
  EXPECT_TRUE(store_->FindSession(Sha256Hex(r->session_token)).ok());
  auto p = auth_->Authenticate(WithCookie(r->session_token));
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->user_id, user_);
  EXPECT_EQ(p->RoleIn(org_), Role::kEditor);
  EXPECT_EQ(p->ScopeIn(org_), nullptr);
  EXPECT_EQ(p->name, "anna@example.dk");
  // Restricted to one application: the next request's principal says so.
  Application app;
  app.org_id = org_;
  app.name = "Skoler";
  auto created = store_->CreateApplication(app);
  ASSERT_TRUE(created.ok());
  Membership m{user_, org_, Role::kEditor};
  m.app_scoped = true;
  m.app_ids = {created->id};
  ASSERT_TRUE(store_->PutMembership(m).ok());
  auto scoped = auth_->Authenticate(WithCookie(r->session_token));
  ASSERT_TRUE(scoped.ok());
  EXPECT_EQ(scoped->RoleIn(org_), std::nullopt);
  EXPECT_EQ(scoped->RoleInApp(org_, created->id), Role::kEditor);
  // Expiry.
  clock_.Advance(3'600'000);
  auto expired = auth_->Authenticate(WithCookie(r->session_token));
  EXPECT_EQ(expired.status().code(), Code::kUnauthenticated);
  EXPECT_NE(expired.status().message().find("expired"), std::string::npos);
}

TEST_F(AuthenticatorTest, LogoutEndsSession) {
  auto r = auth_->Login("anna@example.dk", "annas-password", "10.0.0.1");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(auth_->Logout(r->session_token).ok());
  EXPECT_EQ(auth_->Authenticate(WithCookie(r->session_token)).status().code(),
            Code::kUnauthenticated);
  EXPECT_TRUE(auth_->Logout(r->session_token).ok());  // idempotent
}

TEST_F(AuthenticatorTest, WrongEmailOrPasswordSameMessage) {
  auto a = auth_->Login("anna@example.dk", "nope", "10.0.0.1");
  auto b = auth_->Login("bob@example.dk", "annas-password", "10.0.0.2");
  EXPECT_EQ(a.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(b.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(a.status().message(), b.status().message());
}

TEST_F(AuthenticatorTest, WrongPasswordsDelayTheAccountAndAddressesAreLimited) {
  ASSERT_TRUE(auth_->Login("anna@example.dk", "annas-password", "10.0.0.50").ok());  // her usual
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(auth_->Login("anna@example.dk", "bad", "10.0.0.1").status().code(),
              Code::kUnauthenticated);
  // That address now waits 2 s, even with the right password.
  TimeMs retry = 0;
  EXPECT_EQ(auth_->Login("anna@example.dk", "annas-password", "10.0.0.1", &retry).status().code(),
            Code::kRateLimited);
  EXPECT_EQ(retry, 2'000);
  // Spread over addresses (12 failures in all, 4 × 3): a new address waits, hers does not.
  for (int i = 2; i < 11; ++i)
    EXPECT_EQ(auth_->Login("anna@example.dk", "bad", "10.0.1." + std::to_string(i)).status().code(),
              Code::kUnauthenticated);
  EXPECT_EQ(auth_->Login("anna@example.dk", "annas-password", "10.0.0.9").status().code(),
            Code::kRateLimited);
  EXPECT_TRUE(auth_->Login("anna@example.dk", "annas-password", "10.0.0.50").ok());
  // Per address: three different emails from one address.
  for (int i = 0; i < 3; ++i)
    (void)auth_->Login("x" + std::to_string(i) + "@example.dk", "bad", "10.9.9.9");
  EXPECT_EQ(auth_->Login("y@example.dk", "bad", "10.9.9.9").status().code(), Code::kRateLimited);
  // After the short wait Anna logs in: no lock-out.
  clock_.Advance(2'000);
  EXPECT_TRUE(auth_->Login("anna@example.dk", "annas-password", "10.0.0.9").ok());
}

TEST_F(AuthenticatorTest, EndOtherSessionsKeepsTheCurrentOneAndCountsRevocations) {
  auto a = auth_->Login("anna@example.dk", "annas-password", "10.0.0.1");
  auto b = auth_->Login("anna@example.dk", "annas-password", "10.0.0.2");
  ASSERT_TRUE(a.ok() && b.ok());
  const uint64_t before = auth_->revocations();
  ASSERT_TRUE(auth_->EndOtherSessions(user_, a->session_token).ok());
  EXPECT_GT(auth_->revocations(), before);
  EXPECT_TRUE(auth_->Authenticate(WithCookie(a->session_token)).ok());
  EXPECT_FALSE(auth_->Authenticate(WithCookie(b->session_token)).ok());
}

TEST_F(AuthenticatorTest, ClientAddressIgnoresForwardedForWithoutTrustedProxies) {
  http::Request r;
  r.remote_addr = "10.0.0.5";
  r.headers.Set("x-forwarded-for", "203.0.113.7");
  EXPECT_EQ(auth_->ClientAddress(r), "10.0.0.5");
}

TEST_F(AuthenticatorTest, ApiKeysBothHeadersExpiryAndDeletion) {
  std::string secret = AddKey(Role::kViewer, clock_.NowMs() + 1000);
  EXPECT_EQ(secret.rfind("bys_", 0), 0u);
  http::Request x;
  x.headers.Set("X-API-Key", secret);
  auto p = auth_->Authenticate(x);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->api_key_id, key_id_);
  EXPECT_FALSE(p->user_id);
  EXPECT_EQ(p->RoleIn(org_), Role::kViewer);
  EXPECT_EQ(p->roles.size(), 1u);
  http::Request bearer;
  bearer.headers.Set("Authorization", "Bearer " + secret);
  EXPECT_TRUE(auth_->Authenticate(bearer).ok());
  http::Request basic;
  basic.headers.Set("Authorization", "Basic " + secret);
  EXPECT_EQ(auth_->Authenticate(basic).status().code(), Code::kUnauthenticated);
  clock_.Advance(1000);
  auto expired = auth_->Authenticate(x);
  EXPECT_EQ(expired.status().code(), Code::kUnauthenticated);
  EXPECT_NE(expired.status().message().find("expired"), std::string::npos);

  std::string other = AddKey(Role::kAdmin, std::nullopt);
  http::Request y;
  y.headers.Set("x-api-key", other);
  EXPECT_TRUE(auth_->Authenticate(y).ok());
  ASSERT_TRUE(store_->DeleteApiKey(key_id_).ok());
  EXPECT_EQ(auth_->Authenticate(y).status().code(), Code::kUnauthenticated);
}

TEST_F(AuthenticatorTest, NoCredentials) {
  http::Request r;
  EXPECT_EQ(auth_->Authenticate(r).status().code(), Code::kUnauthenticated);
}

TEST_F(AuthenticatorTest, CookieAttributes) {
  std::string c = auth_->SessionCookie("tok", clock_.NowMs() + 3'600'000);
  EXPECT_EQ(c, "bysans_session=tok; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600");
  AuthOptions o;
  o.secure_cookies = true;
  o.fast_password_hashing_for_tests = true;
  Authenticator secure(*store_, clock_, random_, o);
  EXPECT_NE(secure.SessionCookie("tok", clock_.NowMs() + 1000).find("; Secure"), std::string::npos);
  EXPECT_NE(secure.ClearedSessionCookie().find("Max-Age=0"), std::string::npos);
  EXPECT_NE(secure.ClearedSessionCookie().find("; Secure"), std::string::npos);
}

// A key acts with no more than its creator holds in its organisation now (auth/key_authority.h),
// up a chain of creating keys; nothing, once the creator holds no role there as a whole.
TEST_F(AuthenticatorTest, AnApiKeyActsWithNoMoreThanItsCreatorHoldsNow) {
  auto role_of = [&](const std::string& secret) -> std::optional<Role> {
    http::Request r;
    r.headers.Set("x-api-key", secret);
    auto p = auth_->Authenticate(r);
    if (!p.ok()) {
      EXPECT_EQ(p.status().code(), Code::kUnauthenticated);
      return std::nullopt;
    }
    return p->RoleIn(org_);
  };
  const std::string admin_key = AddKey(Role::kAdmin, std::nullopt, user_);  // user_ is an editor
  const Id parent = key_id_;
  const std::string child = AddKey(Role::kAdmin, std::nullopt, 0, parent);
  const std::string legacy = AddKey(Role::kAdmin, std::nullopt);  // no creator on record
  EXPECT_EQ(role_of(admin_key), Role::kEditor);
  EXPECT_EQ(role_of(child), Role::kEditor);
  EXPECT_EQ(role_of(legacy), Role::kAdmin);
  ASSERT_TRUE(store_->PutMembership({user_, org_, Role::kViewer}).ok());
  EXPECT_EQ(role_of(admin_key), Role::kViewer);
  EXPECT_EQ(role_of(child), Role::kViewer);
  Membership scoped{user_, org_, Role::kEditor};
  scoped.app_scoped = true;
  ASSERT_TRUE(store_->PutMembership(scoped).ok());
  EXPECT_EQ(role_of(admin_key), std::nullopt);
  ASSERT_TRUE(store_->DeleteMembership(user_, org_).ok());
  EXPECT_EQ(role_of(admin_key), std::nullopt);
  EXPECT_EQ(role_of(child), std::nullopt);
  User admin;
  admin.email = "global@example.dk";
  admin.password_hash = HashPassword("global-password", true);
  admin.global_admin = true;
  const Id global = store_->CreateUser(admin)->id;
  const std::string globals = AddKey(Role::kOperator, std::nullopt, global);
  EXPECT_EQ(role_of(globals), Role::kOperator);
  ASSERT_TRUE(store_->DeleteUser(global).ok());
  EXPECT_EQ(role_of(globals), std::nullopt);
  EXPECT_EQ(role_of(legacy), Role::kAdmin);
}

}  // namespace
}  // namespace bysans::auth
