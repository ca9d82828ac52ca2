// Users: global admins manage them; a user may read and change themselves
// (name; password with currentPassword). Passwords follow the one rule of
// auth/password_policy.h; a new password ends the user's other sessions.
#include "api/common.h"
#include "api/objects.h"
#include "auth/email.h"
#include "auth/password_policy.h"

namespace bysans::api {
namespace {

// The one password rule (auth/password_policy.h), naming the field.
Status CheckPassword(const std::string& pw) {
  Status st = auth::CheckPasswordPolicy(pw);
  if (st.ok()) return st;
  return InvalidArgument("field 'password': " + st.message());
}

Result<http::Response> Create(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_RETURN_IF_ERROR(auth::RequireGlobalAdmin(p));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"email", "password", "name", "globalAdmin"}));
  User u;
  BYSANS_ASSIGN_OR_RETURN(std::string email, RequiredString(body, "email"));
  BYSANS_ASSIGN_OR_RETURN(u.email, auth::NormalizeEmail(email));
  BYSANS_ASSIGN_OR_RETURN(std::string password, RequiredString(body, "password"));
  BYSANS_RETURN_IF_ERROR(CheckPassword(password));
  BYSANS_ASSIGN_OR_RETURN(auto name, OptString(body, "name"));
  u.name = name.value_or("");
  BYSANS_ASSIGN_OR_RETURN(auto admin, OptBool(body, "globalAdmin"));
  u.global_admin = admin.value_or(false);
  u.password_hash = ctx.auth.HashPassword(password);
  u.created_ms = ctx.clock.NowMs();
  auto created = ctx.store.CreateUser(u);
  if (!created.ok() && created.status().code() == Code::kAlreadyExists)
    return AlreadyExists("a user with email '" + u.email + "' already exists");
  if (!created.ok()) return created.status();
  Audit(ctx, p, req, std::nullopt, "create", "user", std::to_string(created->id), u.email);
  return Json(201, ToJson(*created));
}

Result<http::Response> List(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_RETURN_IF_ERROR(auth::RequireGlobalAdmin(p));
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  BYSANS_ASSIGN_OR_RETURN(auto users, ctx.store.ListUsers(page));
  return PagedJson(ToJsonArray(users.items), users.total, page);
}

// The user in the path, if the caller is a global admin or that user.
Result<User> LoadUser(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "userId"));
  if (!p.global_admin && p.user_id != id)
    return PermissionDenied("only a global administrator may manage other users");
  auto u = ctx.store.GetUser(id);
  if (!u.ok() && u.status().code() == Code::kNotFound)
    return NotFound("no user with id " + std::to_string(id));
  return u;
}

Result<http::Response> Get(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(User u, LoadUser(ctx, req, p));
  return Json(200, ToJson(u));
}

Result<http::Response> Patch(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(User u, LoadUser(ctx, req, p));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(
      RejectUnknownFields(body, {"name", "password", "currentPassword", "globalAdmin"}));
  const bool self = p.user_id == u.id;
  BYSANS_ASSIGN_OR_RETURN(auto name, OptString(body, "name"));
  if (name) u.name = *name;
  BYSANS_ASSIGN_OR_RETURN(auto admin, OptBool(body, "globalAdmin"));
  if (admin && *admin != u.global_admin) {
    BYSANS_RETURN_IF_ERROR(auth::RequireGlobalAdmin(p));
    if (self) return FailedPrecondition("a global administrator cannot demote themselves");
    u.global_admin = *admin;
  }
  BYSANS_ASSIGN_OR_RETURN(auto password, OptString(body, "password"));
  if (password) {
    BYSANS_RETURN_IF_ERROR(CheckPassword(*password));
    if (self) {
      BYSANS_ASSIGN_OR_RETURN(auto current, OptString(body, "currentPassword"));
      if (!current) return InvalidArgument("field 'currentPassword' is required to change it");
      if (!auth::VerifyPassword(u.password_hash, *current))
        return PermissionDenied("field 'currentPassword' is wrong");
    }
    u.password_hash = ctx.auth.HashPassword(*password);
  }
  BYSANS_RETURN_IF_ERROR(ctx.store.UpdateUser(u));
  if (admin) NoteAuthorityChanged(ctx);
  // A new password ends the user's other sessions (the caller's own goes on).
  if (password)
    BYSANS_RETURN_IF_ERROR(
        ctx.auth.EndOtherSessions(u.id, self ? req.Cookie(auth::kSessionCookie) : ""));
  json detail = body;
  detail.erase("password");
  detail.erase("currentPassword");
  if (password) detail["password"] = "changed";
  Audit(ctx, p, req, std::nullopt, "update", "user", std::to_string(u.id), detail.dump());
  return Json(200, ToJson(u));
}

Result<http::Response> Delete(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_RETURN_IF_ERROR(auth::RequireGlobalAdmin(p));
  BYSANS_ASSIGN_OR_RETURN(User u, LoadUser(ctx, req, p));
  if (p.user_id == u.id) return FailedPrecondition("you cannot delete yourself");
  BYSANS_RETURN_IF_ERROR(ctx.store.DeleteUser(u.id));
  NoteAuthorityChanged(ctx);
  Audit(ctx, p, req, std::nullopt, "delete", "user", std::to_string(u.id), u.email);
  return NoContent();
}

}  // namespace

void RegisterUserRoutes(http::Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  const std::string one = "/api/v1/users/{userId}";
  AddAuthed(router, ctx, "POST", "/api/v1/users", "Create a user", bind(Create));
  AddAuthed(router, ctx, "GET", "/api/v1/users", "All users", bind(List));
  AddAuthed(router, ctx, "GET", one, "One user (global admin or the user)", bind(Get));
  AddAuthed(router, ctx, "PATCH", one, "Change a user (global admin or the user)", bind(Patch));
  AddAuthed(router, ctx, "DELETE", one, "Delete a user", bind(Delete));
}

}  // namespace bysans::api
