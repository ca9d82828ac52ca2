// MQTT integrations and LoRaWAN onboarding views:
// - per-organisation ChirpStack v4 integrations (a third-party broker bysans subscribes to;
//   uplinks reach only that organisation's devices) and per-application external brokers
//   ("OS2iot MQTT external broker"): CRUD; viewers read, admins write; the password is
//   write-only (`hasPassword`), kept encrypted by the store; `caCert` (PEM CA certificates
//   trusted for an mqtts:// broker instead of the system's CAs) is public and returned;
//   mutual TLS: `clientCert` (PEM, public) with its `clientKey` (write-only, `hasClientKey`,
//   kept encrypted like the password);
//   a url change to another scheme, host or port needs the stored password and client key
//   again (or null to drop them): a stored secret never follows the url to another broker;
//   `status`/`lastError` come from the running connection (mqtt/integrations.h; the broker is
//   reached only where the outbound-address policy admits it);
// - gateways seen per organisation; uplinks from DevEUIs unknown to an organisation's
//   integrations, and (global admin) those that arrived on bysans' own broker, which is not
//   tied to an organisation.
#include <algorithm>
#include <cctype>
#include <tuple>
#include <vector>

#include "api/common.h"
#include "api/org_limits.h"
#include "core/time_format.h"
#include "mqtt/tls_ca.h"
#include "mqtt/tls_client_cert.h"
#include "mqtt/url.h"
#include "store/mqtt_store.h"

