// Organisations (create/delete: global admin) and their memberships (org admin).
// Org admins change the roles of existing members; new members come by
// invitation (api/invitations.cc). Only a global admin adds any user by id. An API key with an
// expiry changes no roles (they would outlive it).
// The last admin of an organisation is neither removed nor demoted (409).
#include "api/application_scope.h"
#include "api/common.h"
#include "api/last_admin.h"
#include "api/objects.h"
#include "api/org_limits.h"
#include "store/decoder_store.h"
#include "store/mqtt_store.h"

namespace bysans::api {
namespace {

constexpr int64_t kMaxDecoderTimeoutMs = 5000;  // even a global admin stays within this

std::string IdStr(Id id) { return std::to_string(id); }

// ToJson plus the organisation's settings: its own limit of devices (null: the server's) and
// the limit that holds.
json OrgJson(const ApiContext& ctx, const Organization& o) {
  json j = ToJson(o);
  j["decoderTimeoutMs"] = o.decoder_timeout_ms;
  j["maxDevices"] = o.max_devices ? json(*o.max_devices) : json(nullptr);
  j["deviceLimit"] = DeviceLimitOf(ctx, o);
  return j;
}

json OrgArray(const ApiContext& ctx, const std::vector<Organization>& orgs) {
  json a = json::array();
  for (const auto& o : orgs) a.push_back(OrgJson(ctx, o));
  return a;
}

// `maxDevices` of a body into o (null: the server's default). Only a global admin sets it: the
// limit keeps one organisation from growing the shared server without bound.
Status ApplyMaxDevices(const json& body, const auth::Principal& p, Organization& o) {
  auto it = body.find("maxDevices");
  if (it == body.end()) return Status::Ok();
  if (!p.global_admin) return PermissionDenied("only a global admin sets 'maxDevices'");
  if (it->is_null()) {
    o.max_devices.reset();
  } else if (it->is_number_integer() && it->get<int64_t>() >= 0) {
    o.max_devices = it->get<int64_t>();
  } else {
    return InvalidArgument("field 'maxDevices' must be a whole number of at least 0, or null");
  }
  return Status::Ok();
}

Result<http::Response> Create(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_RETURN_IF_ERROR(auth::RequireGlobalAdmin(p));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"name", "maxDevices"}));
  Organization o;
  BYSANS_ASSIGN_OR_RETURN(o.name, RequiredString(body, "name"));
  BYSANS_RETURN_IF_ERROR(ApplyMaxDevices(body, p, o));
  o.created_ms = ctx.clock.NowMs();
  BYSANS_ASSIGN_OR_RETURN(o, ctx.store.CreateOrganization(o));
  Audit(ctx, p, req, o.id, "create", "organization", IdStr(o.id));
  return Json(201, OrgJson(ctx, o));
}

Result<http::Response> List(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  if (p.global_admin) {
    BYSANS_ASSIGN_OR_RETURN(auto orgs, ctx.store.ListOrganizations(page));
    return PagedJson(OrgArray(ctx, orgs.items), orgs.total, page);
  }
  if (p.user_id) {
    BYSANS_ASSIGN_OR_RETURN(auto orgs, ctx.store.ListOrganizationsOfUser(*p.user_id, page));
    return PagedJson(OrgArray(ctx, orgs.items), orgs.total, page);
  }
  // An API key sees its one organisation.
  std::vector<Organization> orgs;
  for (const auto& [id, role] : p.roles) {
    auto o = ctx.store.GetOrganization(id);
    if (o.ok()) orgs.push_back(*o);
  }
  auto total = static_cast<int64_t>(orgs.size());
  std::vector<Organization> window;
  for (int64_t i = page.offset; i < total && i < page.offset + page.limit; ++i)
    window.push_back(orgs[static_cast<size_t>(i)]);
  return PagedJson(OrgArray(ctx, window), total, page);
}

Result<http::Response> Get(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(OrgScope s, LoadOrganizationScope(ctx, p, id, Role::kViewer));
  return Json(200, OrgJson(ctx, s.org));
}

