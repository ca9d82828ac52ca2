#include "auth/auth.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "auth/key_authority.h"
#include "auth/login_throttle.h"

namespace bysans::auth {

std::optional<Role> Principal::RoleIn(Id org_id) const {
  if (global_admin) return Role::kAdmin;
  if (app_scope.contains(org_id)) return std::nullopt;
  return MemberRoleIn(org_id);
}

std::optional<Role> Principal::RoleInApp(Id org_id, Id app_id) const {
  if (const std::set<Id>* apps = ScopeIn(org_id); apps != nullptr && !apps->contains(app_id))
    return std::nullopt;
  return MemberRoleIn(org_id);
}

const std::set<Id>* Principal::ScopeIn(Id org_id) const {
  if (global_admin) return nullptr;
  auto it = app_scope.find(org_id);
  return it == app_scope.end() ? nullptr : &it->second;
}

std::optional<Role> Principal::MemberRoleIn(Id org_id) const {
  if (global_admin) return Role::kAdmin;
  auto it = roles.find(org_id);
  if (it == roles.end()) return std::nullopt;
  return it->second;
}

std::string HashPassword(const std::string& password, bool fast) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  char out[crypto_pwhash_STRBYTES];
  unsigned long long ops = fast ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE;
  size_t mem = fast ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE;
  if (crypto_pwhash_str(out, password.data(), password.size(), ops, mem) != 0)
    throw std::runtime_error("out of memory while hashing a password");
  return out;
}

bool VerifyPassword(const std::string& hash, const std::string& password) {
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return ToHex(md, len);
}

std::string ApiKeyFromRequest(const http::Request& req) {
  const std::string& key = req.headers.Get("x-api-key");
  if (!key.empty()) return key;
  const std::string& authz = req.headers.Get("authorization");
  constexpr std::string_view kBearer = "bearer ";
  if (authz.size() > kBearer.size()) {
    std::string scheme = authz.substr(0, kBearer.size());
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (scheme == kBearer) {
      std::string k = authz.substr(kBearer.size());
      while (!k.empty() && k.front() == ' ') k.erase(k.begin());
      return k;
    }
  }
  return {};
}

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

LoginThrottleOptions ThrottleOptions(const AuthOptions& o) {
  LoginThrottleOptions t;
  t.free_failures = o.login_free_failures;
  t.max_delay_ms = o.login_max_delay_ms;
  t.attempts_per_minute = o.login_attempts_per_minute;
  return t;
}

}  // namespace

struct Authenticator::Impl {
  Impl(MetaStore& s, const Clock& c, Random& r, AuthOptions o)
      : store(s), clock(c), random(r), options(o), throttle(ThrottleOptions(o)) {
    // Verifying against this when the email is unknown keeps both failure
    // paths equally slow, so response time does not reveal which emails exist.
    dummy_hash = auth::HashPassword(random.Token(16), options.fast_password_hashing_for_tests);
  }

  Result<Principal> FromApiKey(const std::string& secret) {
    auto key = store.FindApiKeyByHash(Sha256Hex(secret));
    if (!key.ok()) {
      if (key.status().code() == Code::kNotFound) return Unauthenticated("unknown API key");
      return key.status();
    }
    if (key->expires_ms && *key->expires_ms <= clock.NowMs())
      return Unauthenticated("the API key '" + key->prefix + "...' has expired");
    BYSANS_ASSIGN_OR_RETURN(std::optional<Role> role, KeyRole(store, *key));
    if (!role)
      return Unauthenticated("the API key '" + key->prefix +
                             "...' no longer works: whoever created it no longer holds a role in "
                             "its organisation; an admin there can create a new key");
    Principal p;
    p.api_key_id = key->id;
    p.roles[key->org_id] = *role;
    p.name = "apikey:" + key->prefix;
    p.expires_ms = key->expires_ms;
    return p;
  }

  Result<Principal> FromSession(const std::string& token) {
    std::string hash = Sha256Hex(token);
    auto s = store.FindSession(hash);
    if (!s.ok()) {
      if (s.status().code() == Code::kNotFound)
        return Unauthenticated("the session is unknown or has ended; log in again");
      return s.status();
    }
    if (s->expires_ms <= clock.NowMs()) {
      (void)store.DeleteSession(hash);
      return Unauthenticated("the session has expired; log in again");
    }
    auto user = store.GetUser(s->user_id);
    if (!user.ok()) {
      if (user.status().code() == Code::kNotFound)
        return Unauthenticated("the session's user no longer exists");
      return user.status();
    }
    return ForUser(*user);
  }

  Result<Principal> ForUser(const User& u) {
    Principal p;
    p.user_id = u.id;
    p.global_admin = u.global_admin;
    p.name = u.email;
    BYSANS_ASSIGN_OR_RETURN(auto ms, store.ListMembershipsOfUser(u.id));
    for (const auto& m : ms) {
      p.roles[m.org_id] = m.role;
      if (m.app_scoped) p.app_scope[m.org_id] = {m.app_ids.begin(), m.app_ids.end()};
    }
    return p;
  }

  MetaStore& store;
  const Clock& clock;
  Random& random;
  const AuthOptions options;
  LoginThrottle throttle;
  std::string dummy_hash;
  std::atomic<uint64_t> revocations{0};
};

Authenticator::Authenticator(MetaStore& store, const Clock& clock, Random& random,
                             AuthOptions options)
    : impl_(std::make_unique<Impl>(store, clock, random, options)) {}

