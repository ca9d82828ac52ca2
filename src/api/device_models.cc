// Device models: FIWARE Smart Data Models `DeviceModel` documents, kept whole.
// PATCH is a JSON merge patch (RFC 7386) of the document.
#include "api/common.h"
#include "api/objects.h"

namespace bysans::api {
namespace {

// Validates the document and sets the model's name from `name` or `modelName`.
Status ApplyDoc(const json& doc, DeviceModel& m) {
  std::string name;
  for (const char* field : {"name", "modelName"}) {
    BYSANS_ASSIGN_OR_RETURN(auto v, OptString(doc, field));
    if (v && !v->empty() && name.empty()) name = *v;
  }
  if (name.empty()) return InvalidArgument("field 'name' or 'modelName' is required");
  if (auto it = doc.find("controlledProperty"); it != doc.end()) {
    if (!it->is_array()) return InvalidArgument("field 'controlledProperty' must be an array");
    for (const auto& p : *it)
      if (!p.is_string())
        return InvalidArgument("field 'controlledProperty' must be an array of strings");
  }
  m.name = std::move(name);
  m.doc_json = doc.dump();
  return Status::Ok();
}

Result<http::Response> Create(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  DeviceModel m;
  BYSANS_RETURN_IF_ERROR(ApplyDoc(body, m));
  m.org_id = o.id;
  m.created_ms = ctx.clock.NowMs();
  BYSANS_ASSIGN_OR_RETURN(m, ctx.store.CreateDeviceModel(m));
  Audit(ctx, p, req, m.org_id, "create", "device_model", std::to_string(m.id));
  return Json(201, ToJson(m));
}

Result<http::Response> List(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  BYSANS_ASSIGN_OR_RETURN(auto models, ctx.store.ListDeviceModels(o.id, page));
  return PagedJson(ToJsonArray(models.items), models.total, page);
}

Result<http::Response> Get(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(DeviceModel m, LoadDeviceModel(ctx, p, id, Role::kViewer));
  return Json(200, ToJson(m));
}

Result<http::Response> Patch(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(DeviceModel m, LoadDeviceModel(ctx, p, id, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(json patch, ParseJsonObject(req));
  json doc = json::parse(m.doc_json, nullptr, false);
  if (!doc.is_object()) doc = json::object();
  doc.merge_patch(patch);
  BYSANS_RETURN_IF_ERROR(ApplyDoc(doc, m));
  BYSANS_RETURN_IF_ERROR(ctx.store.UpdateDeviceModel(m));
  Audit(ctx, p, req, m.org_id, "update", "device_model", std::to_string(m.id));
  return Json(200, ToJson(m));
}

Result<http::Response> Delete(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(DeviceModel m, LoadDeviceModel(ctx, p, id, Role::kEditor));
  BYSANS_RETURN_IF_ERROR(ctx.store.DeleteDeviceModel(m.id));
  Audit(ctx, p, req, m.org_id, "delete", "device_model", std::to_string(m.id), m.name);
  return NoContent();
}

}  // namespace

void RegisterDeviceModelRoutes(http::Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  const std::string list = "/api/v1/organizations/{orgId}/device-models";
  const std::string one = "/api/v1/device-models/{id}";
  AddAuthed(router, ctx, "POST", list, "Create a device model (FIWARE DeviceModel)", bind(Create));
  AddAuthed(router, ctx, "GET", list, "Device models of an organisation", bind(List));
  AddAuthed(router, ctx, "GET", one, "One device model", bind(Get));
  AddAuthed(router, ctx, "PATCH", one, "Merge-patch a device model", bind(Patch));
  AddAuthed(router, ctx, "DELETE", one, "Delete a device model", bind(Delete));
}

}  // namespace bysans::api
