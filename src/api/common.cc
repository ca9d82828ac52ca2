#include "api/common.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/json_depth.h"
#include "core/redact.h"
#include "core/time_format.h"
#include "http/csrf.h"
#include "store/mqtt_store.h"

namespace bysans::api {

http::Response Json(int status, const json& body) {
  return http::JsonResponse(status, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

http::Response WithNextLink(http::Response r, const std::string& next) {
  if (!next.empty()) r.headers.Set("Link", "<" + next + ">; rel=\"next\"");
  return r;
}

http::Response NoContent() {
  http::Response r;
  r.status = 204;
  return r;
}

http::Response PagedJson(json items, int64_t total, const Page& page) {
  return Json(200, json{{"items", std::move(items)},
                        {"total", total},
                        {"limit", page.limit},
                        {"offset", page.offset}});
}

Result<json> ParseJsonText(std::string_view text, std::string_view what) {
  // Before parsing: nothing recursive (dump, copies) may ever see a deep document.
  BYSANS_RETURN_IF_ERROR(CheckJsonDepth(text));
  json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!body.is_discarded()) return body;
  // Re-parse with exceptions to get the position for the message.
  try {
    json reparsed = json::parse(text);
    (void)reparsed;
  } catch (const json::parse_error& e) {
    std::string detail = e.what();
    return InvalidArgument(std::string(what) + "malformed JSON at byte " + std::to_string(e.byte) +
                           ": " + detail.substr(detail.find(':') + 2));
  } catch (const std::exception&) {
  }
  return InvalidArgument(std::string(what) + "malformed JSON");
}

Result<json> ParseJsonObject(const http::Request& req) {
  const std::string& ct = req.headers.Get("content-type");
  if (!ct.empty() && !http::IsJsonMediaType(ct))
    return Status(Code::kUnsupportedMedia,
                  "content type must be application/json, not " + ct.substr(0, 100));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonText(req.body, ""));
  if (!body.is_object()) return InvalidArgument("the body must be a JSON object");
  return body;
}

namespace {
std::optional<int64_t> ParseInt(const std::string& s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}
}  // namespace

Result<Page> PageFrom(const http::Request& req) {
  Page page;
  if (const std::string* l = req.Query("limit")) {
    auto v = ParseInt(*l);
    if (!v || *v < 1 || *v > 10000)
      return InvalidArgument("limit must be an integer from 1 to 10000");
    page.limit = *v;
  }
  if (const std::string* o = req.Query("offset")) {
    auto v = ParseInt(*o);
    if (!v || *v < 0) return InvalidArgument("offset must be a non-negative integer");
    page.offset = *v;
  }
  return page;
}

Result<Id> IdParam(const http::Request& req, const std::string& name) {
  auto v = ParseInt(req.Param(name));
  if (!v || *v <= 0) return NotFound("no object with id '" + req.Param(name) + "'");
  return *v;
}

Result<int64_t> LimitQuery(const http::Request& req, int64_t fallback, int64_t max) {
  const std::string* s = req.Query("limit");
  if (!s || s->empty()) return fallback;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || p != s->data() + s->size() || v < 1 || v > max) {
    return InvalidArgument("limit must be an integer from 1 to " + std::to_string(max));
  }
  return v;
}

Result<TimeMs> TimeQuery(const http::Request& req, const std::string& name, TimeMs fallback) {
  const std::string* s = req.Query(name);
  if (!s || s->empty()) return fallback;
  auto t = ParseTime(*s);
  if (!t) return InvalidArgument("parameter '" + name + "' is not an RFC 3339 time or ms: " + *s);
  return *t;
}

Status RejectUnknownFields(const json& body, std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, v] : body.items()) {
    bool ok = false;
    for (auto a : allowed) ok = ok || k == a;
    if (!ok) return InvalidArgument("unknown field '" + k + "'");
  }
  return Status::Ok();
}

Result<std::optional<std::string>> OptString(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string())
    return InvalidArgument(std::string("field '") + field + "' must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::optional<double>> OptNumber(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number())
    return InvalidArgument(std::string("field '") + field + "' must be a number");
  return std::optional<double>(it->get<double>());
}

Result<std::optional<int64_t>> OptInt(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer())
    return InvalidArgument(std::string("field '") + field + "' must be an integer");
  return std::optional<int64_t>(it->get<int64_t>());
}

Result<std::optional<bool>> OptBool(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean())
    return InvalidArgument(std::string("field '") + field + "' must be true or false");
  return std::optional<bool>(it->get<bool>());
}