namespace bysans::api {
namespace {

constexpr const char* kChirpstack = "chirpstack";
constexpr const char* kExternal = "mqtt";

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const char* KindName(const std::string& kind) {
  return kind == kChirpstack ? "ChirpStack integration" : "MQTT broker integration";
}

json IntegrationJson(ApiContext& ctx, const MqttIntegration& i) {
  IntegrationState st = ctx.store.mqtt().integration_state(i.id);
  json j = {{"id", i.id},
            {"orgId", i.org_id},
            {"name", i.name},
            {"url", i.url},
            {"username", i.username},
            {"hasPassword", i.has_password},
            {"clientId", i.client_id},
            {"enabled", i.enabled},
            {"caCert", i.ca_cert},
            {"clientCert", i.client_cert},
            {"hasClientKey", i.has_client_key},
            {"status", st.status},
            {"lastError", st.last_error},
            {"createdAt", FormatRfc3339(i.created_ms)},
            {"updatedAt", FormatRfc3339(i.updated_ms)}};
  if (st.since_ms > 0) j["statusSince"] = FormatRfc3339(st.since_ms);
  if (i.kind == kExternal) {
    j["applicationId"] = i.app_id;
    j["topicFilter"] = i.topic_filter;
    j["deviceTopicLevel"] = i.device_topic_level;
    j["deviceMatch"] = i.device_match;
  }
  return j;
}

// The integration named in the path, of `kind`, if the caller has at least `min` in its
// organisation (kNotFound otherwise, as for every object of another organisation).
Result<MqttIntegration> LoadIntegration(ApiContext& ctx, const http::Request& req,
                                        const auth::Principal& p, const std::string& kind,
                                        Role min) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  auto not_found = NotFound(std::string("no ") + KindName(kind) + " with id " + std::to_string(id));
  auto i = ctx.store.mqtt().GetIntegration(id);
  if (!i.ok()) return i.status().code() == Code::kNotFound ? not_found : i.status();
  if (i->kind != kind || !p.RoleIn(i->org_id)) return not_found;
  auto org = LoadOrganization(ctx, p, i->org_id, min);
  if (!org.ok()) return org.status().code() == Code::kNotFound ? not_found : org.status();
  return i;
}

Status ValidateTopicFilter(const std::string& f) {
  if (f.empty() || f.size() > 1024)
    return InvalidArgument("field 'topicFilter' must be 1..1024 characters");
  size_t begin = 0;
  while (true) {
    size_t end = f.find('/', begin);
    std::string level = f.substr(begin, end == std::string::npos ? end : end - begin);
    if (level.find('#') != std::string::npos && (level != "#" || end != std::string::npos))
      return InvalidArgument("field 'topicFilter': '#' must be the whole last level");
    if (level.find('+') != std::string::npos && level != "+")
      return InvalidArgument("field 'topicFilter': '+' must be a whole level");
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  for (unsigned char c : f) {
    if (c < 0x20 || c == 0x7f) return InvalidArgument("field 'topicFilter' has control characters");
  }
  return Status::Ok();
}

// The write-only fields of a request: the new value, "" to remove it, nullopt to keep it.
struct SecretChanges {
  std::optional<std::string> password;
  std::optional<std::string> client_key;
};

// A write-only field: a string sets it, null (or "", on create nothing) removes it.
Status ApplySecret(const json& body, const char* field, size_t max, bool creating,
                   std::optional<std::string>& out) {
  BYSANS_ASSIGN_OR_RETURN(auto v, OptString(body, field));
  if (v) {
    if (v->size() > max) return InvalidArgument(std::string("field '") + field + "' is too long");
    out = *v;
  } else if (!creating && body.contains(field)) {
    out = std::string();  // null: remove
  }
  return Status::Ok();
}

// Applies the fields of `body` to `i` (create: `creating`, with required fields) and the
// write-only ones to `secrets`.
Status ApplyFields(const json& body, bool creating, MqttIntegration& i, SecretChanges& secrets) {
  std::vector<std::string_view> allowed = {"name",     "url",        "username",
                                           "password", "clientId",   "enabled",
                                           "caCert",   "clientCert", "clientKey"};
  if (i.kind == kExternal) {
    allowed.insert(allowed.end(), {"topicFilter", "deviceTopicLevel", "deviceMatch"});
  }
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end())
      return InvalidArgument("unknown field '" + it.key() + "'");
  }
  BYSANS_ASSIGN_OR_RETURN(auto name, OptString(body, "name"));
  BYSANS_ASSIGN_OR_RETURN(auto url, OptString(body, "url"));
  BYSANS_ASSIGN_OR_RETURN(auto username, OptString(body, "username"));
  BYSANS_ASSIGN_OR_RETURN(auto client_id, OptString(body, "clientId"));
  BYSANS_ASSIGN_OR_RETURN(auto enabled, OptBool(body, "enabled"));
  if (creating && !name) return InvalidArgument("field 'name' is required");
  if (creating && !url) return InvalidArgument("field 'url' is required");
  if (name) {
    if (name->empty() || name->size() > 200)
      return InvalidArgument("field 'name' must be 1..200 characters");
    i.name = *name;
  }
  if (url) {
    BYSANS_ASSIGN_OR_RETURN(mqtt::BrokerUrl u, mqtt::ParseBrokerUrl(*url, "url"));
    if (u.username || u.password)
      return InvalidArgument(
          "field 'url' must not hold credentials; use 'username' and "
          "'password'");
    i.url = *url;
  }
  if (username) {
    if (username->size() > 256) return InvalidArgument("field 'username' is too long");
    i.username = *username;
  }
  BYSANS_RETURN_IF_ERROR(ApplySecret(body, "password", 1024, creating, secrets.password));
  BYSANS_RETURN_IF_ERROR(
      ApplySecret(body, "clientKey", mqtt::kMaxClientKeyPemBytes, creating, secrets.client_key));
  if (client_id) {
    if (client_id->empty() || client_id->size() > 128)
      return InvalidArgument("field 'clientId' must be 1..128 characters");
    for (unsigned char c : *client_id) {
      if (c <= 0x20 || c >= 0x7f)
        return InvalidArgument("field 'clientId' must be printable ASCII without spaces");
    }
    i.client_id = *client_id;
  }
  if (enabled) i.enabled = *enabled;
  if (body.contains("caCert")) {
    BYSANS_ASSIGN_OR_RETURN(auto ca, OptString(body, "caCert"));
    if (ca && !ca->empty()) {
      BYSANS_RETURN_IF_ERROR(mqtt::ValidateCaPem(*ca));
      i.ca_cert = *ca;
    } else {
      i.ca_cert.clear();  // null or "": the system's CAs
    }
  }
  if (body.contains("clientCert")) {
    BYSANS_ASSIGN_OR_RETURN(auto cert, OptString(body, "clientCert"));
    i.client_cert = cert.value_or("");  // null or "": none
  }
  // The url as it will be stored (this body's or the current one).
  for (auto [field, set] :
       {std::pair{"caCert", !i.ca_cert.empty()}, std::pair{"clientCert", !i.client_cert.empty()}}) {
    if (!set) continue;
    BYSANS_ASSIGN_OR_RETURN(mqtt::BrokerUrl u, mqtt::ParseBrokerUrl(i.url, "url"));
    if (!u.tls) return InvalidArgument(std::string("field '") + field + "' needs an mqtts:// url");
  }
  if (i.kind == kExternal) {
    BYSANS_ASSIGN_OR_RETURN(auto filter, OptString(body, "topicFilter"));
    BYSANS_ASSIGN_OR_RETURN(auto level, OptInt(body, "deviceTopicLevel"));
    BYSANS_ASSIGN_OR_RETURN(auto match, OptString(body, "deviceMatch"));
    if (creating && !filter) return InvalidArgument("field 'topicFilter' is required");
    if (creating && !level) return InvalidArgument("field 'deviceTopicLevel' is required");
    if (filter) {
      BYSANS_RETURN_IF_ERROR(ValidateTopicFilter(*filter));
      i.topic_filter = *filter;
    }
    if (level) {
      if (*level < 0 || *level > 63)
        return InvalidArgument("field 'deviceTopicLevel' must be 0..63 (0 = the first level)");
      i.device_topic_level = static_cast<int>(*level);
    }
    if (match) {
      if (*match != "id" && *match != "name" && *match != "devEui")
        return InvalidArgument("field 'deviceMatch' must be one of id, name, devEui");
      i.device_match = *match;
    } else if (creating) {
      i.device_match = "id";
    }
  }
  return Status::Ok();
}