Result<http::Response> Patch(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, id, Role::kAdmin));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"name", "decoderTimeoutMs", "maxDevices"}));
  BYSANS_RETURN_IF_ERROR(ApplyMaxDevices(body, p, o));
  BYSANS_ASSIGN_OR_RETURN(auto name, OptString(body, "name"));
  if (name) {
    if (name->empty()) return InvalidArgument("field 'name' must not be empty");
    o.name = *name;
  }
  BYSANS_ASSIGN_OR_RETURN(auto timeout, OptInt(body, "decoderTimeoutMs"));
  if (timeout) {
    if (*timeout < 1 || *timeout > kMaxDecoderTimeoutMs)
      return InvalidArgument("field 'decoderTimeoutMs' must be 1 to " +
                             std::to_string(kMaxDecoderTimeoutMs));
    // The server's cap (decode.max_timeout_ms): one organisation's slow decoder holds a decode
    // worker this long per message, so only a global admin goes above it.
    if (*timeout > ctx.decoder_max_timeout_ms && *timeout > o.decoder_timeout_ms && !p.global_admin)
      return PermissionDenied("field 'decoderTimeoutMs' is above this server's cap of " +
                              std::to_string(ctx.decoder_max_timeout_ms) +
                              " ms (setting decode.max_timeout_ms); only a global admin may "
                              "set more");
    o.decoder_timeout_ms = *timeout;
  }
  BYSANS_RETURN_IF_ERROR(ctx.store.UpdateOrganization(o));
  if (timeout) ctx.store.decoders().InvalidateDecoders();  // pipeline caches the limit
  Audit(ctx, p, req, o.id, "update", "organization", IdStr(o.id), body.dump());
  return Json(200, OrgJson(ctx, o));
}

Result<http::Response> Delete(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, id, Role::kViewer));
  BYSANS_RETURN_IF_ERROR(auth::RequireGlobalAdmin(p));
  BYSANS_RETURN_IF_ERROR(ctx.store.DeleteOrganization(o.id));
  ctx.auth.NoteRevocation();
  // Its API keys went with it: those that were SensorThings MQTT broker users leave the broker
  // at its next reload (server/sta_mqtt.h).
  ctx.store.mqtt().BumpCredentialsGeneration();
  // The organisation's own audit rows went with it; record the deletion globally.
  Audit(ctx, p, req, std::nullopt, "delete", "organization", IdStr(o.id), o.name);
  return NoContent();
}

Result<json> MemberJson(ApiContext& ctx, const Membership& m) {
  json j = {{"userId", m.user_id}, {"role", RoleName(m.role)}, {"email", ""}, {"name", ""}};
  j["applications"] = m.app_scoped ? json(m.app_ids) : json(nullptr);
  auto u = ctx.store.GetUser(m.user_id);
  if (u.ok()) {
    j["email"] = u->email;
    j["name"] = u->name;
  }
  return j;
}

Result<http::Response> ListMembers(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, id, Role::kAdmin));
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  BYSANS_ASSIGN_OR_RETURN(auto ms, ctx.store.ListMembershipsOfOrganization(o.id));
  json items = json::array();
  auto total = static_cast<int64_t>(ms.size());
  for (int64_t i = page.offset; i < total && i < page.offset + page.limit; ++i) {
    BYSANS_ASSIGN_OR_RETURN(json j, MemberJson(ctx, ms[static_cast<size_t>(i)]));
    items.push_back(std::move(j));
  }
  return PagedJson(std::move(items), total, page);
}

Result<Membership> LoadMember(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org, Role::kAdmin));
  BYSANS_ASSIGN_OR_RETURN(Id user, IdParam(req, "userId"));
  return Membership{user, o.id, Role::kViewer};
}

Result<http::Response> GetMember(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Membership key, LoadMember(ctx, req, p));
  auto m = ctx.store.GetMembership(key.user_id, key.org_id);
  if (!m.ok() && m.status().code() == Code::kNotFound)
    return NotFound("user " + IdStr(key.user_id) + " is not a member of this organisation");
  if (!m.ok()) return m.status();
  BYSANS_ASSIGN_OR_RETURN(json j, MemberJson(ctx, *m));
  return Json(200, j);
}

