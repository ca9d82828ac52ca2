// Authentication and authorisation. Who is calling (a user with a session
// cookie, or an API key), and may they do this to that organisation?
// Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "auth/trusted_proxies.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/status.h"
#include "http/message.h"
#include "model/model.h"
#include "store/store.h"

namespace bysans::auth {

// The caller of a request, resolved from credentials.
struct Principal {
  std::optional<Id> user_id;     // set for session logins
  std::optional<Id> api_key_id;  // set for API keys
  bool global_admin = false;
  std::map<Id, Role> roles;  // organisation → role; an API key has exactly one
  // Access per application: organisation → the applications a member restricted to some of them
  // may reach (model Membership::app_scoped). Such a member has no role in the organisation as a
  // whole — RoleIn answers nullopt, so every organisation-wide route stays closed to them unless
  // it asks RoleInApp or ScopeIn on purpose (fail closed).
  std::map<Id, std::set<Id>> app_scope;
  std::string name;                  // email, or "apikey:<prefix>" — for audit and logs
  std::string remote_addr;           // the client's address (set by the API layer, for audit)
  std::optional<TimeMs> expires_ms;  // an API key's expiry, if it has one

  // The caller's role in the organisation, or nullopt if none. A global
  // admin is admin everywhere.
  std::optional<Role> RoleIn(Id org_id) const;
  // The caller's role on application `app_id` of the organisation: their role in the
  // organisation, or, when restricted, their role if `app_id` is one of theirs.
  std::optional<Role> RoleInApp(Id org_id, Id app_id) const;
  // The applications the caller is restricted to in the organisation, or nullptr when their role
  // (if any) covers the whole organisation.
  const std::set<Id>* ScopeIn(Id org_id) const;
  // The caller's role in the organisation whether restricted or not: only for listings that
  // filter by ScopeIn.
  std::optional<Role> MemberRoleIn(Id org_id) const;
};

struct AuthOptions {
  TimeMs session_ttl_ms = 12 * 3'600'000;
  int login_attempts_per_minute = 10;  // per client address
  // Per account: wrong passwords before each further attempt must wait 2, 4, 8, ... s, and the
  // longest wait (auth/login_throttle.h).
  int login_free_failures = 5;
  TimeMs login_max_delay_ms = 15 * 60'000;
  // Peers whose X-Forwarded-For names the client (http.trusted_proxies).
  TrustedProxies trusted_proxies;
  // How long a long-lived request (a stream) may go on before its credentials are checked
  // again; revocations made through this Authenticator are noticed at once.
  TimeMs recheck_ms = 30'000;
  bool secure_cookies = false;  // set under TLS
  // Use libsodium's MIN argon2id limits instead of INTERACTIVE. Only for
  // tests: hashes stay valid either way (the limits are inside the string).
  bool fast_password_hashing_for_tests = false;
};

inline constexpr const char* kSessionCookie = "bysans_session";

// argon2id (libsodium crypto_pwhash_str, interactive limits; MIN limits when
// `fast` is set, for tests).
std::string HashPassword(const std::string& password, bool fast = false);
bool VerifyPassword(const std::string& hash, const std::string& password);
// Hex SHA-256; how sessions, API keys and ingest keys are stored.
std::string Sha256Hex(std::string_view data);

class Authenticator {
 public:
  Authenticator(MetaStore& store, const Clock& clock, Random& random, AuthOptions options);
  ~Authenticator();

  // Resolves the caller from `X-API-Key: KEY`, `Authorization: Bearer KEY`
  // or the session cookie. kUnauthenticated when there are no credentials, or
  // they are unknown or expired.
  Result<Principal> Authenticate(const http::Request& req);

  struct LoginResult {
    std::string session_token;  // the cookie value (only its hash is stored)
    User user;
    TimeMs expires_ms;
  };
  // Checks the password; kRateLimited while the account or the client address
  // is throttled (auth/login_throttle.h; `retry_after_ms`, if given, is set to
  // the wait); kUnauthenticated for a wrong email or password (same message
  // for both). `client_addr` is ClientAddress(request).
  Result<LoginResult> Login(const std::string& email, const std::string& password,
                            const std::string& client_addr, TimeMs* retry_after_ms = nullptr);
  Status Logout(const std::string& session_token);
  // Ends every session of the user except the one with `keep_token` (a
  // password change ends the others).
  Status EndOtherSessions(Id user_id, const std::string& keep_token);

  // Bumped by Logout, EndOtherSessions and NoteRevocation (API key revoked,
  // membership changed or removed, user or organisation deleted). Long-lived
  // requests re-check their caller when it changes.
  uint64_t revocations() const;
  void NoteRevocation();

  // The client's address: the TCP peer, or, from a trusted proxy, the
  // right-most untrusted X-Forwarded-For address. For rate limits and audit.
  std::string ClientAddress(const http::Request& req) const;

  // HashPassword with the limits chosen in the options.
  std::string HashPassword(const std::string& password) const;
  const AuthOptions& options() const;

  // A new API key secret: "bys_" + random; returns {secret, hash, prefix}.
  struct NewSecret {
    std::string secret, hash, prefix;
  };
  NewSecret NewApiKeySecret();

  // Set-Cookie header values for a login and for a logout.
  std::string SessionCookie(const std::string& token, TimeMs expires_ms) const;
  std::string ClearedSessionCookie() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Ok if the principal has at least `min` in the organisation. A caller with
// no role at all there gets kNotFound (the object's existence is not
// revealed); a caller with a lower role gets kPermissionDenied.
Status Require(const Principal& p, Id org_id, Role min);
// The same for an object of application `app_id` (a member restricted to some applications
// passes for theirs).
Status RequireInApp(const Principal& p, Id org_id, Id app_id, Role min);
// Ok only for global admins (kPermissionDenied otherwise).
Status RequireGlobalAdmin(const Principal& p);

// The API key a request carries (`X-API-Key` or `Authorization: Bearer`), or
// "" when it carries none.
std::string ApiKeyFromRequest(const http::Request& req);

}  // namespace bysans::auth
