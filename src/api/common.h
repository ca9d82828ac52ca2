// Small helpers every API handler uses: JSON bodies, paging, ids, times,
// authentication, audit. Handlers answer errors only through these so every
// error has the one shape {"error": {"code", "message"}}.
#pragma once

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/context.h"
#include "auth/auth.h"
#include "http/message.h"
#include "store/store.h"

namespace bysans::api {

using json = nlohmann::json;

// A JSON response with the given status.
http::Response Json(int status, const json& body);
// `r` with `Link: <next>; rel="next"` (RFC 8288), the page after it, unless `next` is "".
http::Response WithNextLink(http::Response r, const std::string& next);
// 204 No Content.
http::Response NoContent();
// {"items": [...], "total": N, "limit": L, "offset": O}
http::Response PagedJson(json items, int64_t total, const Page& page);

// Parses the request body as a JSON object. kUnsupportedMedia when the
// content type is set and is not application/json (or application/*+json);
// kInvalidArgument for a body nested deeper than kMaxJsonDepth (checked
// before parsing), with the parser's position for malformed JSON, or for a
// body that is not an object. Every handler parses its body through this.
Result<json> ParseJsonObject(const http::Request& req);
// Parses JSON text from a request (e.g. a payload given as a string) under
// the same depth limit; kInvalidArgument naming `what` when it is malformed.
Result<json> ParseJsonText(std::string_view text, std::string_view what);

// ?limit=&offset= (limit default 100, max 10000). kInvalidArgument if bad.
Result<Page> PageFrom(const http::Request& req);

// A path parameter holding a positive integer id. kNotFound if it is not one
// (so /devices/abc is "no such device", not a 400).
Result<Id> IdParam(const http::Request& req, const std::string& name);

// ?limit= as an integer from 1 to `max`; `fallback` when absent or empty. kInvalidArgument
// otherwise.
Result<int64_t> LimitQuery(const http::Request& req, int64_t fallback, int64_t max);

// An optional time query parameter (RFC 3339 or ms). kInvalidArgument naming
// the parameter when it does not parse; `fallback` when absent.
Result<TimeMs> TimeQuery(const http::Request& req, const std::string& name, TimeMs fallback);

// Rejects unknown members of a JSON object body: kInvalidArgument naming the
// first member that is not in `allowed`.
Status RejectUnknownFields(const json& body, std::initializer_list<std::string_view> allowed);

// Typed field readers: nullopt when absent; kInvalidArgument naming the field
// when present with the wrong type.
Result<std::optional<std::string>> OptString(const json& body, const char* field);
Result<std::optional<double>> OptNumber(const json& body, const char* field);
Result<std::optional<int64_t>> OptInt(const json& body, const char* field);
Result<std::optional<bool>> OptBool(const json& body, const char* field);
// Present and a non-empty string, or kInvalidArgument naming it.
Result<std::string> RequiredString(const json& body, const char* field);
// The required field "role": viewer, operator, editor or admin.
Result<Role> RoleField(const json& body);

// Records a write or login in the audit log (failures are logged, not
// returned: auditing never makes a committed write look failed).
void Audit(ApiContext& ctx, const auth::Principal& who, const http::Request& req,
           std::optional<Id> org_id, std::string action, std::string object_type,
           std::string object_id, std::string detail = {});

// A person's authority changed (a membership put, accepted or removed, a user deleted, a global
// admin flag changed): open streams check their credentials again at once, and the broker users of
// SensorThings over MQTT are rebuilt, since API keys answer to their creators
// (auth/key_authority.h). Does not wait for the broker.
void NoteAuthorityChanged(ApiContext& ctx);

// Who the caller is, for throttling keys: "key:<id>", "user:<id>" or "name:<name>".
std::string CallerKey(const auth::Principal& who);

// Records a denied attempt on an object of an organisation where the caller
// has no role: an audit entry "denied" in that organisation, at most one per
// (caller, organisation) and minute so that it cannot flood the log.
void AuditDenied(ApiContext& ctx, const auth::Principal& who, Id org_id,
                 const std::string& object_type, const std::string& object_id);

// auth::Require, plus AuditDenied when the caller has no role in `org_id`
// (`kind`/`id` name the object asked for). With `app_id`, the object belongs to that application
// and a member restricted to some applications passes for theirs (auth::RequireInApp).
Status RequireRole(ApiContext& ctx, const auth::Principal& p, Id org_id, Role min,
                   const std::string& kind, Id id, std::optional<Id> app_id = std::nullopt);

// Authenticates the caller (kUnauthenticated without valid credentials). A
// write authenticated by the session cookie must also pass the CSRF checks
// (http/csrf.h); API keys are not sent by browsers on their own and skip them.
Result<auth::Principal> AuthenticateRequest(ApiContext& ctx, const http::Request& req);

// Wraps a handler body that needs an authenticated caller: answers 401 when
// authentication fails, otherwise calls fn(principal).
template <typename Fn>
void WithPrincipal(ApiContext& ctx, http::Request& req, const http::Responder& respond, Fn&& fn) {
  auto p = AuthenticateRequest(ctx, req);
  if (!p.ok()) {
    respond(http::ErrorResponse(p.status()));
    return;
  }
  fn(p.value());
}

// The body of a handler that needs an authenticated caller. Errors returned
// become the one error shape; exceptions escaping it become 500 (400 for a
// JSON type error).
using AuthedHandler = std::function<Result<http::Response>(http::Request&, const auth::Principal&)>;
// Registers `fn` behind authentication (401 without valid credentials). Any
// body nested deeper than kMaxJsonDepth is refused (400) before `fn` runs,
// also on routes whose handler never reads a body.
void AddAuthed(http::Router& router, ApiContext& ctx, std::string method, std::string pattern,
               std::string summary, AuthedHandler fn);
// The same without authentication (login, health, ...), with the same depth check.
using PublicHandler = std::function<Result<http::Response>(http::Request&)>;
void AddPublic(http::Router& router, std::string method, std::string pattern, std::string summary,
               PublicHandler fn);

// scheme://host[:port] for absolute links in answers (open-data catalogue, SensorThings):
// http.public_url, else the request's Host when it is a plain host name or address (anything
// else gives "", i.e. paths only).
std::string BaseUrl(const ApiContext& ctx, const http::Request& req);

// Every device of the application, all pages.
Result<std::vector<Device>> DevicesOfApplication(ApiContext& ctx, const Application& app);

// Loaders for objects named in a path: kNotFound when the object does not
// exist or the caller has no role in its organisation (existence is not
// revealed), kPermissionDenied when the caller's role is below `min`.
Result<Organization> LoadOrganization(ApiContext& ctx, const auth::Principal& p, Id id, Role min);
Result<Application> LoadApplication(ApiContext& ctx, const auth::Principal& p, Id id, Role min);

// For the listings of an organisation that a member restricted to some applications may call
// too (devices, applications, alarms, the live stream): the organisation, and the applications
// the caller is restricted to (nullopt: the whole organisation). The route must filter by
// `apps`; every other organisation-wide route uses LoadOrganization, which such a member fails.
struct OrgScope {
  Organization org;
  std::optional<std::vector<Id>> apps;  // sorted
  bool Allows(Id app_id) const;
};
Result<OrgScope> LoadOrganizationScope(ApiContext& ctx, const auth::Principal& p, Id id, Role min);
// The application of a device, 0 when there is no such device (an id no scope holds).
Id AppOfDevice(ApiContext& ctx, Id device_id);
Result<Device> LoadDevice(ApiContext& ctx, const auth::Principal& p, Id id, Role min);
Result<DeviceModel> LoadDeviceModel(ApiContext& ctx, const auth::Principal& p, Id id, Role min);

// What the loaders do, for any object of an organisation (rules, alarms, silences, ...): maps a
// store kNotFound or a missing role in `org_id` onto one kNotFound "no <kind> with id N"
// (neither existence nor owner revealed); kPermissionDenied below `min`. A missing role is
// audited in `org_id` (RequireRole).
// `app_id`: the object's application, for objects of one application (RequireRole).
template <typename T>
Result<T> CheckObject(ApiContext& ctx, Result<T> obj, const auth::Principal& p, Id org_id, Role min,
                      const char* kind, Id id, std::optional<Id> app_id = std::nullopt) {
  std::string object_type = kind;  // "device model" → "device_model", as in other audit entries
  std::replace(object_type.begin(), object_type.end(), ' ', '_');
  Status st = obj.ok() ? RequireRole(ctx, p, org_id, min, object_type, id, app_id) : obj.status();
  if (st.code() == Code::kNotFound)
    return NotFound(std::string("no ") + kind + " with id " + std::to_string(id));
  if (!st.ok()) return st;
  return obj;
}

}  // namespace bysans::api