// Two sessions with one client id on one broker take each other over: the broker drops the
// older connection at every CONNECT, both reconnect for ever, and each steals the other's
// persistent session. An explicit clientId already used on the same broker (host and port,
// any organisation's integration) is therefore refused; ids assigned by bysans are unique.
Status CheckClientIdFree(ApiContext& ctx, const MqttIntegration& i) {
  if (i.client_id.empty()) return Status::Ok();
  BYSANS_ASSIGN_OR_RETURN(mqtt::BrokerUrl mine, mqtt::ParseBrokerUrl(i.url, "url"));
  BYSANS_ASSIGN_OR_RETURN(auto all, ctx.store.mqtt().ListIntegrations("", 0, 0));
  for (const MqttIntegration& other : all) {
    if (other.id == i.id || other.client_id != i.client_id) continue;
    auto theirs = mqtt::ParseBrokerUrl(other.url, "url");
    if (theirs.ok() && Lower(theirs->host) == Lower(mine.host) && theirs->port == mine.port) {
      // Not which integration: it may belong to another organisation.
      return AlreadyExists("field 'clientId': '" + i.client_id +
                           "' is already used by another integration on this broker");
    }
  }
  return Status::Ok();
}

// The client certificate and key as they will be stored go together and match.
Status CheckClientCertificate(ApiContext& ctx, const MqttIntegration& i,
                              const SecretChanges& secrets) {
  std::string key;
  if (secrets.client_key) {
    key = *secrets.client_key;
  } else if (i.has_client_key) {
    BYSANS_ASSIGN_OR_RETURN(key, ctx.store.mqtt().IntegrationClientKey(i.id));
  }
  if (i.client_cert.empty() && key.empty()) return Status::Ok();
  if (key.empty()) return InvalidArgument("field 'clientKey' is required with 'clientCert'");
  if (i.client_cert.empty())
    return InvalidArgument("field 'clientCert' is required with 'clientKey'");
  return mqtt::ValidateClientCertificate(i.client_cert, key);
}

Status StoreClientKey(ApiContext& ctx, Id id, const SecretChanges& secrets) {
  if (!secrets.client_key) return Status::Ok();
  return ctx.store.mqtt().SetIntegrationClientKey(id, *secrets.client_key);
}

Result<http::Response> CreateIn(ApiContext& ctx, http::Request& req, const auth::Principal& p,
                                MqttIntegration i) {
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  SecretChanges secrets;
  BYSANS_RETURN_IF_ERROR(ApplyFields(body, true, i, secrets));
  BYSANS_RETURN_IF_ERROR(CheckClientCertificate(ctx, i, secrets));
  BYSANS_RETURN_IF_ERROR(CheckClientIdFree(ctx, i));
  BYSANS_ASSIGN_OR_RETURN(LimitHold limit_hold,
                          CheckIntegrationLimit(ctx, i.org_id));  // a client thread each
  i.created_ms = i.updated_ms = ctx.clock.NowMs();
  BYSANS_ASSIGN_OR_RETURN(i, ctx.store.mqtt().CreateIntegration(i, secrets.password));
  BYSANS_RETURN_IF_ERROR(StoreClientKey(ctx, i.id, secrets));
  i.has_client_key = secrets.client_key && !secrets.client_key->empty();
  Audit(ctx, p, req, i.org_id, "create", i.kind + "_integration", std::to_string(i.id), i.name);
  return Json(201, IntegrationJson(ctx, i));
}

Result<http::Response> ListOf(ApiContext& ctx, const std::string& kind, Id org_id, Id app_id) {
  BYSANS_ASSIGN_OR_RETURN(auto list, ctx.store.mqtt().ListIntegrations(kind, org_id, app_id));
  json items = json::array();
  for (const MqttIntegration& i : list) items.push_back(IntegrationJson(ctx, i));
  return Json(200, json{{"items", std::move(items)}});
}