Result<std::string> RequiredString(const json& body, const char* field) {
  BYSANS_ASSIGN_OR_RETURN(auto v, OptString(body, field));
  if (!v || v->empty()) return InvalidArgument(std::string("field '") + field + "' is required");
  return *v;
}

Result<Role> RoleField(const json& body) {
  BYSANS_ASSIGN_OR_RETURN(std::string role, RequiredString(body, "role"));
  auto r = ParseRole(role);
  if (!r) {
    return InvalidArgument("field 'role' must be viewer, operator, editor or admin, not '" + role +
                           "'");
  }
  return *r;
}

void Audit(ApiContext& ctx, const auth::Principal& who, const http::Request& req,
           std::optional<Id> org_id, std::string action, std::string object_type,
           std::string object_id, std::string detail) {
  AuditEntry e;
  e.org_id = org_id;
  e.user_id = who.user_id;
  e.api_key_id = who.api_key_id;
  e.action = std::move(action);
  e.object_type = std::move(object_type);
  e.object_id = std::move(object_id);
  e.remote_addr = ctx.auth.ClientAddress(req);  // X-Forwarded-For from trusted proxies only
  e.detail = RedactSecretsInText(detail);       // core/redact.h: no secret reaches the audit log
  e.ts = ctx.clock.NowMs();
  Status st = ctx.store.AppendAudit(std::move(e));
  if (!st.ok()) spdlog::error("audit log write failed: {}", st.message());
}

std::string CallerKey(const auth::Principal& who) {
  return who.api_key_id ? "key:" + std::to_string(*who.api_key_id)
         : who.user_id  ? "user:" + std::to_string(*who.user_id)
                        : "name:" + who.name;
}

void NoteAuthorityChanged(ApiContext& ctx) {
  ctx.auth.NoteRevocation();
  ctx.store.mqtt().BumpCredentialsGeneration();
}

void AuditDenied(ApiContext& ctx, const auth::Principal& who, Id org_id,
                 const std::string& object_type, const std::string& object_id) {
  if (who.global_admin) return;
  if (!ctx.denied_audits->Admit(CallerKey(who) + "@" + std::to_string(org_id), ctx.clock.NowMs()))
    return;
  http::Request origin;  // Audit reads only the address
  origin.remote_addr = who.remote_addr;
  Audit(ctx, who, origin, org_id, "denied", object_type, object_id,
        "no role in this organisation (further attempts within a minute are not logged)");
}

Status RequireRole(ApiContext& ctx, const auth::Principal& p, Id org_id, Role min,
                   const std::string& kind, Id id, std::optional<Id> app_id) {
  Status st = app_id ? auth::RequireInApp(p, org_id, *app_id, min) : auth::Require(p, org_id, min);
  if (st.code() == Code::kNotFound) AuditDenied(ctx, p, org_id, kind, std::to_string(id));
  return st;
}

Result<auth::Principal> AuthenticateRequest(ApiContext& ctx, const http::Request& req) {
  BYSANS_ASSIGN_OR_RETURN(auth::Principal p, ctx.auth.Authenticate(req));
  if (auth::ApiKeyFromRequest(req).empty()) BYSANS_RETURN_IF_ERROR(http::CheckCookieRequest(req));
  p.remote_addr = ctx.auth.ClientAddress(req);  // X-Forwarded-For from trusted proxies only
  return p;
}

namespace {

template <typename Fn>
void Guarded(const http::Responder& respond, Fn&& fn) {
  try {
    Result<http::Response> r = fn();
    respond(r.ok() ? std::move(r).value() : http::ErrorResponse(r.status()));
  } catch (const json::type_error& e) {
    respond(http::ErrorResponse(InvalidArgument(std::string("wrong JSON type: ") + e.what())));
  } catch (const std::exception& e) {
    spdlog::error("handler failed: {}", e.what());
    respond(http::ErrorResponse(Internal("internal error")));
  }
}

}  // namespace

void AddAuthed(http::Router& router, ApiContext& ctx, std::string method, std::string pattern,
               std::string summary, AuthedHandler fn) {
  router.Add(
      std::move(method), std::move(pattern),
      [&ctx, fn = std::move(fn)](http::Request& req, const http::Responder& respond) {
        Guarded(respond, [&]() -> Result<http::Response> {
          BYSANS_ASSIGN_OR_RETURN(auth::Principal p, AuthenticateRequest(ctx, req));
          BYSANS_RETURN_IF_ERROR(CheckJsonDepth(req.body));
          return fn(req, p);
        });
      },
      std::move(summary));
}

