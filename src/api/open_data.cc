// Open Data DK dataset definitions (issue 16): what an organisation publishes in its public
// DCAT catalogue (api/open_data_public.cc). Viewers read them, organisation admins write them.
// A dataset selects an application or devices of its own organisation only, never one holding
// personal data.
#include "api/open_data.h"

#include <algorithm>
#include <map>

#include "api/common.h"
#include "api/org_limits.h"
#include "core/time_format.h"
#include "opendata/dcat.h"
#include "opendata/metadata.h"

namespace bysans::api {

Status CheckDatasetSelection(ApiContext& ctx, const OpenDataset& d) {
  auto personal = [](Id app) {
    return InvalidArgument("application " + std::to_string(app) +
                           " holds personal data and cannot be published as open data");
  };
  if (d.app_id) {
    auto app = ctx.store.GetApplication(*d.app_id);
    if (!app.ok() && app.status().code() != Code::kNotFound) return app.status();
    if (!app.ok() || app->org_id != d.org_id) {
      return InvalidArgument("applicationId " + std::to_string(*d.app_id) +
                             " is not an application of this organisation");
    }
    if (HoldsPersonalData(app->data_class)) return personal(app->id);
    return Status::Ok();
  }
  std::map<Id, bool> personal_apps;
  for (Id id : d.device_ids) {
    auto dev = ctx.store.GetDevice(id);
    if (!dev.ok() && dev.status().code() != Code::kNotFound) return dev.status();
    if (!dev.ok() || dev->org_id != d.org_id) {
      return InvalidArgument("deviceIds: " + std::to_string(id) +
                             " is not a device of this organisation");
    }
    auto [it, added] = personal_apps.emplace(dev->app_id, false);
    if (added) {
      BYSANS_ASSIGN_OR_RETURN(Application app, ctx.store.GetApplication(dev->app_id));
      it->second = HoldsPersonalData(app.data_class);
    }
    if (it->second) return personal(dev->app_id);
  }
  return Status::Ok();
}

Result<std::vector<Device>> DatasetDevices(ApiContext& ctx, const OpenDataset& d) {
  std::vector<Device> out;
  std::map<Id, bool> shown_apps;  // application id → may be shown
  auto app_shown = [&](Id app_id) -> Result<bool> {
    auto it = shown_apps.find(app_id);
    if (it != shown_apps.end()) return it->second;
    auto app = ctx.store.GetApplication(app_id);
    if (!app.ok() && app.status().code() != Code::kNotFound) return app.status();
    bool shown = app.ok() && app->org_id == d.org_id && !HoldsPersonalData(app->data_class);
    shown_apps.emplace(app_id, shown);
    return shown;
  };
  if (d.app_id) {
    BYSANS_ASSIGN_OR_RETURN(bool shown, app_shown(*d.app_id));
    if (!shown) return out;
    Application app;
    app.id = *d.app_id;
    app.org_id = d.org_id;
    return DevicesOfApplication(ctx, app);
  }
  for (Id id : d.device_ids) {
    auto dev = ctx.store.GetDevice(id);
    if (!dev.ok()) {
      if (dev.status().code() == Code::kNotFound) continue;
      return dev.status();
    }
    if (dev->org_id != d.org_id) continue;
    BYSANS_ASSIGN_OR_RETURN(bool shown, app_shown(dev->app_id));
    if (shown) out.push_back(std::move(dev).value());
  }
  return out;
}

Result<std::optional<Id>> DatasetCovering(ApiContext& ctx, const Application& app) {
  BYSANS_ASSIGN_OR_RETURN(std::vector<OpenDataset> all,
                          ctx.store.open_data().ListDatasets(app.org_id, false));
  for (const OpenDataset& d : all) {
    if (d.app_id == app.id) return std::optional<Id>(d.id);
    for (Id id : d.device_ids) {
      auto dev = ctx.store.GetDevice(id);
      if (dev.ok() && dev->app_id == app.id) return std::optional<Id>(d.id);
    }
  }
  return std::optional<Id>();
}

namespace {

json DatasetToJson(const OpenDataset& d, std::string_view base_url) {
  const opendata::DatasetUrls urls = opendata::UrlsOf(base_url, d.org_id, d.id);
  return {{"id", d.id},
          {"orgId", d.org_id},
          {"applicationId", d.app_id ? json(*d.app_id) : json(nullptr)},
          {"deviceIds", d.device_ids},
          {"keys", d.keys},
          {"published", d.published},
          {"title", d.title},
          {"description", d.description},
          {"keywords", d.keywords},
          {"themes", d.themes},
          {"license", d.license},
          {"accrualPeriodicity", d.accrual_periodicity},
          {"contactName", d.contact_name},
          {"contactEmail", d.contact_email},
          {"documentationUrl", d.documentation_url},
          {"spatial", d.spatial},
          {"createdAt", FormatRfc3339(d.created_ms)},
          {"updatedAt", FormatRfc3339(d.updated_ms)},
          {"issuedAt", d.issued_ms ? json(FormatRfc3339(*d.issued_ms)) : json(nullptr)},
          {"urls",
           {{"latest", urls.latest},
            {"historyCsv", urls.history_csv},
            {"historyJson", urls.history_json}}}};
}

// A list of strings, nullopt when absent; kInvalidArgument naming the field otherwise.
Result<std::optional<std::vector<std::string>>> OptStrings(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::optional<std::vector<std::string>>();
  std::vector<std::string> out;
  bool ok = it->is_array() && it->size() <= 1000;
  for (size_t i = 0; ok && i < it->size(); ++i) {
    ok = (*it)[i].is_string();
    if (ok) out.push_back((*it)[i].get<std::string>());
  }
  if (!ok) return InvalidArgument("field '" + std::string(field) + "' must be a list of texts");
  return std::optional(std::move(out));
}

Status ApplyIds(const json& body, OpenDataset& d) {
  if (auto it = body.find("applicationId"); it != body.end()) {
    if (it->is_null()) {
      d.app_id.reset();
    } else if (it->is_number_integer() && it->get<int64_t>() > 0) {
      d.app_id = it->get<int64_t>();
    } else {
      return InvalidArgument("field 'applicationId' must be an application id or null");
    }
  }
  if (auto it = body.find("deviceIds"); it != body.end()) {
    d.device_ids.clear();
    if (!it->is_null()) {
      if (!it->is_array() || it->size() > kMaxDatasetDevices) {
        return InvalidArgument("field 'deviceIds' must be a list of at most " +
                               std::to_string(kMaxDatasetDevices) + " device ids");
      }
      for (const json& v : *it) {
        if (!v.is_number_integer() || v.get<int64_t>() <= 0) {
          return InvalidArgument("field 'deviceIds' must be a list of device ids");
        }
        d.device_ids.push_back(v.get<int64_t>());
      }
      std::sort(d.device_ids.begin(), d.device_ids.end());
      d.device_ids.erase(std::unique(d.device_ids.begin(), d.device_ids.end()), d.device_ids.end());
    }
  }
  if (d.app_id.has_value() == !d.device_ids.empty()) {
    return InvalidArgument("give either 'applicationId' or a non-empty 'deviceIds'");
  }
  return Status::Ok();
}

// Applies the fields of `body` to `d` (absent fields keep their value) and checks the result.
Status Apply(ApiContext& ctx, const json& body, OpenDataset& d) {
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(
      body, {"applicationId", "deviceIds", "keys", "published", "title", "description", "keywords",
             "themes", "license", "accrualPeriodicity", "contactName", "contactEmail",
             "documentationUrl", "spatial"}));
  BYSANS_RETURN_IF_ERROR(ApplyIds(body, d));
  const std::pair<const char*, std::string*> texts[] = {
      {"title", &d.title},
      {"description", &d.description},
      {"license", &d.license},
      {"accrualPeriodicity", &d.accrual_periodicity},
      {"contactName", &d.contact_name},
      {"contactEmail", &d.contact_email},
      {"documentationUrl", &d.documentation_url},
      {"spatial", &d.spatial}};
  for (const auto& [field, out] : texts) {
    BYSANS_ASSIGN_OR_RETURN(auto v, OptString(body, field));
    if (v) *out = std::move(*v);
  }
  const std::pair<const char*, std::vector<std::string>*> lists[] = {
      {"keys", &d.keys}, {"keywords", &d.keywords}, {"themes", &d.themes}};
  for (const auto& [field, out] : lists) {
    BYSANS_ASSIGN_OR_RETURN(auto v, OptStrings(body, field));
    if (v) *out = std::move(*v);
  }
  BYSANS_ASSIGN_OR_RETURN(auto published, OptBool(body, "published"));
  if (published) d.published = *published;
  BYSANS_RETURN_IF_ERROR(opendata::ValidateMetadata(d));
  BYSANS_RETURN_IF_ERROR(CheckDatasetSelection(ctx, d));
  const TimeMs now = ctx.clock.NowMs();
  d.updated_ms = now;
  if (d.published && !d.issued_ms) d.issued_ms = now;
  return Status::Ok();
}

Result<OpenDataset> LoadDataset(ApiContext& ctx, const http::Request& req, const auth::Principal& p,
                                Role min) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  auto d = ctx.store.open_data().GetDataset(id);
  Id org = d.ok() ? d->org_id : 0;
  return CheckObject(ctx, std::move(d), p, org, min, "dataset", id);
}