Result<http::Response> CreateChirpstack(ApiContext& ctx, http::Request& req,
                                        const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization org, LoadOrganization(ctx, p, org_id, Role::kAdmin));
  MqttIntegration i;
  i.kind = kChirpstack;
  i.org_id = org.id;
  return CreateIn(ctx, req, p, std::move(i));
}

Result<http::Response> ListChirpstack(ApiContext& ctx, http::Request& req,
                                      const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization org, LoadOrganization(ctx, p, org_id, Role::kViewer));
  return ListOf(ctx, kChirpstack, org.id, 0);
}

Result<http::Response> CreateExternal(ApiContext& ctx, http::Request& req,
                                      const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id app_id, IdParam(req, "appId"));
  BYSANS_ASSIGN_OR_RETURN(Application app, LoadApplication(ctx, p, app_id, Role::kAdmin));
  MqttIntegration i;
  i.kind = kExternal;
  i.org_id = app.org_id;
  i.app_id = app.id;
  return CreateIn(ctx, req, p, std::move(i));
}

Result<http::Response> ListExternal(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id app_id, IdParam(req, "appId"));
  BYSANS_ASSIGN_OR_RETURN(Application app, LoadApplication(ctx, p, app_id, Role::kViewer));
  return ListOf(ctx, kExternal, app.org_id, app.id);
}

Result<http::Response> GetOne(ApiContext& ctx, http::Request& req, const auth::Principal& p,
                              const std::string& kind) {
  BYSANS_ASSIGN_OR_RETURN(MqttIntegration i, LoadIntegration(ctx, req, p, kind, Role::kViewer));
  return Json(200, IntegrationJson(ctx, i));
}

// A stored password or client key is never sent to another broker: when the url's scheme,
// host or port changes, each stored secret must be given again (a value, or null to drop it).
Status CheckSecretsFollowUrl(const MqttIntegration& before, const MqttIntegration& after,
                             const SecretChanges& secrets) {
  if (before.url == after.url) return Status::Ok();
  auto old_url = mqtt::ParseBrokerUrl(before.url, "url");
  BYSANS_ASSIGN_OR_RETURN(mqtt::BrokerUrl new_url, mqtt::ParseBrokerUrl(after.url, "url"));
  if (old_url.ok() && old_url->tls == new_url.tls && Lower(old_url->host) == Lower(new_url.host) &&
      old_url->port == new_url.port) {
    return Status::Ok();
  }
  for (auto [field, stored, given] :
       {std::tuple{"password", before.has_password, secrets.password.has_value()},
        std::tuple{"clientKey", before.has_client_key, secrets.client_key.has_value()}}) {
    if (stored && !given) {
      return InvalidArgument(std::string("field '") + field +
                             "' must be given again (or null to remove it): the broker in "
                             "'url' changed, and a stored secret is never sent to another broker");
    }
  }
  return Status::Ok();
}

Result<http::Response> PatchOne(ApiContext& ctx, http::Request& req, const auth::Principal& p,
                                const std::string& kind) {
  BYSANS_ASSIGN_OR_RETURN(MqttIntegration i, LoadIntegration(ctx, req, p, kind, Role::kAdmin));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  SecretChanges secrets;
  const MqttIntegration before = i;
  BYSANS_RETURN_IF_ERROR(ApplyFields(body, false, i, secrets));
  BYSANS_RETURN_IF_ERROR(CheckClientCertificate(ctx, i, secrets));
  BYSANS_RETURN_IF_ERROR(CheckSecretsFollowUrl(before, i, secrets));
  BYSANS_RETURN_IF_ERROR(CheckClientIdFree(ctx, i));
  i.updated_ms = ctx.clock.NowMs();
  BYSANS_RETURN_IF_ERROR(ctx.store.mqtt().UpdateIntegration(i, secrets.password));
  BYSANS_RETURN_IF_ERROR(StoreClientKey(ctx, i.id, secrets));
  Audit(ctx, p, req, i.org_id, "update", i.kind + "_integration", std::to_string(i.id));
  BYSANS_ASSIGN_OR_RETURN(i, ctx.store.mqtt().GetIntegration(i.id));
  return Json(200, IntegrationJson(ctx, i));
}

Result<http::Response> DeleteOne(ApiContext& ctx, http::Request& req, const auth::Principal& p,
                                 const std::string& kind) {
  BYSANS_ASSIGN_OR_RETURN(MqttIntegration i, LoadIntegration(ctx, req, p, kind, Role::kAdmin));
  BYSANS_RETURN_IF_ERROR(ctx.store.mqtt().DeleteIntegration(i.id));
  Audit(ctx, p, req, i.org_id, "delete", i.kind + "_integration", std::to_string(i.id));
  return NoContent();
}

