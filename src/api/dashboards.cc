// Saved dashboards (issue 21 §4): per organisation, each with the least role that sees it, and
// optionally shared with one application. Callers list and read the dashboards their role
// reaches; members restricted to some applications only those shared with one of theirs (read
// only). Editors and admins of the organisation create, change and delete them (never above their
// own role). A layout (api/dashboard_layout.h) may name only devices and applications of the
// dashboard's organisation, and of its application when it is shared with one. Admins make a
// dashboard public (`"public": true`, read without login: api/dashboard_public.cc) when every
// value it reads is in a published open dataset of the organisation (api/dashboard_coverage.h);
// while it is public, every change is checked again.
#include "api/common.h"
#include "api/dashboard_coverage.h"
#include "api/dashboard_layout.h"
#include "api/org_limits.h"
#include "core/time_format.h"
#include "store/dashboard_store.h"

namespace bysans::api {
namespace {

json DashboardToJson(const Dashboard& d) {
  json layout = json::parse(d.layout, nullptr, false);
  if (!layout.is_object()) layout = json{{"widgets", json::array()}};  // a damaged row
  return {{"id", d.id},
          {"orgId", d.org_id},
          {"name", d.name},
          {"minRole", RoleName(d.min_role)},
          {"applicationId", d.app_id ? json(*d.app_id) : json(nullptr)},
          {"public", d.published},
          {"layout", std::move(layout)},
          {"createdAt", FormatRfc3339(d.created_ms)},
          {"updatedAt", FormatRfc3339(d.updated_ms)}};
}

Role Max(Role a, Role b) { return static_cast<int>(a) < static_cast<int>(b) ? b : a; }

// Every device and application the layout names is of `org_id` (and of `app_id`, for a dashboard
// shared with one application); the same answer whether an id is unknown or another
// organisation's, so that existence is never revealed.
Status CheckOwnership(ApiContext& ctx, const DashboardLayout& l, Id org_id,
                      std::optional<Id> app_id) {
  const std::string where = app_id ? "the dashboard's application" : "this organisation";
  for (Id id : l.device_ids) {
    auto dev = ctx.store.GetDevice(id);
    if (!dev.ok() && dev.status().code() != Code::kNotFound) return dev.status();
    if (!dev.ok() || dev->org_id != org_id || (app_id && dev->app_id != *app_id)) {
      return InvalidArgument("layout: deviceId " + std::to_string(id) + " is not a device of " +
                             where);
    }
  }
  for (Id id : l.app_ids) {
    auto app = ctx.store.GetApplication(id);
    if (!app.ok() && app.status().code() != Code::kNotFound) return app.status();
    if (!app.ok() || app->org_id != org_id || (app_id && id != *app_id)) {
      return InvalidArgument("layout: applicationId " + std::to_string(id) + " is not " +
                             (app_id ? where : "an application of " + where));
    }
  }
  return Status::Ok();
}

// "applicationId": null (the organisation) or an application of the dashboard's organisation.
Status ApplyApplication(ApiContext& ctx, const json& body, Dashboard& d) {
  auto it = body.find("applicationId");
  if (it == body.end()) return Status::Ok();
  if (it->is_null()) {
    d.app_id.reset();
    return Status::Ok();
  }
  if (!it->is_number_integer())
    return InvalidArgument("field 'applicationId' must be an id or null");
  auto app = ctx.store.GetApplication(it->get<Id>());
  if (!app.ok() && app.status().code() != Code::kNotFound) return app.status();
  if (!app.ok() || app->org_id != d.org_id)
    return InvalidArgument("field 'applicationId': no application with id " +
                           std::to_string(it->get<Id>()) + " in this organisation");
  d.app_id = app->id;
  return Status::Ok();
}

// "public": only the organisation's admins change it (403; the value it has may be sent back).
Status ApplyPublic(const auth::Principal& p, const json& body, Dashboard& d) {
  BYSANS_ASSIGN_OR_RETURN(auto published, OptBool(body, "public"));
  if (!published || *published == d.published) return Status::Ok();
  if (p.RoleIn(d.org_id) != Role::kAdmin) {
    return PermissionDenied("field 'public': only the organisation's admins publish dashboards");
  }
  d.published = *published;
  return Status::Ok();
}

// Applies the fields of `body` to `d` (absent ones keep their value) and checks the result.
Status Apply(ApiContext& ctx, const auth::Principal& p, const json& body, Dashboard& d) {
  BYSANS_RETURN_IF_ERROR(
      RejectUnknownFields(body, {"name", "minRole", "layout", "applicationId", "public"}));
  BYSANS_RETURN_IF_ERROR(ApplyPublic(p, body, d));
  BYSANS_ASSIGN_OR_RETURN(auto name, OptString(body, "name"));
  if (name) d.name = std::move(*name);
  if (d.name.empty() || d.name.size() > kMaxText) {
    return InvalidArgument("field 'name' must be a text of 1 to " + std::to_string(kMaxText) +
                           " bytes");
  }
  BYSANS_ASSIGN_OR_RETURN(auto min_role, OptString(body, "minRole"));
  if (min_role) {
    auto r = ParseRole(*min_role);
    if (!r) return InvalidArgument("field 'minRole' must be viewer, operator, editor or admin");
    // Nobody makes a dashboard they could no longer see.
    if (static_cast<int>(*r) > static_cast<int>(p.RoleIn(d.org_id).value_or(Role::kViewer))) {
      return PermissionDenied("field 'minRole' may not be above your own role");
    }
    d.min_role = *r;
  }
  BYSANS_RETURN_IF_ERROR(ApplyApplication(ctx, body, d));
  auto layout = body.find("layout");
  if (layout == body.end() && d.layout.empty())
    return InvalidArgument("field 'layout' is required");
  // The stored layout is checked again when only the application changes.
  BYSANS_ASSIGN_OR_RETURN(
      DashboardLayout l,
      ValidateDashboardLayout(layout != body.end() ? *layout
                                                   : json::parse(d.layout, nullptr, false)));
  BYSANS_RETURN_IF_ERROR(CheckOwnership(ctx, l, d.org_id, d.app_id));
  if (d.published) {  // made public now, or changed while public
    BYSANS_ASSIGN_OR_RETURN(OpenCoverage c, PublishedCoverage(ctx, d.org_id));
    BYSANS_RETURN_IF_ERROR(CheckPublicLayout(l.layout, c));
  }
  d.layout = l.layout.dump(-1, ' ', false, json::error_handler_t::replace);
  d.updated_ms = ctx.clock.NowMs();
  return Status::Ok();
}

// The dashboard named in the path, for a caller whose role reaches both `min` and its minRole.
// A member restricted to some applications reads the dashboards shared with one of theirs, and
// changes none.
Result<Dashboard> LoadDashboard(ApiContext& ctx, const http::Request& req, const auth::Principal& p,
                                Role min) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  auto d = ctx.store.dashboards().GetDashboard(id);
  const Id org = d.ok() ? d->org_id : 0;
  const Role need = d.ok() ? Max(min, d->min_role) : min;
  std::optional<Id> app;
  if (d.ok() && p.ScopeIn(org) != nullptr) app = min == Role::kViewer ? d->app_id.value_or(0) : 0;
  return CheckObject(ctx, std::move(d), p, org, need, "dashboard", id, app);
}

Result<http::Response> Create(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  Dashboard d;
  d.org_id = o.id;
  d.created_ms = ctx.clock.NowMs();
  BYSANS_RETURN_IF_ERROR(Apply(ctx, p, body, d));
  BYSANS_ASSIGN_OR_RETURN(LimitHold limit_hold,
                          CheckDashboardLimit(ctx, o.id));  // each listed whole
  BYSANS_ASSIGN_OR_RETURN(d, ctx.store.dashboards().CreateDashboard(d));
  Audit(ctx, p, req, d.org_id, "create", "dashboard", std::to_string(d.id), d.name);
  if (d.published)
    Audit(ctx, p, req, d.org_id, "publish", "dashboard", std::to_string(d.id), d.name);
  return Json(201, DashboardToJson(d));
}

Result<http::Response> List(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(OrgScope s, LoadOrganizationScope(ctx, p, org, Role::kViewer));
  const Role role = p.MemberRoleIn(s.org.id).value_or(Role::kViewer);
  BYSANS_ASSIGN_OR_RETURN(auto all, ctx.store.dashboards().ListDashboards(s.org.id, role));
  json items = json::array();
  for (const Dashboard& d : all) {
    // A restricted member: the dashboards shared with one of their applications.
    if (s.apps && (!d.app_id || !s.Allows(*d.app_id))) continue;
    items.push_back(DashboardToJson(d));
  }
  return Json(200, json{{"items", items}, {"total", items.size()}});
}

Result<http::Response> Get(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Dashboard d, LoadDashboard(ctx, req, p, Role::kViewer));
  return Json(200, DashboardToJson(d));
}

