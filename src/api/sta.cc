// OGC SensorThings API 1.1, read side (sta/README.md): GET /sta/v1.1 (the service root, no
// login: it holds no data) and GET /sta/v1.1/<resource path>?<query options> for the same
// principals as the REST API. A caller sees the entities of the organisations it has a role in
// (any role; a global admin every organisation; a member restricted to some applications, those
// applications, their devices and the device models they use); anything else answers 404.
// A published open-data dataset is also served without login under its own root,
// /sta/open/{orgId}/datasets/{id}/v1.1: only its devices and keys (api/open_data.h).
#include <set>

#include "api/common.h"
#include "api/open_data.h"
#include "api/privacy_audit.h"
#include "sta/catalog.h"
#include "sta/service.h"

namespace bysans::api {
namespace {

constexpr std::string_view kRoot = "/sta/v1.1";

// The organisations the caller sees; `scopes` gets those where they see some applications only.
Result<std::vector<Id>> VisibleOrganizations(ApiContext& ctx, const auth::Principal& p,
                                             sta::AppScopes& scopes) {
  std::vector<Id> out;
  if (!p.global_admin) {
    for (const auto& [org, role] : p.roles) {
      if (role < Role::kViewer) continue;
      out.push_back(org);
      if (const std::set<Id>* apps = p.ScopeIn(org)) scopes.emplace(org, *apps);
    }
    return out;
  }
  for (Page page{10'000, 0};; page.offset += page.limit) {
    BYSANS_ASSIGN_OR_RETURN(Paged<Organization> got, ctx.store.ListOrganizations(page));
    for (const Organization& o : got.items) out.push_back(o.id);
    if (got.items.empty() || static_cast<int64_t>(out.size()) >= got.total) break;
  }
  return out;
}

// The service root of a request: "/sta/v1.1", or a dataset's "/sta/open/3/datasets/9/v1.1".
std::string RootOf(const http::Request& req) {
  std::string_view path = req.target;
  path = path.substr(0, path.find('?'));
  size_t v = path.find("/v1.1");
  return std::string(path.substr(0, v == std::string_view::npos ? 0 : v + 5));
}

// Answers the request's resource path under its root from `catalog`.
Result<http::Response> Answer(ApiContext& ctx, const http::Request& req, sta::Catalog& catalog) {
  sta::ServeRequest sr;
  // The raw target keeps the percent-encoding the query library decodes itself.
  std::string_view target = req.target;
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) sr.raw_query = std::string(target.substr(q + 1));
  const std::string root = RootOf(req);
  path.remove_prefix(std::min(root.size(), path.size()));
  sr.path = std::string(path);
  sr.base = BaseUrl(ctx, req) + root;
  sr.now_ms = ctx.clock.NowMs();
  BYSANS_ASSIGN_OR_RETURN(sta::ServeReply reply, sta::Serve(catalog, sr));
  http::Response r;
  r.status = reply.status;
  if (!reply.content_type.empty()) r.headers.Set("Content-Type", reply.content_type);
  r.body = std::move(reply.body);
  return r;
}

Result<http::Response> Resource(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  sta::AppScopes scopes;
  BYSANS_ASSIGN_OR_RETURN(std::vector<Id> orgs, VisibleOrganizations(ctx, p, scopes));
  sta::Catalog catalog(ctx.store, std::move(orgs), std::move(scopes));
  std::set<Id> read;  // devices whose Observations the answer reads
  catalog.set_observation_hook([&read](Id device_id) { read.insert(device_id); });
  auto answer = Answer(ctx, req, catalog);
  for (Id id : read) {
    const Device* d = catalog.device(id);
    const Application* app = d ? catalog.application(d->app_id) : nullptr;
    if (app)
      AuditPersonalRead(ctx, p, req, d->org_id, "device", d->id, app->data_class, "observations");
  }
  return answer;
}

// A published dataset's devices and keys, no login; anything else is the dataset's one 404.
Result<http::Response> OpenResource(ApiContext& ctx, http::Request& req) {
  BYSANS_ASSIGN_OR_RETURN(OpenDataset d, LoadPublishedDataset(ctx, req));
  sta::PublicScope scope;
  BYSANS_ASSIGN_OR_RETURN(scope.devices, DatasetDevices(ctx, d));
  scope.keys = d.keys;
  sta::Catalog catalog(ctx.store, std::move(scope));
  return Answer(ctx, req, catalog);
}

// SensorThings over MQTT (server/sta_mqtt.h), when bysans runs the broker: the class in
// serverSettings.conformance and its endpoint under the class's name (OGC 18-088 9.2.1).
void AddMqttSettings(const ApiContext& ctx, nlohmann::json& root) {
  if (ctx.sta_mqtt_url.empty()) return;
  const std::string cls =
      "http://www.opengis.net/spec/iot_sensing/1.1/req/create-observations-via-mqtt/"
      "observations-creation";
  nlohmann::json& settings = root["serverSettings"];
  settings["conformance"].push_back(cls);
  settings[cls] = {{"endpoints", {ctx.sta_mqtt_url}}};
}

}  // namespace

void RegisterStaRoutes(http::Router& router, ApiContext& ctx) {
  AddPublic(router, "GET", std::string(kRoot),
            "SensorThings API 1.1 service root: entity sets and conformance classes",
            [&ctx](http::Request& req) -> Result<http::Response> {
              nlohmann::json root = sta::ServiceRoot(BaseUrl(ctx, req) + std::string(kRoot));
              AddMqttSettings(ctx, root);
              return Json(200, root);
            });
  AddAuthed(router, ctx, "GET", std::string(kRoot) + "/{*path}",
            "SensorThings API 1.1 resources (Things, Datastreams, Observations, ...) with $filter, "
            "$expand, $select, $orderby, $top, $skip, $count, $resultFormat=dataArray",
            [&ctx](http::Request& req, const auth::Principal& p) { return Resource(ctx, req, p); });
  const std::string open = "/sta/open/{orgId}/datasets/{id}/v1.1";
  AddPublic(router, "GET", open,
            "SensorThings API 1.1 service root of a published open-data dataset; no login",
            [&ctx](http::Request& req) -> Result<http::Response> {
              BYSANS_RETURN_IF_ERROR(LoadPublishedDataset(ctx, req).status());
              return Json(200, sta::ServiceRoot(BaseUrl(ctx, req) + RootOf(req)));
            });
  AddPublic(router, "GET", open + "/{*path}",
            "SensorThings API 1.1 resources of a published open-data dataset (its devices and "
            "keys only); no login",
            [&ctx](http::Request& req) { return OpenResource(ctx, req); });
}

}  // namespace bysans::api
