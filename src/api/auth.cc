// POST /api/v1/auth/login, POST /api/v1/auth/logout, GET /api/v1/auth/me.
#include "api/common.h"
#include "api/objects.h"
#include "core/time_format.h"

namespace bysans::api {
namespace {

Result<json> UserWithMemberships(ApiContext& ctx, const User& u) {
  BYSANS_ASSIGN_OR_RETURN(auto ms, ctx.store.ListMembershipsOfUser(u.id));
  json list = json::array();
  for (const auto& m : ms) {
    json j = ToJson(m);
    auto org = ctx.store.GetOrganization(m.org_id);
    j["orgName"] = org.ok() ? org->name : "";
    list.push_back(std::move(j));
  }
  return json{{"user", ToJson(u)}, {"memberships", std::move(list)}};
}

Result<http::Response> Login(ApiContext& ctx, http::Request& req) {
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"email", "password"}));
  BYSANS_ASSIGN_OR_RETURN(std::string email, RequiredString(body, "email"));
  BYSANS_ASSIGN_OR_RETURN(std::string password, RequiredString(body, "password"));
  TimeMs retry_after_ms = 0;
  auto r = ctx.auth.Login(email, password, ctx.auth.ClientAddress(req), &retry_after_ms);
  auth::Principal who;
  if (!r.ok()) {
    who.name = email;
    Audit(ctx, who, req, std::nullopt, "login_failed", "user", email,
          std::string(CodeName(r.status().code())));
    if (r.status().code() != Code::kRateLimited) return r.status();
    http::Response throttled = http::ErrorResponse(r.status());
    throttled.headers.Set("retry-after", std::to_string((retry_after_ms + 999) / 1000));
    return throttled;
  }
  who.user_id = r->user.id;
  who.name = r->user.email;
  Audit(ctx, who, req, std::nullopt, "login", "user", std::to_string(r->user.id));
  BYSANS_ASSIGN_OR_RETURN(json out, UserWithMemberships(ctx, r->user));
  out["expiresAt"] = FormatRfc3339(r->expires_ms);
  http::Response resp = Json(200, out);
  resp.headers.Add("set-cookie", ctx.auth.SessionCookie(r->session_token, r->expires_ms));
  return resp;
}

Result<http::Response> Logout(ApiContext& ctx, http::Request& req) {
  std::string token = req.Cookie(auth::kSessionCookie);
  if (!token.empty()) {
    auto p = ctx.auth.Authenticate(req);
    BYSANS_RETURN_IF_ERROR(ctx.auth.Logout(token));
    if (p.ok() && p->user_id)
      Audit(ctx, *p, req, std::nullopt, "logout", "user", std::to_string(*p->user_id));
  }
  http::Response resp = NoContent();
  resp.headers.Add("set-cookie", ctx.auth.ClearedSessionCookie());
  return resp;
}

Result<http::Response> Me(ApiContext& ctx, const auth::Principal& p) {
  if (p.user_id) {
    BYSANS_ASSIGN_OR_RETURN(User u, ctx.store.GetUser(*p.user_id));
    BYSANS_ASSIGN_OR_RETURN(json out, UserWithMemberships(ctx, u));
    return Json(200, out);
  }
  json key = {{"id", p.api_key_id ? json(*p.api_key_id) : json(nullptr)}, {"name", p.name}};
  json ms = json::array();
  for (const auto& [org, role] : p.roles) ms.push_back({{"orgId", org}, {"role", RoleName(role)}});
  return Json(200, json{{"apiKey", key}, {"memberships", ms}});
}

}  // namespace

void RegisterAuthRoutes(http::Router& router, ApiContext& ctx) {
  AddPublic(router, "POST", "/api/v1/auth/login", "Log in with email and password",
            [&ctx](http::Request& req) { return Login(ctx, req); });
  AddPublic(router, "POST", "/api/v1/auth/logout", "End the session",
            [&ctx](http::Request& req) { return Logout(ctx, req); });
  AddAuthed(router, ctx, "GET", "/api/v1/auth/me", "The caller and their memberships",
            [&ctx](http::Request&, const auth::Principal& p) { return Me(ctx, p); });
}

}  // namespace bysans::api
