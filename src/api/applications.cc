// Applications: listed and created under an organisation, then addressed by id.
// Privacy settings (issue 18; set by whoever creates the application, changed by admins only):
// `dataClass` (none, pseudonymous, personal, sensitive; the older `personalData` is true for any
// class but none), `retention` (days per kind of data, null = the class's server default;
// `effectiveRetention` answers what is in force) and the record of processing (`purpose`,
// `legalBasis`, `dataCategories`, `recipients`). An application holding personal data cannot be
// published as open data, and its class cannot be raised from none while an open-data dataset
// covers it.
#include <algorithm>

#include "api/common.h"
#include "api/objects.h"
#include "api/open_data.h"
#include "api/org_limits.h"
#include "model/retention.h"
#include "store/decoder_store.h"

namespace bysans::api {
namespace {

constexpr size_t kMaxProcessingText = 2000;  // purpose, legalBasis, ...: short texts

// The retention object of a body: each member a number of days or null (the default).
Status ApplyRetention(const json& body, RetentionDays& r) {
  auto it = body.find("retention");
  if (it == body.end()) return Status::Ok();
  if (it->is_null()) {
    r = {};
    return Status::Ok();
  }
  if (!it->is_object()) return InvalidArgument("field 'retention' must be an object or null");
  BYSANS_RETURN_IF_ERROR(
      RejectUnknownFields(*it, {"rawMessagesDays", "readingsDays", "aggregatesDays"}));
  for (auto [name, days] : {std::pair{"rawMessagesDays", &r.raw_messages_days},
                            std::pair{"readingsDays", &r.readings_days},
                            std::pair{"aggregatesDays", &r.aggregates_days}}) {
    auto f = it->find(name);
    if (f == it->end()) continue;
    if (f->is_null()) {
      *days = std::nullopt;
    } else if (f->is_number_integer()) {
      int64_t v = f->get<int64_t>();
      if (v < kMinRetentionDays || v > kMaxRetentionDays) {
        return InvalidArgument(std::string("field 'retention.") + name + "' must be from " +
                               std::to_string(kMinRetentionDays) + " to " +
                               std::to_string(kMaxRetentionDays) + " days (or null)");
      }
      *days = static_cast<int>(v);
    } else {
      return InvalidArgument(std::string("field 'retention.") + name +
                             "' must be a whole number of days or null");
    }
  }
  return ValidateRetention(r, "retention.");
}

// `dataClass` and the older `personalData` (true = any class but none). Both given and
// disagreeing is a 400; `personalData: true` alone keeps a class that already holds personal
// data and makes `none` `personal`.
Status ApplyDataClass(const json& body, Application& a) {
  BYSANS_ASSIGN_OR_RETURN(auto cls_text, OptString(body, "dataClass"));
  BYSANS_ASSIGN_OR_RETURN(auto personal, OptBool(body, "personalData"));
  if (cls_text) {
    auto cls = ParseDataClass(*cls_text);
    if (!cls) {
      return InvalidArgument(
          "field 'dataClass' must be none, pseudonymous, personal or "
          "sensitive, not '" +
          *cls_text + "'");
    }
    if (personal && *personal != HoldsPersonalData(*cls)) {
      return InvalidArgument("fields 'dataClass' (" + *cls_text + ") and 'personalData' (" +
                             (*personal ? "true" : "false") +
                             ") disagree; personalData is true exactly when dataClass is not none "
                             "(send dataClass alone)");
    }
    a.data_class = *cls;
  } else if (personal && *personal != HoldsPersonalData(a.data_class)) {
    a.data_class = *personal ? DataClass::kPersonal : DataClass::kNone;
  }
  return Status::Ok();
}

// `personalMetadataKeys`: device metadata keys never passed to decoders, data targets, NGSI-LD,
// open data or the live stream (model.h StripPersonalMetadata).
Status ApplyPersonalKeys(const json& body, Application& a) {
  if (!body.contains("personalMetadataKeys")) return Status::Ok();
  const json& keys = body["personalMetadataKeys"];
  constexpr size_t kMaxKeys = 100, kMaxKeyBytes = 200;
  if (!keys.is_array() || keys.size() > kMaxKeys)
    return InvalidArgument("field 'personalMetadataKeys' must be an array of at most 100 keys");
  std::vector<std::string> out;
  for (const json& k : keys) {
    if (!k.is_string() || k.get<std::string>().empty() ||
        k.get<std::string>().size() > kMaxKeyBytes)
      return InvalidArgument(
          "field 'personalMetadataKeys' must hold non-empty strings (at most "
          "200 bytes)");
    if (std::find(out.begin(), out.end(), k.get<std::string>()) == out.end())
      out.push_back(k.get<std::string>());
  }
  a.personal_metadata_keys = std::move(out);
  return Status::Ok();
}

Status Apply(const json& body, Application& a) {
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(
      body, {"name", "description", "personalData", "dataClass", "retention", "purpose",
             "legalBasis", "dataCategories", "recipients", "personalMetadataKeys"}));
  BYSANS_ASSIGN_OR_RETURN(auto name, OptString(body, "name"));
  if (name) {
    if (name->empty()) return InvalidArgument("field 'name' must not be empty");
    a.name = *name;
  }
  BYSANS_ASSIGN_OR_RETURN(auto desc, OptString(body, "description"));
  if (desc) a.description = *desc;
  BYSANS_RETURN_IF_ERROR(ApplyDataClass(body, a));
  BYSANS_RETURN_IF_ERROR(ApplyRetention(body, a.retention));
  for (auto [field, text] :
       {std::pair{"purpose", &a.purpose}, std::pair{"legalBasis", &a.legal_basis},
        std::pair{"dataCategories", &a.data_categories}, std::pair{"recipients", &a.recipients}}) {
    BYSANS_ASSIGN_OR_RETURN(auto v, OptString(body, field));
    if (!v) continue;
    if (v->size() > kMaxProcessingText) {
      return InvalidArgument(std::string("field '") + field + "' must be at most " +
                             std::to_string(kMaxProcessingText) + " bytes");
    }
    *text = *v;
  }
  return ApplyPersonalKeys(body, a);
}

Status RequirePrivacyRole(const auth::Principal& p, Id org_id) {
  auto role = p.RoleIn(org_id);
  if (role && *role >= Role::kAdmin) return Status::Ok();
  return PermissionDenied(
      "only the organisation's admins change dataClass, personalData, retention, purpose, "
      "legalBasis, dataCategories, recipients or personalMetadataKeys");
}

// True when a change touches the privacy settings (data class, retention, record of
// processing): only the organisation's admins make it.
bool PrivacyChanged(const Application& before, const Application& after) {
  return before.data_class != after.data_class || before.retention != after.retention ||
         before.purpose != after.purpose || before.legal_basis != after.legal_basis ||
         before.data_categories != after.data_categories || before.recipients != after.recipients ||
         before.personal_metadata_keys != after.personal_metadata_keys;
}

// An application as answered: its own settings plus the retention in force.
json AppJson(ApiContext& ctx, const Application& a) {
  json j = ToJson(a);
  j["effectiveRetention"] = ToJson(EffectiveRetention(a, ctx.retention_defaults));
  return j;
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
  BYSANS_ASSIGN_OR_RETURN(LimitHold limit_hold, CheckApplicationLimit(ctx, o.id));
  BYSANS_ASSIGN_OR_RETURN(a, ctx.store.CreateApplication(a));
  Audit(ctx, p, req, a.org_id, "create", "application", std::to_string(a.id));
  return Json(201, AppJson(ctx, a));
}

Result<http::Response> List(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(OrgScope s, LoadOrganizationScope(ctx, p, org, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  json items = json::array();
  if (s.apps) {  // a member restricted to some applications: those, in id order
    const auto total = static_cast<int64_t>(s.apps->size());
    for (int64_t i = page.offset; i < total && i < page.offset + page.limit; ++i) {
      auto a = ctx.store.GetApplication((*s.apps)[static_cast<size_t>(i)]);
      if (a.ok() && a->org_id == s.org.id) items.push_back(AppJson(ctx, *a));
    }
    return PagedJson(std::move(items), total, page);
  }
  BYSANS_ASSIGN_OR_RETURN(auto apps, ctx.store.ListApplications(s.org.id, page));
  for (const Application& a : apps.items) items.push_back(AppJson(ctx, a));
  return PagedJson(std::move(items), apps.total, page);
}

Result<http::Response> Get(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "appId"));
  BYSANS_ASSIGN_OR_RETURN(Application a, LoadApplication(ctx, p, id, Role::kViewer));
  return Json(200, AppJson(ctx, a));
}

Result<http::Response> Patch(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "appId"));
  BYSANS_ASSIGN_OR_RETURN(Application a, LoadApplication(ctx, p, id, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  const Application before = a;
  BYSANS_RETURN_IF_ERROR(Apply(body, a));
  if (PrivacyChanged(before, a)) BYSANS_RETURN_IF_ERROR(RequirePrivacyRole(p, a.org_id));
  if (HoldsPersonalData(a.data_class) && !HoldsPersonalData(before.data_class)) {
    BYSANS_ASSIGN_OR_RETURN(std::optional<Id> dataset, DatasetCovering(ctx, a));
    if (dataset) {
      return FailedPrecondition("open-data dataset " + std::to_string(*dataset) +
                                " covers this application; remove it from the dataset (or delete "
                                "the dataset) before marking it as holding personal data");
    }
  }
  BYSANS_RETURN_IF_ERROR(ctx.store.UpdateApplication(a));
  // Decoders cache the device object they are given (decode/pipeline_decoder.h).
  if (before.personal_metadata_keys != a.personal_metadata_keys)
    ctx.store.decoders().InvalidateDecoders();
  Audit(ctx, p, req, a.org_id, "update", "application", std::to_string(a.id), body.dump());
  return Json(200, AppJson(ctx, a));
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