void AddPublic(http::Router& router, std::string method, std::string pattern, std::string summary,
               PublicHandler fn) {
  router.Add(
      std::move(method), std::move(pattern),
      [fn = std::move(fn)](http::Request& req, const http::Responder& respond) {
        Guarded(respond, [&]() -> Result<http::Response> {
          BYSANS_RETURN_IF_ERROR(CheckJsonDepth(req.body));
          return fn(req);
        });
      },
      std::move(summary));
}

std::string BaseUrl(const ApiContext& ctx, const http::Request& req) {
  if (!ctx.public_url.empty()) {
    std::string base = ctx.public_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base;
  }
  const std::string& host = req.headers.Get("host");
  bool plain =
      !host.empty() && host.size() <= 255 && std::all_of(host.begin(), host.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
               c == '[' || c == ']';
      });
  if (!plain) return {};
  return std::string(req.tls ? "https://" : "http://") + host;
}

Result<std::vector<Device>> DevicesOfApplication(ApiContext& ctx, const Application& app) {
  DeviceFilter f;
  f.org_id = app.org_id;
  f.app_id = app.id;
  std::vector<Device> devices;
  for (Page page{10'000, 0};; page.offset += page.limit) {
    BYSANS_ASSIGN_OR_RETURN(Paged<Device> got, ctx.store.ListDevices(f, page));
    if (got.items.empty()) break;
    for (auto& dev : got.items) devices.push_back(std::move(dev));
    if (static_cast<int64_t>(devices.size()) >= got.total) break;
  }
  return devices;
}

Result<Organization> LoadOrganization(ApiContext& ctx, const auth::Principal& p, Id id, Role min) {
  // Check the role first: an organisation the caller has no role in is
  // reported missing without touching the store.
  if (!p.RoleIn(id)) {
    if (ctx.store.GetOrganization(id).ok())
      AuditDenied(ctx, p, id, "organization", std::to_string(id));
    return NotFound("no organisation with id " + std::to_string(id));
  }
  return CheckObject(ctx, ctx.store.GetOrganization(id), p, id, min, "organisation", id);
}

bool OrgScope::Allows(Id app_id) const {
  return !apps || std::binary_search(apps->begin(), apps->end(), app_id);
}

Result<OrgScope> LoadOrganizationScope(ApiContext& ctx, const auth::Principal& p, Id id, Role min) {
  const std::set<Id>* scope = p.ScopeIn(id);
  if (scope == nullptr) {
    BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, id, min));
    return OrgScope{std::move(o), std::nullopt};
  }
  const Role role = *p.MemberRoleIn(id);  // a scope is only recorded with a membership
  if (static_cast<int>(role) < static_cast<int>(min))
    return PermissionDenied(std::string("this needs the role '") + RoleName(min) +
                            "' in the organisation; you have '" + RoleName(role) + "'");
  BYSANS_ASSIGN_OR_RETURN(Organization o, ctx.store.GetOrganization(id));
  return OrgScope{std::move(o), std::vector<Id>(scope->begin(), scope->end())};
}

Id AppOfDevice(ApiContext& ctx, Id device_id) {
  auto d = ctx.store.GetDevice(device_id);
  return d.ok() ? d->app_id : 0;
}

Result<Application> LoadApplication(ApiContext& ctx, const auth::Principal& p, Id id, Role min) {
  auto a = ctx.store.GetApplication(id);
  Id org = a.ok() ? a->org_id : 0;
  return CheckObject(ctx, std::move(a), p, org, min, "application", id, id);
}

Result<Device> LoadDevice(ApiContext& ctx, const auth::Principal& p, Id id, Role min) {
  auto d = ctx.store.GetDevice(id);
  Id org = d.ok() ? d->org_id : 0;
  const Id app = d.ok() ? d->app_id : 0;
  return CheckObject(ctx, std::move(d), p, org, min, "device", id, app);
}

Result<DeviceModel> LoadDeviceModel(ApiContext& ctx, const auth::Principal& p, Id id, Role min) {
  auto m = ctx.store.GetDeviceModel(id);
  Id org = m.ok() ? m->org_id : 0;
  return CheckObject(ctx, std::move(m), p, org, min, "device model", id);
}

}  // namespace bysans::api