Authenticator::~Authenticator() = default;

const AuthOptions& Authenticator::options() const { return impl_->options; }

std::string Authenticator::HashPassword(const std::string& password) const {
  return auth::HashPassword(password, impl_->options.fast_password_hashing_for_tests);
}

Result<Principal> Authenticator::Authenticate(const http::Request& req) {
  std::string key = ApiKeyFromRequest(req);
  if (!key.empty()) return impl_->FromApiKey(key);
  std::string token = req.Cookie(kSessionCookie);
  if (!token.empty()) return impl_->FromSession(token);
  return Unauthenticated(
      "authentication required: log in, or send an API key in X-API-Key or "
      "Authorization: Bearer");
}

Result<Authenticator::LoginResult> Authenticator::Login(const std::string& email,
                                                        const std::string& password,
                                                        const std::string& client_addr,
                                                        TimeMs* retry_after_ms) {
  const std::string lower = Lower(email);
  TimeMs now = impl_->clock.NowMs();
  if (TimeMs wait = impl_->throttle.Admit(lower, client_addr, now); wait > 0) {
    if (retry_after_ms) *retry_after_ms = wait;
    return Status(Code::kRateLimited, "too many login attempts; try again in " +
                                          std::to_string((wait + 999) / 1000) + " s");
  }

  static constexpr const char* kBad = "wrong email or password";
  auto user = impl_->store.FindUserByEmail(lower);
  if (!user.ok()) {
    if (user.status().code() != Code::kNotFound) return user.status();
    (void)VerifyPassword(impl_->dummy_hash, password);
    impl_->throttle.Failed(lower, client_addr, now);
    return Unauthenticated(kBad);
  }
  if (!VerifyPassword(user->password_hash, password)) {
    impl_->throttle.Failed(lower, client_addr, now);
    return Unauthenticated(kBad);
  }
  impl_->throttle.Succeeded(lower, client_addr, now);

  (void)impl_->store.DeleteExpiredSessions(now);
  LoginResult r;
  r.session_token = impl_->random.Token(32);
  r.expires_ms = now + impl_->options.session_ttl_ms;
  Session s;
  s.token_hash = Sha256Hex(r.session_token);
  s.user_id = user->id;
  s.created_ms = now;
  s.expires_ms = r.expires_ms;
  BYSANS_RETURN_IF_ERROR(impl_->store.CreateSession(s));
  r.user = std::move(user).value();
  return r;
}

Status Authenticator::Logout(const std::string& session_token) {
  if (session_token.empty()) return Status::Ok();
  Status st = impl_->store.DeleteSession(Sha256Hex(session_token));
  NoteRevocation();
  if (!st.ok() && st.code() != Code::kNotFound) return st;
  return Status::Ok();
}

Status Authenticator::EndOtherSessions(Id user_id, const std::string& keep_token) {
  Status st = impl_->store.DeleteSessionsOfUser(user_id, Sha256Hex(keep_token));
  NoteRevocation();
  return st;
}

uint64_t Authenticator::revocations() const { return impl_->revocations.load(); }

void Authenticator::NoteRevocation() { impl_->revocations.fetch_add(1); }

std::string Authenticator::ClientAddress(const http::Request& req) const {
  const TrustedProxies& proxies = impl_->options.trusted_proxies;
  if (proxies.empty()) return req.remote_addr;
  std::string forwarded;  // every X-Forwarded-For header, in order
  for (const auto& [name, value] : req.headers.all())
    if (name == "x-forwarded-for") forwarded += (forwarded.empty() ? "" : ",") + value;
  return proxies.ClientAddress(req.remote_addr, forwarded);
}

Authenticator::NewSecret Authenticator::NewApiKeySecret() {
  NewSecret s;
  s.secret = "bys_" + impl_->random.Token(32);
  s.hash = Sha256Hex(s.secret);
  s.prefix = s.secret.substr(0, 10);
  return s;
}

std::string Authenticator::SessionCookie(const std::string& token, TimeMs expires_ms) const {
  TimeMs max_age = std::max<TimeMs>(0, (expires_ms - impl_->clock.NowMs()) / 1000);
  std::string c = std::string(kSessionCookie) + "=" + token +
                  "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age);
  if (impl_->options.secure_cookies) c += "; Secure";
  return c;
}

std::string Authenticator::ClearedSessionCookie() const {
  std::string c = std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
  if (impl_->options.secure_cookies) c += "; Secure";
  return c;
}

namespace {
Status RequireRole(std::optional<Role> role, Role min) {
  if (!role) return NotFound("not found");
  if (static_cast<int>(*role) < static_cast<int>(min))
    return PermissionDenied(std::string("this needs the role '") + RoleName(min) +
                            "' in the organisation; you have '" + RoleName(*role) + "'");
  return Status::Ok();
}
}  // namespace

Status Require(const Principal& p, Id org_id, Role min) {
  return RequireRole(p.RoleIn(org_id), min);
}

Status RequireInApp(const Principal& p, Id org_id, Id app_id, Role min) {
  return RequireRole(p.RoleInApp(org_id, app_id), min);
}

Status RequireGlobalAdmin(const Principal& p) {
  if (!p.global_admin) return PermissionDenied("only a global administrator may do this");
  return Status::Ok();
}

}  // namespace bysans::auth
