// Applications: listed and created under an organisation, then addressed by id.
// `personalData` marks an application holding personal data: it cannot be published as open
// data, and the flag cannot be set while an open-data dataset covers the application.
#include "api/common.h"
#include "api/objects.h"
#include "api/open_data.h"

namespace bysans::api {
namespace {

Status Apply(const json& body, Application& a) {
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"name", "description", "personalData"}));
  BYSANS_ASSIGN_OR_RETURN(auto name, OptString(body, "name"));
  if (name) {
    if (name->empty()) return InvalidArgument("field 'name' must not be empty");
    a.name = *name;
  }
  BYSANS_ASSIGN_OR_RETURN(auto desc, OptString(body, "description"));
  if (desc) a.description = *desc;
  BYSANS_ASSIGN_OR_RETURN(auto personal, OptBool(body, "personalData"));
  if (personal) a.personal_data = *personal;
  return Status::Ok();
}

Result<http::Response> Create(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  Application a;
  BYSANS_RETURN_IF_ERROR(Apply(body, a));
  if (a.name.empty()) return InvalidArgument("field 'name' is required");
  a.org_id = o.id;
  a.created_ms = ctx.clock.NowMs();
  BYSANS_ASSIGN_OR_RETURN(a, ctx.store.CreateApplication(a));
  Audit(ctx, p, req, a.org_id, "create", "application", std::to_string(a.id));
  return Json(201, ToJson(a));
}

Result<http::Response> List(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  BYSANS_ASSIGN_OR_RETURN(auto apps, ctx.store.ListApplications(o.id, page));
  return PagedJson(ToJsonArray(apps.items), apps.total, page);
}

Result<http::Response> Get(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "appId"));
  BYSANS_ASSIGN_OR_RETURN(Application a, LoadApplication(ctx, p, id, Role::kViewer));
  return Json(200, ToJson(a));
}

Result<http::Response> Patch(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "appId"));
  BYSANS_ASSIGN_OR_RETURN(Application a, LoadApplication(ctx, p, id, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  const bool was_personal = a.personal_data;
  BYSANS_RETURN_IF_ERROR(Apply(body, a));
  if (a.personal_data && !was_personal) {
    BYSANS_ASSIGN_OR_RETURN(std::optional<Id> dataset, DatasetCovering(ctx, a));
    if (dataset) {
      return FailedPrecondition("open-data dataset " + std::to_string(*dataset) +
                                " covers this application; remove it from the dataset (or delete "
                                "the dataset) before marking it as holding personal data");
    }
  }
  BYSANS_RETURN_IF_ERROR(ctx.store.UpdateApplication(a));
  Audit(ctx, p, req, a.org_id, "update", "application", std::to_string(a.id), body.dump());
  return Json(200, ToJson(a));
}

Result<http::Response> Delete(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "appId"));
  BYSANS_ASSIGN_OR_RETURN(Application a, LoadApplication(ctx, p, id, Role::kEditor));
  BYSANS_RETURN_IF_ERROR(ctx.store.DeleteApplication(a.id));
  Audit(ctx, p, req, a.org_id, "delete", "application", std::to_string(a.id), a.name);
  return NoContent();
}

}  // namespace

void RegisterApplicationRoutes(http::Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  const std::string list = "/api/v1/organizations/{orgId}/applications";
  const std::string one = "/api/v1/applications/{appId}";
  AddAuthed(router, ctx, "POST", list, "Create an application", bind(Create));
  AddAuthed(router, ctx, "GET", list, "Applications of an organisation", bind(List));
  AddAuthed(router, ctx, "GET", one, "One application", bind(Get));
  AddAuthed(router, ctx, "PATCH", one, "Change an application", bind(Patch));
  AddAuthed(router, ctx, "DELETE", one, "Delete an application and its devices", bind(Delete));
}

}  // namespace bysans::api
