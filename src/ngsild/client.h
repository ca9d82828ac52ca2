// The NGSI-LD upsert client of data targets: POST {url}/ngsi-ld/v1/entityOperations/upsert
// ?options=update with an array of entities, @context by Link header or in the body, optional
// NGSILD-Tenant, auth none / a static header / OAuth2 client credentials (tokens cached by
// TokenCache per owner and credentials: see NgsiLdTarget::owner). Every connection (the token
// endpoint's too) goes through the outbound-address policy (outbound.h). Thread-safe: one client
// serves every delivery worker; it keeps a few libcurl handles so connections are reused.
#pragma once

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/outbound_policy.h"
#include "core/status.h"
#include "ngsild/batch_result.h"
#include "ngsild/catalogue.h"
#include "ngsild/token_cache.h"

namespace bysans::ngsild {

enum class ContextMode { kLinkHeader, kInBody };
enum class AuthKind { kNone, kHeader, kOAuth2 };

struct OAuth2Settings {
  std::string token_url;
  std::string client_id;
  std::string client_secret;  // opened by the caller
  std::string scope;          // "" = none
  // Client id and secret as form fields instead of HTTP Basic (RFC 6749 2.3.1 allows both).
  bool credentials_in_body = false;
};

struct NgsiLdTarget {
  // Who the target belongs to ("org 3 target 17"). An OAuth2 token is cached under a keyed hash
  // of the owner, token URL, client id, scope, credential style and client secret, so it is only
  // ever reused by a request of the same owner made with the very same credentials: naming
  // another owner's token URL and client id gets no token of theirs.
  std::string owner;
  std::string url;     // the broker's base URL; a path prefix is kept ("https://h/orion")
  std::string tenant;  // NGSILD-Tenant, "" = none
  ContextMode context_mode = ContextMode::kLinkHeader;
  std::string context;  // the @context URL; "" = the entities' own
  AuthKind auth = AuthKind::kNone;
  std::string header_name = "Authorization";  // kHeader
  std::string header_value;                   // kHeader, opened by the caller
  OAuth2Settings oauth2;
  int64_t timeout_ms = 10'000;  // whole request; connecting takes at most 10 s of it
};

// Ok when the target can be used: http(s) URLs without blanks, a tenant of up to 64 letters,
// digits, '_', '-', '.', a header name and value that cannot inject lines, OAuth2 with a token
// URL and a client id. InvalidArgument naming the setting otherwise.
Status ValidateTarget(const NgsiLdTarget& target);

enum class Outcome {
  kDelivered,  // 200/201/204, or a 207 without errors
  kPartial,    // 207: some entities refused (entity_errors); retrying would not help
  kRetry,      // network, timeout, 5xx, 401 (after one renewal), 408, 429, token endpoint
  kPermanent,  // any other 4xx: the request itself is wrong
};
const char* OutcomeName(Outcome o);

struct DeliveryResult {
  Outcome outcome = Outcome::kRetry;
  long http_status = 0;  // 0 = no answer
  std::string error;     // for users; never an address ("could not connect to <host>")
  std::vector<std::string> succeeded;      // a 207's success ids
  std::vector<EntityError> entity_errors;  // a 207's errors
  // One line for the delivery log: "207: 2 ok, 1 failed: urn:...: BadRequestData: ...".
  std::string Summary() const;
};

class NgsiLdClient {
 public:
  NgsiLdClient(const Clock& clock, OutboundPolicy policy);
  ~NgsiLdClient();
  NgsiLdClient(const NgsiLdClient&) = delete;
  NgsiLdClient& operator=(const NgsiLdClient&) = delete;

  // Sends `entities` (an array, as BuildEntities makes). InvalidArgument for a target that
  // cannot be used as configured (no http(s) URL, a header that would inject lines, OAuth2
  // without token URL or client id, not an array): a permanent failure. Every other outcome,
  // failures included, is a DeliveryResult.
  Result<DeliveryResult> Upsert(const NgsiLdTarget& target, const nlohmann::json& entities);

 private:
  struct Response;
  Response Post(const std::string& url, const std::vector<std::string>& headers,
                const std::string& body, const std::string& userpwd, int64_t timeout_ms);
  Result<IssuedToken> FetchToken(const NgsiLdTarget& target, DeliveryResult* failure);
  // The TokenCache key of an OAuth2 target: HMAC-SHA-256 under token_key_ (random, this process
  // only) of its owner and every credential, the client secret included; hex.
  std::string TokenKey(const NgsiLdTarget& target) const;
  void* TakeHandle();
  void GiveBack(void* handle);

  OutboundPolicy policy_;
  unsigned char token_key_[32];
  TokenCache tokens_;
  std::mutex handles_mu_;
  std::vector<void*> handles_;  // idle CURL handles
};

}  // namespace bysans::ngsild
