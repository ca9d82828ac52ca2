#include "api/privacy_audit.h"

namespace bysans::api {

Result<DataClass> DataClassOf(ApiContext& ctx, const Device& d) {
  BYSANS_ASSIGN_OR_RETURN(Application app, ctx.store.GetApplication(d.app_id));
  return app.data_class;
}

void AuditPersonalRead(ApiContext& ctx, const auth::Principal& p, const http::Request& req,
                       Id org_id, std::string_view object_type, Id object_id, DataClass c,
                       std::string_view what) {
  if (!HoldsPersonalData(c)) return;
  const std::string id = std::to_string(object_id);
  std::string key =
      CallerKey(p) + '|' + std::string(what) + '|' + std::string(object_type) + ':' + id;
  std::optional<int64_t> folded = ctx.personal_reads->Admit(key, ctx.clock.NowMs());
  if (!folded) return;
  std::string_view route = req.target;
  route = route.substr(0, route.find('?'));
  json detail = {
      {"data", what}, {"dataClass", DataClassName(c)}, {"route", route}, {"folded", *folded}};
  Audit(ctx, p, req, org_id, "read", std::string(object_type), id,
        detail.dump(-1, ' ', false, json::error_handler_t::replace));
}

Status RequireExportRole(const auth::Principal& p, Id org_id, DataClass c) {
  if (c != DataClass::kPersonal && c != DataClass::kSensitive) return Status::Ok();
  auto role = p.RoleIn(org_id);
  if (role && *role >= Role::kAdmin) return Status::Ok();
  return PermissionDenied(std::string("exporting data of an application of data class '") +
                          DataClassName(c) + "' needs the admin role");
}

}  // namespace bysans::api
