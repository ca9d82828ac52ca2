// Data targets (issue 16): per application, where its messages are forwarded
// (share/service.h). Viewers read, admins write; header values are write-only.
#include "api/data_targets.h"

#include <set>

#include "act/outbox.h"
#include "api/common.h"
#include "api/org_limits.h"
#include "core/ip_address.h"
#include "core/time_format.h"
#include "mqtt/url.h"
#include "share/format.h"
#include "share/http_push.h"
#include "share/ngsild_push.h"
#include "store/target_store.h"

namespace bysans::api {
namespace {

using Headers = std::map<std::string, std::string>;

struct Deps {
  ApiContext& ctx;
  share::TargetService& service;
  OutboundPolicy outbound;
};

// A host given as an address must pass the outbound-address policy (a name is checked on every
// connection).
Status CheckHost(const std::string& host, const OutboundPolicy& outbound) {
  if (host.empty()) return InvalidArgument("field 'url' has no host");
  if (auto ip = IpAddress::Parse(host); ip && !outbound.Check(*ip).ok())
    return InvalidArgument("field 'url': this server may not connect to " + host +
                           " (outbound.allow)");
  return Status::Ok();
}

// mqtt(s)://host[:port], credentials in the target's username/password instead.
Status CheckMqttUrl(const std::string& url, const OutboundPolicy& outbound) {
  auto u = mqtt::ParseBrokerUrl(url, "url");
  if (!u.ok()) return u.status();
  if (u->username || u->password)
    return InvalidArgument("field 'url' must not carry credentials: use username and password");
  return CheckHost(u->host, outbound);
}

// An MQTT topic to publish to (after its template is expanded): no wildcards, no system topic.
Status CheckTopic(const std::string& topic) {
  if (topic.empty() || topic.size() > 1024)
    return InvalidArgument("field 'topic' must be 1..1024 bytes");
  if (topic.find_first_of(std::string("+#\0", 3)) != std::string::npos)
    return InvalidArgument("field 'topic' must not contain '+', '#' or NUL");
  if (topic.front() == '$') return InvalidArgument("field 'topic' must not start with '$'");
  return Status::Ok();
}

// http(s)://host[:port][/path]; no credentials (they belong in a header, where they are sealed);
// a host given as an address must pass the outbound-address policy.
Status CheckUrl(const std::string& url, const OutboundPolicy& outbound) {
  const bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0)
    return InvalidArgument("field 'url' must start with http:// or https://");
  if (url.size() > 2048) return InvalidArgument("field 'url' is too long");
  if (url.find_first_of(std::string(" \r\n\t\0", 5)) != std::string::npos)
    return InvalidArgument("field 'url' must not contain spaces or control characters");
  const size_t start = https ? 8 : 7;
  std::string authority = url.substr(start, url.find_first_of("/?#", start) - start);
  if (authority.find('@') != std::string::npos)
    return InvalidArgument("field 'url' must not carry credentials: use an Authorization header");
  std::string host = authority;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.find(']') == std::string::npos ? 0 : host.find(']') - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  return CheckHost(host, outbound);
}

json ToJson(const DataTarget& t, const Result<share::TargetStatus>& st) {
  json status = nullptr;
  if (st.ok()) {
    status = {{"status", st->status},
              {"sent", st->sent},
              {"failed", st->failed},
              {"deadLetters", st->dead_letters},
              {"queueDepth", st->queue_depth},
              {"lagSeconds", st->lag_seconds},
              {"lastError", st->last_error},
              {"lastSuccessAt",
               st->last_success_ms > 0 ? json(FormatRfc3339(st->last_success_ms)) : json(nullptr)}};
  }
  return {{"id", t.id},
          {"organizationId", t.org_id},
          {"applicationId", t.app_id},
          {"name", t.name},
          {"type", t.type},
          {"url", t.url},
          {"format", t.format},
          {"batchSize", t.batch_size},
          {"timeoutMs", t.timeout_ms},
          {"deviceIds", t.device_ids},
          {"headerNames", t.header_names},
          {"topic", t.topic},
          {"qos", t.qos},
          {"retain", t.retain},
          {"username", t.username},
          {"hasPassword", t.has_password},
          {"ngsiLd",
           t.ngsild_json.empty() ? json(nullptr) : json::parse(t.ngsild_json, nullptr, false)},
          {"paused", t.paused},
          {"maxAttempts", t.max_attempts},
          {"maxAgeMs", t.max_age_ms},
          {"createdAt", FormatRfc3339(t.created_ms)},
          {"updatedAt", FormatRfc3339(t.updated_ms)},
          {"metrics", std::move(status)}};
}

Result<int64_t> IntIn(const json& body, const char* field, int64_t lo, int64_t hi,
                      int64_t fallback) {
  BYSANS_ASSIGN_OR_RETURN(auto v, OptInt(body, field));
  if (!v) return fallback;
  if (*v < lo || *v > hi)
    return InvalidArgument("field '" + std::string(field) + "' must be " + std::to_string(lo) +
                           ".." + std::to_string(hi));
  return *v;
}

// Applies a create or change body to `t`; `headers` becomes the header set to store (the stored
// `previous` ones kept where not given again, while the URL's server is unchanged).
// What a change gives for the password: nullopt = keep, "" = remove.
using PasswordChange = std::optional<std::string>;

Status Apply(Deps& d, const json& body, const std::string& previous_url, const Headers& previous,
             DataTarget& t, Headers* headers, PasswordChange* password) {
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(
      body,
      {"name", "type", "url", "format", "batchSize", "timeoutMs", "deviceIds", "headers", "paused",
       "maxAttempts", "maxAgeMs", "topic", "qos", "retain", "username", "password", "ngsiLd"}));
  BYSANS_ASSIGN_OR_RETURN(auto name, OptString(body, "name"));
  if (name) t.name = *name;
  if (t.name.empty() || t.name.size() > 200)
    return InvalidArgument("field 'name' must be 1..200 bytes");
  BYSANS_ASSIGN_OR_RETURN(auto type, OptString(body, "type"));
  if (type) t.type = *type;
  if (t.type != "http" && t.type != "mqtt" && t.type != "ngsi-ld")
    return InvalidArgument(R"(field 'type' must be "http", "mqtt" or "ngsi-ld")");
  if (t.type != "ngsi-ld" && body.contains("ngsiLd"))
    return InvalidArgument("field 'ngsiLd' is for ngsi-ld targets");
  BYSANS_ASSIGN_OR_RETURN(auto url, OptString(body, "url"));
  if (url) t.url = *url;
  if (t.type == "mqtt") {
    BYSANS_RETURN_IF_ERROR(CheckMqttUrl(t.url, d.outbound));
    BYSANS_ASSIGN_OR_RETURN(auto topic, OptString(body, "topic"));
    if (topic) t.topic = *topic;
    BYSANS_RETURN_IF_ERROR(CheckTopic(t.topic));
    BYSANS_ASSIGN_OR_RETURN(t.qos, IntIn(body, "qos", 0, 1, t.qos));
    BYSANS_ASSIGN_OR_RETURN(auto retain, OptBool(body, "retain"));
    if (retain) t.retain = *retain;
    BYSANS_ASSIGN_OR_RETURN(auto username, OptString(body, "username"));
    if (username) t.username = *username;
    if (t.username.size() > 256) return InvalidArgument("field 'username' is too long");
    if (body.contains("headers")) return InvalidArgument("field 'headers' is for http targets");
  } else {
    BYSANS_RETURN_IF_ERROR(CheckUrl(t.url, d.outbound));
    for (const char* f : {"topic", "qos", "retain", "username", "password"}) {
      if (body.contains(f))
        return InvalidArgument("field '" + std::string(f) + "' is for mqtt targets");
    }
  }
  // The password (MQTT): write-only; null or "" removes it; kept while the server is unchanged.
  *password = std::nullopt;
  if (t.type == "ngsi-ld") {
    // Its secret is handled with its settings (below).
  } else if (body.contains("password")) {
    const json& pw = body["password"];
    if (!pw.is_null() && !pw.is_string())
      return InvalidArgument("field 'password' must be a string");
    *password = pw.is_string() ? pw.get<std::string>() : std::string();
    if ((*password)->size() > 1024) return InvalidArgument("field 'password' is too long");
  } else if (t.has_password && act::TargetKeyOf(previous_url) != act::TargetKeyOf(t.url)) {
    return InvalidArgument(
        "field 'password' must be given again (or null) when the URL's server changes");
  }
  if (t.type == "ngsi-ld") {
    // The settings' secret (a header value, the OAuth2 client secret) is the sealed password:
    // write-only, and given again when the server it goes to changes.
    if (body.contains("headers")) return InvalidArgument("field 'headers' is for http targets");
    const std::string secret_host_before = share::NgsiLdSecretHost(t.ngsild_json, previous_url);
    *password = std::nullopt;
    if (body.contains("ngsiLd") || t.ngsild_json.empty()) {
      BYSANS_ASSIGN_OR_RETURN(
          auto settings,
          share::ParseNgsiLdSettings(body.value("ngsiLd", json::object()), t.url, t.timeout_ms));
      // The client secret goes to the token URL: it obeys the policy like the target's URL.
      if (!settings.token_url.empty()) {
        if (Status st = CheckUrl(settings.token_url, d.outbound); !st.ok())
          return InvalidArgument("field 'ngsiLd.auth.tokenUrl': " + st.message());
      }
      t.ngsild_json = settings.stored;
      *password = settings.secret;
    }
    if (!*password && t.has_password && !previous_url.empty() &&
        share::NgsiLdSecretHost(t.ngsild_json, t.url) != secret_host_before) {
      return InvalidArgument(
          "field 'ngsiLd.auth' must give its secret again when the server it goes to changes");
    }
  }
  BYSANS_ASSIGN_OR_RETURN(auto format, OptString(body, "format"));
  if (format) t.format = *format;
  if (!share::IsKnownFormat(t.format))
    return InvalidArgument(R"(field 'format' must be "bysans" or "os2iot")");
  BYSANS_ASSIGN_OR_RETURN(t.batch_size, IntIn(body, "batchSize", 1, 1000, t.batch_size));
  BYSANS_ASSIGN_OR_RETURN(t.timeout_ms, IntIn(body, "timeoutMs", 100, 120'000, t.timeout_ms));
  BYSANS_ASSIGN_OR_RETURN(t.max_attempts, IntIn(body, "maxAttempts", 1, 1'000'000, t.max_attempts));
  BYSANS_ASSIGN_OR_RETURN(t.max_age_ms,
                          IntIn(body, "maxAgeMs", 1000, int64_t{366} * 86'400'000, t.max_age_ms));
  BYSANS_ASSIGN_OR_RETURN(auto paused, OptBool(body, "paused"));
  if (paused) t.paused = *paused;
  if (body.contains("deviceIds")) {
    const json& ids = body["deviceIds"];
    if (!ids.is_array() || ids.size() > 10'000)
      return InvalidArgument("field 'deviceIds' must be an array of device ids");
    std::set<Id> unique;
    for (const json& i : ids) {
      if (!i.is_number_integer()) return InvalidArgument("field 'deviceIds' must hold ids");
      const Id id = i.get<Id>();
      auto dev = d.ctx.store.GetDevice(id);
      // A device of another application (or organisation) is as unknown as a missing one.
      if (!dev.ok() || dev->app_id != t.app_id)
        return InvalidArgument("field 'deviceIds': no device " + std::to_string(id) +
                               " in this application");
      unique.insert(id);
    }
    t.device_ids.assign(unique.begin(), unique.end());
  }
  // Header values: a value sets, null removes; a header not named keeps its stored value while
  // the URL's server is unchanged, else it must be given again.
  *headers = previous;
  const bool same_server = act::TargetKeyOf(previous_url) == act::TargetKeyOf(t.url);
  std::set<std::string> given;
  if (body.contains("headers")) {
    const json& h = body["headers"];
    if (!h.is_object() || h.size() > 50)
      return InvalidArgument("field 'headers' must be an object of at most 50 headers");
    for (const auto& [hname, value] : h.items()) {
      given.insert(hname);
      if (value.is_null()) {
        headers->erase(hname);
        continue;
      }
      if (!value.is_string() || !share::IsSafeHeader(hname, value.get<std::string>()))
        return InvalidArgument("field 'headers." + hname + "' is not a valid header");
      (*headers)[hname] = value.get<std::string>();
    }
  }
  if (!same_server) {
    for (const auto& [hname, value] : previous) {
      if (given.count(hname) == 0)
        return InvalidArgument("field 'headers." + hname +
                               "' must be given again (or null) when the URL's server changes");
    }
  }
  return Status::Ok();
}

// The target named in the path, checked against the caller's organisation and role.
Result<DataTarget> LoadTarget(Deps& d, http::Request& req, const auth::Principal& p, Role min) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  auto t = d.ctx.store.targets().GetTarget(id);
  Id org = t.ok() ? t->org_id : 0;
  BYSANS_ASSIGN_OR_RETURN(DataTarget target,
                          CheckObject(d.ctx, std::move(t), p, org, min, "data target", id));
  // Defence in depth: the application must still be of that organisation.
  BYSANS_RETURN_IF_ERROR(LoadApplication(d.ctx, p, target.app_id, min).status());
  return target;
}

json BackfillJson(const std::optional<share::BackfillStatus>& b) {
  if (!b) return nullptr;
  return {{"state", b->state},
          {"from", FormatRfc3339(b->from)},
          {"to", FormatRfc3339(b->to)},
          {"devicesTotal", b->devices_total},
          {"devicesDone", b->devices_done},
          {"records", b->records},
          {"error", b->error}};
}

// The API form of a target: its settings, delivery status and back-fill job.
json TargetJson(Deps& d, const DataTarget& t) {
  json j = ToJson(t, d.service.StatusOf(t));
  j["backfill"] = BackfillJson(d.service.BackfillOf(t.id));
  return j;
}

http::Response One(Deps& d, int status, const DataTarget& t) {
  return Json(status, TargetJson(d, t));
}

Result<http::Response> Create(Deps& d, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id app_id, IdParam(req, "appId"));
  BYSANS_ASSIGN_OR_RETURN(Application app, LoadApplication(d.ctx, p, app_id, Role::kAdmin));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  DataTarget t;
  t.org_id = app.org_id;
  t.app_id = app.id;
  Headers headers;
  PasswordChange password;
  BYSANS_RETURN_IF_ERROR(Apply(d, body, "", {}, t, &headers, &password));
  BYSANS_ASSIGN_OR_RETURN(LimitHold limit_hold,
                          CheckDataTargetLimit(d.ctx, app.org_id));  // a thread each
  t.created_ms = t.updated_ms = d.ctx.clock.NowMs();
  d.service.WillShare(app.id);  // logged from before the target's cursor is taken
  BYSANS_ASSIGN_OR_RETURN(t, d.ctx.store.targets().CreateTarget(t, headers, password));
  d.service.Changed();
  Audit(d.ctx, p, req, t.org_id, "create", "data_target", std::to_string(t.id), t.name);
  return One(d, 201, t);
}

Result<http::Response> List(Deps& d, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id app_id, IdParam(req, "appId"));
  BYSANS_ASSIGN_OR_RETURN(Application app, LoadApplication(d.ctx, p, app_id, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(auto list, d.ctx.store.targets().ListTargets(app.id));
  json items = json::array();
  for (const DataTarget& t : list) {
    if (t.org_id == app.org_id) items.push_back(TargetJson(d, t));
  }
  const auto n = static_cast<int64_t>(items.size());
  return PagedJson(std::move(items), n, Page{std::max<int64_t>(1, n), 0});
}

Result<http::Response> Get(Deps& d, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(DataTarget t, LoadTarget(d, req, p, Role::kViewer));
  return One(d, 200, t);
}

Result<http::Response> Put(Deps& d, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(DataTarget t, LoadTarget(d, req, p, Role::kAdmin));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_ASSIGN_OR_RETURN(Headers previous, d.ctx.store.targets().TargetHeaders(t.id));
  const std::string previous_url = t.url;
  Headers headers;
  PasswordChange password;
  BYSANS_RETURN_IF_ERROR(Apply(d, body, previous_url, previous, t, &headers, &password));
  t.updated_ms = std::max(d.ctx.clock.NowMs(), t.updated_ms + 1);  // a change the workers see
  BYSANS_RETURN_IF_ERROR(d.ctx.store.targets().UpdateTarget(t, headers, password));
  d.service.Changed();
  BYSANS_ASSIGN_OR_RETURN(t, d.ctx.store.targets().GetTarget(t.id));
  Audit(d.ctx, p, req, t.org_id, "update", "data_target", std::to_string(t.id), t.name);
  return One(d, 200, t);
}

Result<http::Response> Delete(Deps& d, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(DataTarget t, LoadTarget(d, req, p, Role::kAdmin));
  BYSANS_RETURN_IF_ERROR(d.ctx.store.targets().DeleteTarget(t.id));
  d.service.Changed();
  Audit(d.ctx, p, req, t.org_id, "delete", "data_target", std::to_string(t.id), t.name);
  return NoContent();
}

Result<http::Response> SetPaused(Deps& d, http::Request& req, const auth::Principal& p,
                                 bool paused) {
  BYSANS_ASSIGN_OR_RETURN(DataTarget t, LoadTarget(d, req, p, Role::kAdmin));
  BYSANS_RETURN_IF_ERROR(d.ctx.store.targets().SetTargetPaused(t.id, paused));
  d.service.Changed();
  t.paused = paused;
  Audit(d.ctx, p, req, t.org_id, paused ? "pause" : "resume", "data_target", std::to_string(t.id),
        t.name);
  return One(d, 200, t);
}

Result<http::Response> Test(Deps& d, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(DataTarget t, LoadTarget(d, req, p, Role::kAdmin));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"deviceId"}));
  BYSANS_ASSIGN_OR_RETURN(auto device_id, OptInt(body, "deviceId"));
  if (!device_id) return InvalidArgument("field 'deviceId' is required");
  auto dev = d.ctx.store.GetDevice(*device_id);
  if (!dev.ok() || dev->app_id != t.app_id)
    return InvalidArgument("field 'deviceId': no device " + std::to_string(*device_id) +
                           " in this application");
  BYSANS_ASSIGN_OR_RETURN(share::TestResult r, d.service.Test(t, dev->id));
  Audit(d.ctx, p, req, t.org_id, "test", "data_target", std::to_string(t.id), t.name);
  return Json(200, {{"ok", r.ok},
                    {"httpStatus", r.http_status},
                    {"error", r.error},
                    {"durationMs", r.duration_ms}});
}

