#include "ngsild/client.h"

#include <curl/curl.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "core/encoding.h"
#include "core/random.h"
#include "ngsild/outbound.h"

namespace bysans::ngsild {
namespace {

using nlohmann::json;

constexpr size_t kMaxResponse = 1 << 20;  // more of a response body is not kept
constexpr size_t kIdleHandles = 8;
constexpr const char* kUpsertPath = "/ngsi-ld/v1/entityOperations/upsert?options=update";

size_t Collect(char* data, size_t size, size_t n, void* user) {
  auto* body = static_cast<std::string*>(user);
  const size_t len = size * n;
  if (body->size() < kMaxResponse) body->append(data, std::min(len, kMaxResponse - body->size()));
  return len;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool IsHttpUrl(const std::string& url) {
  return (StartsWith(url, "http://") && url.size() > 7) ||
         (StartsWith(url, "https://") && url.size() > 8);
}

// host[:port] of a URL, without credentials: what users see in "could not connect to".
std::string HostOf(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  std::string authority = url.substr(start, url.find_first_of("/?#", start) - start);
  size_t at = authority.rfind('@');
  return at == std::string::npos ? authority : authority.substr(at + 1);
}

bool HasLineBreak(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool IsHeaderName(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// application/x-www-form-urlencoded (RFC 6749 appendix B), also for HTTP Basic credentials.
std::string FormEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// The one context URL of a Link header: the target's, else the entities' common one (the
// core context is implied), else the Smart Data Models context covering every model.
std::string LinkContext(const NgsiLdTarget& t, const json& entities) {
  if (!t.context.empty()) return t.context;
  std::set<std::string> seen;
  for (const auto& e : entities) {
    if (!e.is_object() || !e.contains("@context")) continue;
    const json& c = e["@context"];
    for (const auto& url : c.is_array() ? c : json::array({c})) {
      if (url.is_string() &&
          url.get<std::string>().find("ngsi-ld-core-context") == std::string::npos) {
        seen.insert(url.get<std::string>());
      }
    }
  }
  return seen.size() == 1 ? *seen.begin() : kSmartDataModelsContext;
}

DeliveryResult Classify(long status, const std::string& body) {
  DeliveryResult r;
  r.http_status = status;
  if (status == 207) {
    auto batch = ParseBatchResult(body);
    if (!batch.ok()) {
      r.outcome = Outcome::kPartial;
      r.error = "HTTP 207 without a BatchOperationResult";
      return r;
    }
    r.succeeded = std::move(batch->success);
    r.entity_errors = std::move(batch->errors);
    r.outcome = r.entity_errors.empty() ? Outcome::kDelivered : Outcome::kPartial;
    if (!r.entity_errors.empty()) {
      r.error = std::to_string(r.entity_errors.size()) + " entities refused";
    }
    return r;
  }
  if (status >= 200 && status < 300) {
    r.outcome = Outcome::kDelivered;
    return r;
  }
  const bool retry =
      status >= 500 || status == 401 || status == 408 || status == 429 || status < 400;
  r.outcome = retry ? Outcome::kRetry : Outcome::kPermanent;
  std::string problem = ProblemSummary(body);
  r.error = "HTTP " + std::to_string(status) + (problem.empty() ? "" : ": " + problem);
  return r;
}

}  // namespace

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kDelivered:
      return "delivered";
    case Outcome::kPartial:
      return "partial";
    case Outcome::kRetry:
      return "retry";
    case Outcome::kPermanent:
      return "permanent";
  }
  return "?";
}

Status ValidateTarget(const NgsiLdTarget& t) {
  auto url_ok = [](const std::string& u) {
    return IsHttpUrl(u) && std::none_of(u.begin(), u.end(), [](char c) {
             return static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == '"';
           });
  };
  if (!url_ok(t.url)) return InvalidArgument("NGSI-LD target: url must be an http(s) URL");
  if (!t.context.empty() && !url_ok(t.context)) {
    return InvalidArgument("NGSI-LD target: context must be an http(s) URL");
  }
  if (t.tenant.size() > 64 || !std::all_of(t.tenant.begin(), t.tenant.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      })) {
    return InvalidArgument("NGSI-LD target: tenant is up to 64 letters, digits, '_', '-', '.'");
  }
  if (t.auth == AuthKind::kHeader &&
      (!IsHeaderName(t.header_name) || HasLineBreak(t.header_value))) {
    return InvalidArgument("NGSI-LD target: invalid auth header");
  }
  if (t.auth == AuthKind::kOAuth2 && (!url_ok(t.oauth2.token_url) || t.oauth2.client_id.empty())) {
    return InvalidArgument("NGSI-LD target: OAuth2 needs an http(s) token URL and a client id");
  }
  return Status::Ok();
}

std::string DeliveryResult::Summary() const {
  std::string s = http_status ? "HTTP " + std::to_string(http_status) : std::string("no answer");
  if (outcome == Outcome::kDelivered) return s + ": delivered";
  if (outcome != Outcome::kPartial || entity_errors.empty()) {
    return error.empty() ? s
                         : (http_status && StartsWith(error, "HTTP") ? error : s + ": " + error);
  }
  s += ": " + std::to_string(succeeded.size()) + " ok, " + std::to_string(entity_errors.size()) +
       " failed";
  constexpr size_t kShown = 5;
  for (size_t i = 0; i < entity_errors.size() && i < kShown; ++i) {
    const EntityError& e = entity_errors[i];
    std::string type =
        e.type.substr(e.type.rfind('/') == std::string::npos ? 0 : e.type.rfind('/') + 1);
    s += (i ? "; " : " — ") + e.entity_id + ": " + type;
    if (!e.title.empty()) s += ": " + e.title;
    if (!e.detail.empty()) s += " (" + e.detail + ")";
  }
  if (entity_errors.size() > kShown) {
    s += "; and " + std::to_string(entity_errors.size() - kShown) + " more";
  }
  return s;
}

struct NgsiLdClient::Response {
  CURLcode rc = CURLE_OK;
  long status = 0;
  std::string body;
  std::string error;  // for users, when rc != CURLE_OK
};

NgsiLdClient::NgsiLdClient(const Clock& clock, OutboundPolicy policy)
    : policy_(std::move(policy)), tokens_(clock) {
  SystemRandom().Fill(token_key_, sizeof token_key_);  // initialises libsodium, too
}

NgsiLdClient::~NgsiLdClient() {
  for (void* h : handles_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* NgsiLdClient::TakeHandle() {
  {
    std::lock_guard lk(handles_mu_);
    if (!handles_.empty()) {
      void* h = handles_.back();
      handles_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void NgsiLdClient::GiveBack(void* handle) {
  if (!handle) return;
  std::lock_guard lk(handles_mu_);
  if (handles_.size() < kIdleHandles) {
    handles_.push_back(handle);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

NgsiLdClient::Response NgsiLdClient::Post(const std::string& url,
                                          const std::vector<std::string>& headers,
                                          const std::string& body, const std::string& userpwd,
                                          int64_t timeout_ms) {
  Response resp;
  auto* c = static_cast<CURL*>(TakeHandle());
  if (!c) {
    resp.rc = CURLE_FAILED_INIT;
    resp.error = "internal error";
    return resp;
  }
  curl_easy_reset(c);  // keeps the connection cache: keep-alive to the same broker
  OutboundGate gate{&policy_, {}};
  GuardConnections(c, &gate);
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  if (!userpwd.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd.c_str());
  }
  const int64_t timeout = std::max<int64_t>(timeout_ms, 100);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<int64_t>(timeout, 10'000)));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp.body);
  resp.rc = curl_easy_perform(c);
  if (resp.rc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
  } else {
    std::string detail = curl_easy_strerror(resp.rc);
    if (!gate.refused.empty()) detail += " (" + gate.refused + ")";
    spdlog::warn("ngsild: POST {}: {}", HostOf(url), detail);
    resp.error = IsConnectError(resp.rc) || !gate.refused.empty()
                     ? CouldNotConnectMessage(HostOf(url))
                     : curl_easy_strerror(resp.rc);
  }
  curl_slist_free_all(list);
  GiveBack(c);
  return resp;
}

std::string NgsiLdClient::TokenKey(const NgsiLdTarget& t) const {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, token_key_, sizeof token_key_);
  // Each field with its length first: no two different settings hash the same bytes.
  auto add = [&](std::string_view field) {
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(field.size() >> (8 * i));
    crypto_auth_hmacsha256_update(&st, len, sizeof len);
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(field.data()),
                                  field.size());
  };
  const OAuth2Settings& o = t.oauth2;
  for (std::string_view field :
       {std::string_view(t.owner), std::string_view(o.token_url), std::string_view(o.client_id),
        std::string_view(o.scope), std::string_view(o.credentials_in_body ? "body" : "basic"),
        std::string_view(o.client_secret)}) {
    add(field);
  }
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&st, mac);
  sodium_memzero(&st, sizeof st);
  return ToHex(mac, sizeof mac);
}

Result<IssuedToken> NgsiLdClient::FetchToken(const NgsiLdTarget& t, DeliveryResult* failure) {
  const OAuth2Settings& o = t.oauth2;
  std::string form = "grant_type=client_credentials";
  if (!o.scope.empty()) form += "&scope=" + FormEncode(o.scope);
  std::vector<std::string> headers = {"Content-Type: application/x-www-form-urlencoded",
                                      "Accept: application/json", "Expect:", "User-Agent: bysans"};
  if (o.credentials_in_body) {
    form +=
        "&client_id=" + FormEncode(o.client_id) + "&client_secret=" + FormEncode(o.client_secret);
  } else {
    headers.push_back("Authorization: Basic " +
                      EncodeBase64(FormEncode(o.client_id) + ":" + FormEncode(o.client_secret)));
  }
  Response r = Post(o.token_url, headers, form, "", t.timeout_ms);
  failure->outcome = Outcome::kRetry;
  failure->http_status = 0;
  if (r.rc != CURLE_OK) {
    failure->error = "OAuth2 token: " + r.error;
    return Unavailable(failure->error);
  }
  json doc = json::parse(r.body, nullptr, false);
  if (r.status < 200 || r.status >= 300 || !doc.is_object() || !doc.contains("access_token") ||
      !doc["access_token"].is_string() || doc["access_token"].get<std::string>().empty()) {
    std::string why = doc.is_object() ? doc.value("error", "") : "";
    failure->error = "OAuth2 token request refused (HTTP " + std::to_string(r.status) + ")" +
                     (why.empty() ? "" : ": " + why.substr(0, 200));
    return Unavailable(failure->error);
  }
  IssuedToken token{doc["access_token"].get<std::string>(), 0};
  if (HasLineBreak(token.access_token)) {
    failure->error = "OAuth2 token: invalid access_token";
    return Unavailable(failure->error);
  }
  if (doc.contains("expires_in") && doc["expires_in"].is_number()) {
    token.expires_in_s = doc["expires_in"].get<int64_t>();
  } else if (doc.contains("expires_in") && doc["expires_in"].is_string()) {
    token.expires_in_s = std::atoll(doc["expires_in"].get<std::string>().c_str());
  }
  return token;
}

Result<DeliveryResult> NgsiLdClient::Upsert(const NgsiLdTarget& t, const json& entities) {
  if (Status s = ValidateTarget(t); !s.ok()) return s;
  if (!entities.is_array()) return InvalidArgument("NGSI-LD upsert: entities must be an array");
  DeliveryResult done;
  if (entities.empty()) {
    done.outcome = Outcome::kDelivered;
    return done;
  }
  json body = entities;
  std::vector<std::string> headers = {"Accept: application/json", "Expect:", "User-Agent: bysans"};
  if (t.context_mode == ContextMode::kLinkHeader) {
    headers.emplace_back("Content-Type: application/json");
    headers.push_back("Link: <" + LinkContext(t, entities) +
                      ">; rel=\"http://www.w3.org/ns/json-ld#context\"; "
                      "type=\"application/ld+json\"");
    for (auto& e : body)
      if (e.is_object()) e.erase("@context");
  } else {
    headers.emplace_back("Content-Type: application/ld+json");
    for (auto& e : body) {
      if (!e.is_object()) continue;
      if (!t.context.empty()) {
        e["@context"] = json::array({t.context, kCoreContext});
      } else if (!e.contains("@context")) {
        e["@context"] = json::array({kSmartDataModelsContext, kCoreContext});
      }
    }
  }
  if (!t.tenant.empty()) headers.push_back("NGSILD-Tenant: " + t.tenant);
  if (t.auth == AuthKind::kHeader) headers.push_back(t.header_name + ": " + t.header_value);
  const std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  const std::string url =
      (t.url.back() == '/' ? t.url.substr(0, t.url.size() - 1) : t.url) + kUpsertPath;
  // Never reused across owners or credentials: a token is only handed to a request that would
  // have been given it by the token endpoint itself.
  const std::string token_key = t.auth == AuthKind::kOAuth2 ? TokenKey(t) : std::string();
  for (int attempt = 0;; ++attempt) {
    std::vector<std::string> h = headers;
    std::string token;
    if (t.auth == AuthKind::kOAuth2) {
      DeliveryResult failure;
      auto got = tokens_.Get(token_key, [&] { return FetchToken(t, &failure); });
      if (!got.ok()) {
        if (failure.error.empty()) failure.error = got.status().message();
        return failure;
      }
      token = std::move(got).value();
      h.push_back("Authorization: Bearer " + token);
    }
    Response r = Post(url, h, text, "", t.timeout_ms);
    if (r.rc != CURLE_OK) {
      DeliveryResult failed;
      failed.outcome = Outcome::kRetry;
      failed.error = r.error;
      return failed;
    }
    if (r.status == 401 && t.auth == AuthKind::kOAuth2 && attempt == 0) {
      tokens_.Invalidate(token_key, token);  // expired or revoked early: one renewal
      continue;
    }
    return Classify(r.status, r.body);
  }
}

}  // namespace bysans::ngsild