Result<http::Response> PutMember(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Membership m, LoadMember(ctx, req, p));
  // As for invitations (api/invitations.cc): a role a time-limited API key gave would outlive it.
  if (p.expires_ms)
    return PermissionDenied(
        "an API key with an expiry cannot change members' roles: the role would outlive it; use a "
        "session or a key without expiry");
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"role", "applications"}));
  BYSANS_ASSIGN_OR_RETURN(m.role, RoleField(body));
  BYSANS_ASSIGN_OR_RETURN(ApplicationScope scope,
                          ParseApplicationScope(ctx, body, m.org_id, m.role));
  m.app_scoped = scope.scoped;
  m.app_ids = std::move(scope.app_ids);
  if (p.global_admin) {
    auto u = ctx.store.GetUser(m.user_id);
    if (!u.ok() && u.status().code() == Code::kNotFound)
      return NotFound("no user with id " + IdStr(m.user_id));
    if (!u.ok()) return u.status();
  } else {
    // Org admins change roles of existing members only; a user outside the
    // organisation answers exactly like a user that does not exist.
    auto existing = ctx.store.GetMembership(m.user_id, m.org_id);
    if (!existing.ok() && existing.status().code() == Code::kNotFound)
      return NotFound("user " + IdStr(m.user_id) +
                      " is not a member of this organisation (invite new members by email)");
    if (!existing.ok()) return existing.status();
  }
  {
    auto lock = MembershipChangeLock();
    if (m.role != Role::kAdmin) BYSANS_RETURN_IF_ERROR(KeepsAnAdmin(ctx, m.org_id, m.user_id));
    BYSANS_RETURN_IF_ERROR(ctx.store.PutMembership(m));
  }
  NoteAuthorityChanged(ctx);  // a lowered role reaches open streams and the member's keys
  Audit(ctx, p, req, m.org_id, "put", "membership", IdStr(m.user_id),
        RoleWithScope(m.role, m.app_scoped, m.app_ids));
  BYSANS_ASSIGN_OR_RETURN(json j, MemberJson(ctx, m));
  return Json(200, j);
}

Result<http::Response> DeleteMember(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Membership m, LoadMember(ctx, req, p));
  auto lock = MembershipChangeLock();
  BYSANS_RETURN_IF_ERROR(KeepsAnAdmin(ctx, m.org_id, m.user_id));
  Status st = ctx.store.DeleteMembership(m.user_id, m.org_id);
  lock.unlock();
  if (st.code() == Code::kNotFound)
    return NotFound("user " + IdStr(m.user_id) + " is not a member of this organisation");
  BYSANS_RETURN_IF_ERROR(st);
  NoteAuthorityChanged(ctx);  // the member's API keys end with their membership
  Audit(ctx, p, req, m.org_id, "delete", "membership", IdStr(m.user_id));
  return NoContent();
}

}  // namespace

void RegisterOrganizationRoutes(http::Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  const std::string org = "/api/v1/organizations/{orgId}";
  AddAuthed(router, ctx, "POST", "/api/v1/organizations", "Create an organisation", bind(Create));
  AddAuthed(router, ctx, "GET", "/api/v1/organizations", "The caller's organisations", bind(List));
  AddAuthed(router, ctx, "GET", org, "One organisation", bind(Get));
  AddAuthed(router, ctx, "PATCH", org, "Rename an organisation", bind(Patch));
  AddAuthed(router, ctx, "DELETE", org, "Delete an organisation and all it owns", bind(Delete));
  AddAuthed(router, ctx, "GET", org + "/members", "Members and their roles", bind(ListMembers));
  AddAuthed(router, ctx, "GET", org + "/members/{userId}", "One member", bind(GetMember));
  AddAuthed(router, ctx, "PUT", org + "/members/{userId}",
            "Change a member's role (global admins: add any user)", bind(PutMember));
  AddAuthed(router, ctx, "DELETE", org + "/members/{userId}", "Remove a member",
            bind(DeleteMember));
}

}  // namespace bysans::api