// Starts a back-fill: the stored readings of [from, to] (default: until now) are sent before
// what comes next.
Result<http::Response> Backfill(Deps& d, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(DataTarget t, LoadTarget(d, req, p, Role::kAdmin));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"from", "to"}));
  auto time_field = [&](const char* name, TimeMs fallback) -> Result<TimeMs> {
    BYSANS_ASSIGN_OR_RETURN(auto text, OptString(body, name));
    if (!text) return fallback;
    auto ms = ParseTime(*text);
    if (!ms) return InvalidArgument("field '" + std::string(name) + "' must be an RFC 3339 time");
    return *ms;
  };
  if (!body.contains("from")) return InvalidArgument("field 'from' is required");
  BYSANS_ASSIGN_OR_RETURN(TimeMs from, time_field("from", 0));
  BYSANS_ASSIGN_OR_RETURN(TimeMs to, time_field("to", d.ctx.clock.NowMs()));
  BYSANS_RETURN_IF_ERROR(d.service.StartBackfill(t, from, to));
  Audit(d.ctx, p, req, t.org_id, "backfill", "data_target", std::to_string(t.id),
        FormatRfc3339(from) + " .. " + FormatRfc3339(to));
  return One(d, 202, t);
}

// Cancels the running back-fill; what it queued is still sent (dead letters can drop it).
Result<http::Response> CancelBackfill(Deps& d, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(DataTarget t, LoadTarget(d, req, p, Role::kAdmin));
  BYSANS_RETURN_IF_ERROR(d.service.CancelBackfill(t.id));
  Audit(d.ctx, p, req, t.org_id, "backfill-cancel", "data_target", std::to_string(t.id), t.name);
  return One(d, 200, t);
}

