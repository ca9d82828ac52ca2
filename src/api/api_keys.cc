// API keys of an organisation (org admins). The secret is shown once, at
// creation; only its SHA-256 is stored. A key created with an API key never
// out-ranks it (role at most the creator's), never outlives it (expiry at most
// the creator's; the creator's when none is asked for), and is revoked with it
// (the store deletes keys with their creator key, recursively).
// Rotating a key gives it a new secret (shown once) and refuses the old one at once; an API key
// rotates only keys it could have created (OutranksCaller, OutlivesCaller), since whoever rotates
// a key holds its new secret.
// A key created with "mqtt": true is also a user of the supervised MQTT broker for SensorThings
// over MQTT (server/sta_mqtt.h): its Mosquitto hash is stored beside its SHA-256, and the answer
// comes once the broker accepts it; revoking it removes the broker user the same way.
#include <spdlog/spdlog.h>

#include "api/common.h"
#include "api/objects.h"
#include "core/time_format.h"
#include "mqtt/broker.h"
#include "sta/mqtt_topics.h"
#include "store/mqtt_store.h"

namespace bysans::api {
namespace {

// Bumps the broker credentials and waits (bounded) until the supervised broker has taken them
// up, so that a created key connects and a revoked one no longer does once the API answers.
void ReloadBrokerUsers(ApiContext& ctx, Id key) {
  constexpr int kBrokerReloadWaitMs = 10000;
  int64_t gen = ctx.store.mqtt().BumpCredentialsGeneration();
  if (!ctx.store.mqtt().WaitCredentialsApplied(gen, kBrokerReloadWaitMs))
    spdlog::warn("API key {}: the MQTT broker has not taken up its users yet", key);
}

// Whether a key with `role` in organisation `org` would out-rank the caller `p` (callers of these
// routes are admins there, so only in principle: a role above admin).
bool OutranksCaller(const auth::Principal& p, Id org, Role role) {
  std::optional<Role> mine = p.RoleIn(org);
  return !mine || static_cast<int>(role) > static_cast<int>(*mine);
}

// Whether a key expiring at `expires_ms` (nullopt: never) would outlive the caller `p`: only a
// time-limited API key has an expiry (sessions and keys without one are bounded by role only).
bool OutlivesCaller(const auth::Principal& p, std::optional<TimeMs> expires_ms) {
  return p.expires_ms && (!expires_ms || *expires_ms > *p.expires_ms);
}

Result<http::Response> Create(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org, Role::kAdmin));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"name", "role", "expiresAt", "mqtt"}));
  ApiKey k;
  BYSANS_ASSIGN_OR_RETURN(k.name, RequiredString(body, "name"));
  BYSANS_ASSIGN_OR_RETURN(k.role, RoleField(body));
  TimeMs now = ctx.clock.NowMs();
  BYSANS_ASSIGN_OR_RETURN(auto expires, OptString(body, "expiresAt"));
  if (expires) {
    auto t = ParseTime(*expires);
    if (!t) return InvalidArgument("field 'expiresAt' is not an RFC 3339 time: " + *expires);
    if (*t <= now) return InvalidArgument("field 'expiresAt' must be in the future");
    k.expires_ms = *t;
  }
  // Never out-rank or outlive the caller; a time-limited key's expiry is the default.
  if (OutranksCaller(p, o.id, k.role))
    return PermissionDenied("a key cannot have a higher role than its creator");
  if (p.expires_ms && !k.expires_ms) k.expires_ms = p.expires_ms;
  if (OutlivesCaller(p, k.expires_ms))
    return InvalidArgument("field 'expiresAt' must not be later than the creating key's expiry " +
                           FormatRfc3339(*p.expires_ms));
  k.created_by_key = p.api_key_id;
  auth::Authenticator::NewSecret secret = ctx.auth.NewApiKeySecret();
  k.org_id = o.id;
  k.prefix = secret.prefix;
  k.secret_hash = secret.hash;
  k.created_by = p.user_id.value_or(0);
  k.created_ms = now;
  BYSANS_ASSIGN_OR_RETURN(std::optional<bool> mqtt, OptBool(body, "mqtt"));
  if (mqtt.value_or(false)) {
    // Its ACL names every Thing and Datastream of the organisation: bounded (sta/mqtt_topics.h).
    BYSANS_ASSIGN_OR_RETURN(sta::MqttAclScope scope, sta::LoadMqttAclScope(ctx.store, o.id));
    size_t topics = sta::MqttKeyAclTopicCount(scope, k.role >= Role::kEditor);
    if (topics > sta::kMaxMqttKeyAclTopics) {
      return FailedPrecondition(
          "field 'mqtt': the organisation has " + std::to_string(topics) +
          " SensorThings MQTT topics for this role, more than the broker's limit of " +
          std::to_string(sta::kMaxMqttKeyAclTopics) + " per key");
    }
    BYSANS_ASSIGN_OR_RETURN(k.mqtt_hash, mqtt::HashBrokerPassword(secret.secret, ctx.random));
  }
  BYSANS_ASSIGN_OR_RETURN(k, ctx.store.CreateApiKey(k));
  Audit(ctx, p, req, k.org_id, "create", "api_key", std::to_string(k.id),
        k.name + " (" + RoleName(k.role) + (k.mqtt_hash.empty() ? ")" : ", mqtt)"));
  if (!k.mqtt_hash.empty()) ReloadBrokerUsers(ctx, k.id);
  json out = ToJson(k);
  out["key"] = secret.secret;
  return Json(201, out);
}

