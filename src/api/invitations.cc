// Invitations: an organisation admin invites an email address to a role (in the whole
// organisation, or on some of its applications: "applications" as for members); the
// user with that email sees the invitation and accepts or declines it. The
// answer to an invitation is the same whether or not a user has that email, so
// organisation admins learn nothing about users outside their organisations.
//   POST/GET /organizations/{orgId}/invitations, DELETE .../{invitationId} (org admin; no
//   invitations from an API key with an expiry: the membership would outlive the key)
//   GET /me/invitations, POST /me/invitations/{invitationId}/accept|decline (the invitee)
#include "api/application_scope.h"
#include "api/common.h"
#include "api/last_admin.h"
#include "api/objects.h"
#include "api/org_limits.h"
#include "auth/email.h"

namespace bysans::api {
namespace {

constexpr TimeMs kInvitationTtlMs = 14LL * 24 * 3'600'000;

std::string IdStr(Id id) { return std::to_string(id); }

// An organisation has at most kMaxPendingInvitations unexpired invitations, so an admin cannot
// bury arbitrary people's accounts under invitations. Inviting an e-mail again replaces its
// invitation and is always allowed.
constexpr size_t kMaxPendingInvitations = 100;

// The hold is kept until the invitation is stored (api/org_limits.h).
Result<LimitHold> CheckPendingLimit(ApiContext& ctx, Id org_id, const std::string& email) {
  BYSANS_ASSIGN_OR_RETURN(LimitHold hold, HoldLimit(ctx, org_id, "invitations"));
  BYSANS_ASSIGN_OR_RETURN(auto all, ctx.store.ListInvitationsOfOrganization(org_id));
  const TimeMs now = ctx.clock.NowMs();
  size_t pending = 0;
  for (const auto& i : all) {
    if (i.email == email) return hold;
    if (i.expires_ms > now) ++pending;
  }
  if (pending < kMaxPendingInvitations) return hold;
  return Status(Code::kRateLimited, "an organisation may have at most " +
                                        std::to_string(kMaxPendingInvitations) +
                                        " pending invitations; revoke some first");
}

Result<http::Response> Invite(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org_id, Role::kAdmin));
  // A membership never expires: one given by a time-limited API key would outlive it (as a key
  // it created may not, api/api_keys.cc), so such a key invites no one.
  if (p.expires_ms)
    return PermissionDenied(
        "an API key with an expiry cannot invite: the membership would outlive it; invite with a "
        "session or a key without expiry");
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"email", "role", "applications"}));
  BYSANS_ASSIGN_OR_RETURN(std::string email, RequiredString(body, "email"));
  Invitation inv;
  BYSANS_ASSIGN_OR_RETURN(inv.email, auth::NormalizeEmail(email));
  BYSANS_ASSIGN_OR_RETURN(inv.role, RoleField(body));
  inv.org_id = o.id;
  BYSANS_ASSIGN_OR_RETURN(ApplicationScope scope, ParseApplicationScope(ctx, body, o.id, inv.role));
  inv.app_scoped = scope.scoped;
  inv.app_ids = std::move(scope.app_ids);
  BYSANS_ASSIGN_OR_RETURN(LimitHold limit_hold, CheckPendingLimit(ctx, o.id, inv.email));
  inv.invited_by = p.user_id.value_or(0);
  inv.created_ms = ctx.clock.NowMs();
  inv.expires_ms = inv.created_ms + kInvitationTtlMs;
  BYSANS_ASSIGN_OR_RETURN(inv, ctx.store.PutInvitation(inv));
  Audit(ctx, p, req, o.id, "invite", "invitation", IdStr(inv.id),
        inv.email + " (" + RoleWithScope(inv.role, inv.app_scoped, inv.app_ids) + ")");
  return Json(201, ToJson(inv));
}

// Pending (unexpired) invitations of `all`, paged.
Result<http::Response> Pending(ApiContext& ctx, http::Request& req,
                               const std::vector<Invitation>& all, bool with_org_name) {
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  const TimeMs now = ctx.clock.NowMs();
  std::vector<Invitation> pending;
  for (const auto& i : all)
    if (i.expires_ms > now) pending.push_back(i);
  json items = json::array();
  auto total = static_cast<int64_t>(pending.size());
  for (int64_t n = page.offset; n < total && n < page.offset + page.limit; ++n) {
    const Invitation& i = pending[static_cast<size_t>(n)];
    json j = ToJson(i);
    if (with_org_name) {
      auto org = ctx.store.GetOrganization(i.org_id);
      j["orgName"] = org.ok() ? org->name : "";
    }
    items.push_back(std::move(j));
  }
  return PagedJson(std::move(items), total, page);
}