std::string BaseUrl(ApiContext& ctx) { return ctx.public_url; }

Result<http::Response> Create(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org, Role::kAdmin));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  OpenDataset d;
  d.org_id = o.id;
  d.accrual_periodicity = "irregular";
  d.created_ms = ctx.clock.NowMs();
  BYSANS_RETURN_IF_ERROR(Apply(ctx, body, d));
  BYSANS_ASSIGN_OR_RETURN(LimitHold limit_hold,
                          CheckDatasetLimit(ctx, o.id));  // the public catalog lists them whole
  BYSANS_ASSIGN_OR_RETURN(d, ctx.store.open_data().CreateDataset(d));
  Audit(ctx, p, req, d.org_id, "create", "open_dataset", std::to_string(d.id), d.title);
  return Json(201, DatasetToJson(d, BaseUrl(ctx)));
}

Result<http::Response> List(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(auto all, ctx.store.open_data().ListDatasets(o.id, false));
  json items = json::array();
  for (const OpenDataset& d : all) items.push_back(DatasetToJson(d, BaseUrl(ctx)));
  return Json(200, json{{"items", std::move(items)}, {"total", all.size()}});
}

Result<http::Response> Get(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(OpenDataset d, LoadDataset(ctx, req, p, Role::kViewer));
  return Json(200, DatasetToJson(d, BaseUrl(ctx)));
}