Result<http::Response> List(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org, Role::kAdmin));
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  BYSANS_ASSIGN_OR_RETURN(auto keys, ctx.store.ListApiKeys(o.id, page));
  return PagedJson(ToJsonArray(keys.items), keys.total, page);
}

// The key `id`, for an admin of its organisation; kNotFound (as for no such key) for a caller
// outside it, kPermissionDenied for a lower role.
Result<ApiKey> LoadKeyAsAdmin(ApiContext& ctx, const auth::Principal& p, Id id) {
  auto k = ctx.store.GetApiKey(id);
  Status st = k.ok() ? auth::Require(p, k->org_id, Role::kAdmin) : k.status();
  if (st.code() == Code::kNotFound) return NotFound("no API key with id " + std::to_string(id));
  BYSANS_RETURN_IF_ERROR(st);
  return *k;
}

Result<http::Response> Delete(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(ApiKey k, LoadKeyAsAdmin(ctx, p, id));
  BYSANS_RETURN_IF_ERROR(ctx.store.DeleteApiKey(id));  // and the keys it created
  ctx.auth.NoteRevocation();
  // It or a key it created may be a broker user (cheap when none is: no user lines change).
  ReloadBrokerUsers(ctx, id);
  Audit(ctx, p, req, k.org_id, "delete", "api_key", std::to_string(id), k.name);
  return NoContent();
}

// A new secret for a key (its name, role, expiry and the keys it created stay): the old secret
// is refused from the answer on, the new one is answered once (only its hashes are stored). Only
// an admin of the key's organisation, and never the key itself (a leaked key cannot renew itself).
// The caller learns the new secret, so an API key rotates only a key it could have created: none
// of a higher role, and, when it expires, none that expires later or never (else a short-lived
// admin key would take over a never-expiring one, and lock its owner out).
Result<http::Response> Rotate(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(ApiKey k, LoadKeyAsAdmin(ctx, p, id));
  if (p.api_key_id == id)
    return PermissionDenied("an API key cannot rotate itself; ask an admin of the organisation");
  if (OutranksCaller(p, k.org_id, k.role))
    return PermissionDenied(
        "an API key cannot rotate a key with a higher role than its own; ask an admin of the "
        "organisation");
  if (OutlivesCaller(p, k.expires_ms))
    return PermissionDenied("an API key cannot rotate a key that expires later than it does (" +
                            FormatRfc3339(*p.expires_ms) +
                            ") or never; ask an admin of the organisation");
  auth::Authenticator::NewSecret secret = ctx.auth.NewApiKeySecret();
  k.prefix = secret.prefix;
  k.secret_hash = secret.hash;
  if (!k.mqtt_hash.empty()) {
    BYSANS_ASSIGN_OR_RETURN(k.mqtt_hash, mqtt::HashBrokerPassword(secret.secret, ctx.random));
  }
  BYSANS_RETURN_IF_ERROR(ctx.store.SetApiKeySecret(id, k.prefix, k.secret_hash, k.mqtt_hash));
  ctx.auth.NoteRevocation();  // streams opened with the old secret end
  if (!k.mqtt_hash.empty()) ReloadBrokerUsers(ctx, id);
  Audit(ctx, p, req, k.org_id, "rotate_key", "api_key", std::to_string(id), k.name);
  json out = ToJson(k);
  out["key"] = secret.secret;
  return Json(200, out);
}

}  // namespace

void RegisterApiKeyRoutes(http::Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  const std::string list = "/api/v1/organizations/{orgId}/api-keys";
  AddAuthed(router, ctx, "POST", list, "Create an API key (secret shown once)", bind(Create));
  AddAuthed(router, ctx, "GET", list, "API keys of an organisation (no secrets)", bind(List));
  AddAuthed(router, ctx, "DELETE", "/api/v1/api-keys/{id}",
            "Revoke an API key and the keys it created", bind(Delete));
  AddAuthed(router, ctx, "POST", "/api/v1/api-keys/{id}/rotate",
            "A new secret for an API key (shown once; the old one stops working)", bind(Rotate));
}

}  // namespace bysans::api