json UnknownJson(const std::vector<UnknownLorawanDevice>& devs, bool with_integration) {
  json items = json::array();
  for (const UnknownLorawanDevice& d : devs) {
    json j = {{"devEui", d.dev_eui},
              {"applicationId", d.application_id},
              {"firstSeen", FormatRfc3339(d.first_seen_ms)},
              {"lastSeen", FormatRfc3339(d.last_seen_ms)},
              {"uplinks", d.uplinks}};
    if (with_integration) j["integrationId"] = d.integration_id;
    items.push_back(std::move(j));
  }
  return items;
}

Result<http::Response> OrgUnknownDevices(ApiContext& ctx, http::Request& req,
                                         const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization org, LoadOrganization(ctx, p, org_id, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(auto devs, ctx.store.mqtt().ListUnknownOrgDevices(org.id));
  return Json(200, json{{"items", UnknownJson(devs, true)}});
}

Result<http::Response> Gateways(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization org, LoadOrganization(ctx, p, org_id, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(auto gws, ctx.store.mqtt().ListGateways(org.id));
  json items = json::array();
  for (const LorawanGateway& g : gws) {
    items.push_back({{"gatewayId", g.gateway_id},
                     {"firstSeen", FormatRfc3339(g.first_seen_ms)},
                     {"lastSeen", FormatRfc3339(g.last_seen_ms)},
                     {"uplinks", g.uplinks}});
  }
  return Json(200, json{{"items", std::move(items)}});
}

Result<http::Response> UnknownDevices(ApiContext& ctx, http::Request&, const auth::Principal& p) {
  BYSANS_RETURN_IF_ERROR(auth::RequireGlobalAdmin(p));
  BYSANS_ASSIGN_OR_RETURN(auto devs, ctx.store.mqtt().ListUnknownDevices());
  return Json(200, json{{"items", UnknownJson(devs, false)}});
}

}  // namespace

void RegisterLorawanRoutes(http::Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  AddAuthed(router, ctx, "GET", "/api/v1/organizations/{orgId}/lorawan/gateways",
            "LoRaWAN gateways that carried uplinks of the organisation's devices", bind(Gateways));
  AddAuthed(router, ctx, "GET", "/api/v1/lorawan/unknown-devices",
            "Uplinks on bysans' own broker from DevEUIs no device has (global admin; onboarding)",
            bind(UnknownDevices));
  AddAuthed(router, ctx, "GET", "/api/v1/organizations/{orgId}/lorawan/unknown-devices",
            "Uplinks from DevEUIs no device of the organisation has, received through its "
            "ChirpStack integrations (for onboarding)",
            bind(OrgUnknownDevices));
  AddAuthed(router, ctx, "POST", "/api/v1/organizations/{orgId}/integrations/chirpstack",
            "Connect the organisation to a ChirpStack v4 MQTT broker (admin)",
            bind(CreateChirpstack));
  AddAuthed(router, ctx, "GET", "/api/v1/organizations/{orgId}/integrations/chirpstack",
            "The organisation's ChirpStack integrations with their connection status",
            bind(ListChirpstack));
  AddAuthed(router, ctx, "POST", "/api/v1/applications/{appId}/integrations/mqtt",
            "Subscribe the application to a topic on an external MQTT broker (admin)",
            bind(CreateExternal));
  AddAuthed(router, ctx, "GET", "/api/v1/applications/{appId}/integrations/mqtt",
            "The application's external MQTT broker integrations", bind(ListExternal));
  for (const char* kind : {kChirpstack, kExternal}) {
    std::string k = kind;
    std::string path = "/api/v1/integrations/" + k + "/{id}";
    std::string what = KindName(k);
    AddAuthed(
        router, ctx, "GET", path, "One " + what + " (password never returned)",
        [&ctx, k](http::Request& req, const auth::Principal& p) { return GetOne(ctx, req, p, k); });
    AddAuthed(router, ctx, "PATCH", path,
              "Change a " + what + " (admin; takes effect without a restart)",
              [&ctx, k](http::Request& req, const auth::Principal& p) {
                return PatchOne(ctx, req, p, k);
              });
    AddAuthed(router, ctx, "DELETE", path, "Delete a " + what + " (admin)",
              [&ctx, k](http::Request& req, const auth::Principal& p) {
                return DeleteOne(ctx, req, p, k);
              });
  }
}

}  // namespace bysans::api