Result<http::Response> Put(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Dashboard d, LoadDashboard(ctx, req, p, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  const bool was_public = d.published;
  BYSANS_RETURN_IF_ERROR(Apply(ctx, p, body, d));
  BYSANS_RETURN_IF_ERROR(ctx.store.dashboards().UpdateDashboard(d));
  Audit(ctx, p, req, d.org_id, "update", "dashboard", std::to_string(d.id), d.name);
  if (d.published != was_public) {
    Audit(ctx, p, req, d.org_id, d.published ? "publish" : "unpublish", "dashboard",
          std::to_string(d.id), d.name);
  }
  return Json(200, DashboardToJson(d));
}

Result<http::Response> Delete(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Dashboard d, LoadDashboard(ctx, req, p, Role::kEditor));
  BYSANS_RETURN_IF_ERROR(ctx.store.dashboards().DeleteDashboard(d.id));
  Audit(ctx, p, req, d.org_id, "delete", "dashboard", std::to_string(d.id), d.name);
  return NoContent();
}

}  // namespace

void RegisterDashboardRoutes(http::Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  const std::string list = "/api/v1/organizations/{orgId}/dashboards";
  const std::string one = "/api/v1/dashboards/{id}";
  AddAuthed(router, ctx, "POST", list, "Create a dashboard (editors)", bind(Create));
  AddAuthed(router, ctx, "GET", list, "The dashboards of an organisation the caller's role sees",
            bind(List));
  AddAuthed(router, ctx, "GET", one, "One dashboard", bind(Get));
  AddAuthed(router, ctx, "PUT", one, "Change the given fields of a dashboard (editors)", bind(Put));
  AddAuthed(router, ctx, "DELETE", one, "Delete a dashboard (editors)", bind(Delete));
}

}  // namespace bysans::api
