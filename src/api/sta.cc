// OGC SensorThings API 1.1, read side (sta/README.md): GET /sta/v1.1 (the service root, no
// login: it holds no data) and GET /sta/v1.1/<resource path>?<query options> for the same
// principals as the REST API. A caller sees the entities of the organisations it has a role in
// (any role; a global admin every organisation); anything else answers 404.
#include "api/common.h"
#include "sta/catalog.h"
#include "sta/service.h"

namespace bysans::api {
namespace {

constexpr std::string_view kRoot = "/sta/v1.1";

Result<std::vector<Id>> VisibleOrganizations(ApiContext& ctx, const auth::Principal& p) {
  std::vector<Id> out;
  if (!p.global_admin) {
    for (const auto& [org, role] : p.roles)
      if (role >= Role::kViewer) out.push_back(org);
    return out;
  }
  for (Page page{10'000, 0};; page.offset += page.limit) {
    BYSANS_ASSIGN_OR_RETURN(Paged<Organization> got, ctx.store.ListOrganizations(page));
    for (const Organization& o : got.items) out.push_back(o.id);
    if (got.items.empty() || static_cast<int64_t>(out.size()) >= got.total) break;
  }
  return out;
}

Result<http::Response> Resource(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  sta::ServeRequest sr;
  // The raw target keeps the percent-encoding the query library decodes itself.
  std::string_view target = req.target;
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) sr.raw_query = std::string(target.substr(q + 1));
  if (path.rfind(kRoot, 0) == 0) path.remove_prefix(kRoot.size());
  sr.path = std::string(path);
  sr.base = BaseUrl(ctx, req) + std::string(kRoot);
  sr.now_ms = ctx.clock.NowMs();
  BYSANS_ASSIGN_OR_RETURN(std::vector<Id> orgs, VisibleOrganizations(ctx, p));
  sta::Catalog catalog(ctx.store, std::move(orgs));
  BYSANS_RETURN_IF_ERROR(catalog.Load());
  BYSANS_ASSIGN_OR_RETURN(sta::ServeReply reply, sta::Serve(catalog, sr));
  http::Response r;
  r.status = reply.status;
  if (!reply.content_type.empty()) r.headers.Set("Content-Type", reply.content_type);
  r.body = std::move(reply.body);
  return r;
}

}  // namespace

void RegisterStaRoutes(http::Router& router, ApiContext& ctx) {
  AddPublic(router, "GET", std::string(kRoot),
            "SensorThings API 1.1 service root: entity sets and conformance classes",
            [&ctx](http::Request& req) -> Result<http::Response> {
              return Json(200, sta::ServiceRoot(BaseUrl(ctx, req) + std::string(kRoot)));
            });
  AddAuthed(router, ctx, "GET", std::string(kRoot) + "/{*path}",
            "SensorThings API 1.1 resources (Things, Datastreams, Observations, ...) with $filter, "
            "$expand, $select, $orderby, $top, $skip, $count, $resultFormat=dataArray",
            [&ctx](http::Request& req, const auth::Principal& p) { return Resource(ctx, req, p); });
}

}  // namespace bysans::api