Result<http::Response> Deliveries(Deps& d, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(DataTarget t, LoadTarget(d, req, p, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  BYSANS_ASSIGN_OR_RETURN(auto log, d.ctx.store.targets().ListDeliveries(t.id, page));
  json items = json::array();
  for (const TargetDelivery& l : log.items) {
    items.push_back({{"id", l.id},
                     {"at", FormatRfc3339(l.ts)},
                     {"ok", l.ok},
                     {"records", l.records},
                     {"firstPosition", l.first_position},
                     {"lastPosition", l.last_position},
                     {"error", l.error},
                     {"durationMs", l.duration_ms}});
  }
  return PagedJson(std::move(items), log.total, page);
}

Result<http::Response> DeadLetters(Deps& d, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(DataTarget t, LoadTarget(d, req, p, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  BYSANS_ASSIGN_OR_RETURN(auto letters, d.ctx.store.targets().ListDeadLetters(t.id, page));
  json items = json::array();
  for (const DeadLetter& l : letters.items) {
    items.push_back({{"id", l.id},
                     {"position", l.record.position},
                     {"deviceId", l.record.device_id},
                     {"messageId", l.record.message_id},
                     {"receivedAt", FormatRfc3339(l.record.received_ms)},
                     {"error", l.error},
                     {"attempts", l.attempts},
                     {"createdAt", FormatRfc3339(l.created_ms)},
                     {"replaying", l.replay}});
  }
  return PagedJson(std::move(items), letters.total, page);
}

Result<http::Response> Replay(Deps& d, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(DataTarget t, LoadTarget(d, req, p, Role::kAdmin));
  BYSANS_ASSIGN_OR_RETURN(int64_t n, d.ctx.store.targets().ReplayDeadLetters(t.id));
  d.service.Changed();
  Audit(d.ctx, p, req, t.org_id, "replay", "data_target", std::to_string(t.id),
        std::to_string(n) + " dead letters");
  return Json(200, {{"replaying", n}});
}

}  // namespace

void RegisterDataTargetRoutes(http::Router& router, ApiContext& ctx, share::TargetService& service,
                              const OutboundPolicy& outbound) {
  auto deps = std::make_shared<Deps>(Deps{ctx, service, outbound});
  auto bind = [deps](auto fn) {
    return [deps, fn](http::Request& req, const auth::Principal& p) { return fn(*deps, req, p); };
  };
  const std::string list = "/api/v1/applications/{appId}/data-targets";
  const std::string one = "/api/v1/data-targets/{id}";
  AddAuthed(router, ctx, "GET", list, "Data targets of an application", bind(List));
  AddAuthed(router, ctx, "POST", list, "Create a data target", bind(Create));
  AddAuthed(router, ctx, "GET", one, "One data target with its metrics", bind(Get));
  AddAuthed(router, ctx, "PUT", one, "Change a data target", bind(Put));
  AddAuthed(router, ctx, "DELETE", one, "Delete a data target", bind(Delete));
  AddAuthed(router, ctx, "POST", one + "/pause", "Pause a data target",
            bind([](Deps& d, http::Request& req, const auth::Principal& p) {
              return SetPaused(d, req, p, true);
            }));
  AddAuthed(router, ctx, "POST", one + "/resume", "Resume a data target",
            bind([](Deps& d, http::Request& req, const auth::Principal& p) {
              return SetPaused(d, req, p, false);
            }));
  AddAuthed(router, ctx, "POST", one + "/test", "Send a device's latest message to a target",
            bind(Test));
  AddAuthed(router, ctx, "POST", one + "/backfill",
            "Send a target its devices' stored readings of a time range (a job)", bind(Backfill));
  AddAuthed(router, ctx, "DELETE", one + "/backfill", "Cancel a data target's running back-fill",
            bind(CancelBackfill));
  AddAuthed(router, ctx, "GET", one + "/deliveries", "Delivery log of a data target",
            bind(Deliveries));
  AddAuthed(router, ctx, "GET", one + "/dead-letters", "Dead letters of a data target",
            bind(DeadLetters));
  AddAuthed(router, ctx, "POST", one + "/dead-letters/replay",
            "Send a data target's dead letters again", bind(Replay));
}

}  // namespace bysans::api