Result<http::Response> ListOfOrg(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org_id, Role::kAdmin));
  BYSANS_ASSIGN_OR_RETURN(auto all, ctx.store.ListInvitationsOfOrganization(o.id));
  return Pending(ctx, req, all, false);
}

Result<http::Response> Revoke(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org_id, Role::kAdmin));
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "invitationId"));
  auto inv = ctx.store.GetInvitation(id);
  if ((!inv.ok() && inv.status().code() == Code::kNotFound) || (inv.ok() && inv->org_id != o.id))
    return NotFound("no invitation with id " + IdStr(id));
  if (!inv.ok()) return inv.status();
  BYSANS_RETURN_IF_ERROR(ctx.store.DeleteInvitation(id));
  Audit(ctx, p, req, o.id, "revoke", "invitation", IdStr(id), inv->email);
  return NoContent();
}

// The calling user (invitations are for people, not API keys).
Result<User> Invitee(ApiContext& ctx, const auth::Principal& p) {
  if (!p.user_id) return PermissionDenied("invitations are for users: log in to see them");
  return ctx.store.GetUser(*p.user_id);
}

Result<http::Response> Mine(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(User u, Invitee(ctx, p));
  BYSANS_ASSIGN_OR_RETURN(auto all, ctx.store.ListInvitationsOfEmail(u.email));
  return Pending(ctx, req, all, true);
}

// The caller's own pending invitation named in the path; kNotFound for any
// other (another user's invitations are not revealed).
Result<Invitation> LoadMine(ApiContext& ctx, http::Request& req, const User& u) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "invitationId"));
  auto inv = ctx.store.GetInvitation(id);
  if (inv.ok() && inv->email == u.email && inv->expires_ms > ctx.clock.NowMs()) return inv;
  if (inv.ok() || inv.status().code() == Code::kNotFound)
    return NotFound("no invitation with id " + IdStr(id));
  return inv.status();
}

Result<http::Response> Accept(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(User u, Invitee(ctx, p));
  BYSANS_ASSIGN_OR_RETURN(Invitation inv, LoadMine(ctx, req, u));
  {
    // An existing membership takes the invitation's role: never the last admin's demotion.
    auto lock = MembershipChangeLock();
    if (inv.role != Role::kAdmin) BYSANS_RETURN_IF_ERROR(KeepsAnAdmin(ctx, inv.org_id, u.id));
    BYSANS_RETURN_IF_ERROR(ctx.store.AcceptInvitation(inv.id, u.id));
  }
  NoteAuthorityChanged(ctx);  // the role or the applications may have changed
  // As stored: an application deleted since the invitation is no longer in it.
  BYSANS_ASSIGN_OR_RETURN(Membership m, ctx.store.GetMembership(u.id, inv.org_id));
  Audit(ctx, p, req, inv.org_id, "accept", "invitation", IdStr(inv.id),
        RoleWithScope(m.role, m.app_scoped, m.app_ids));
  return Json(200, ToJson(m));
}

Result<http::Response> Decline(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(User u, Invitee(ctx, p));
  BYSANS_ASSIGN_OR_RETURN(Invitation inv, LoadMine(ctx, req, u));
  BYSANS_RETURN_IF_ERROR(ctx.store.DeleteInvitation(inv.id));
  Audit(ctx, p, req, inv.org_id, "decline", "invitation", IdStr(inv.id));
  return NoContent();
}

}  // namespace

void RegisterInvitationRoutes(http::Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  const std::string org = "/api/v1/organizations/{orgId}/invitations";
  const std::string mine = "/api/v1/me/invitations";
  AddAuthed(router, ctx, "POST", org,
            "Invite an email address to a role (the same answer whether or not such a user exists)",
            bind(Invite));
  AddAuthed(router, ctx, "GET", org, "Pending invitations of an organisation", bind(ListOfOrg));
  AddAuthed(router, ctx, "DELETE", org + "/{invitationId}", "Revoke an invitation", bind(Revoke));
  AddAuthed(router, ctx, "GET", mine, "The caller's pending invitations", bind(Mine));
  AddAuthed(router, ctx, "POST", mine + "/{invitationId}/accept",
            "Accept an invitation: become a member with its role", bind(Accept));
  AddAuthed(router, ctx, "POST", mine + "/{invitationId}/decline", "Decline an invitation",
            bind(Decline));
}

}  // namespace bysans::api