Result<http::Response> Put(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(OpenDataset d, LoadDataset(ctx, req, p, Role::kAdmin));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(Apply(ctx, body, d));
  BYSANS_RETURN_IF_ERROR(ctx.store.open_data().UpdateDataset(d));
  Audit(ctx, p, req, d.org_id, "update", "open_dataset", std::to_string(d.id), body.dump());
  return Json(200, DatasetToJson(d, BaseUrl(ctx)));
}

Result<http::Response> Delete(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(OpenDataset d, LoadDataset(ctx, req, p, Role::kAdmin));
  BYSANS_RETURN_IF_ERROR(ctx.store.open_data().DeleteDataset(d.id));
  Audit(ctx, p, req, d.org_id, "delete", "open_dataset", std::to_string(d.id), d.title);
  return NoContent();
}

}  // namespace

void RegisterOpenDataRoutes(http::Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  const std::string list = "/api/v1/organizations/{orgId}/open-data/datasets";
  const std::string one = "/api/v1/open-data/datasets/{id}";
  AddAuthed(router, ctx, "POST", list, "Create an Open Data DK dataset (organisation admins)",
            bind(Create));
  AddAuthed(router, ctx, "GET", list, "Open Data DK datasets of an organisation", bind(List));
  AddAuthed(router, ctx, "GET", one, "One Open Data DK dataset", bind(Get));
  AddAuthed(router, ctx, "PUT", one, "Change the given fields of an Open Data DK dataset",
            bind(Put));
  AddAuthed(router, ctx, "DELETE", one, "Delete an Open Data DK dataset", bind(Delete));
}

}  // namespace bysans::api
