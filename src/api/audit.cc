// GET /api/v1/audit?orgId= : org admins read their organisation's log;
// global admins read one organisation's or, without orgId, everything.
#include <cstdlib>

#include "api/common.h"
#include "api/objects.h"

namespace bysans::api {
namespace {

Result<http::Response> List(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  std::optional<Id> org;
  const std::string* s = req.Query("orgId");
  if (s && !s->empty()) {
    char* end = nullptr;
    long long v = std::strtoll(s->c_str(), &end, 10);
    if (end != s->c_str() + s->size() || v <= 0)
      return InvalidArgument("parameter 'orgId' must be a positive id");
    BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, v, Role::kAdmin));
    org = o.id;
  } else if (!p.global_admin) {
    return InvalidArgument("parameter 'orgId' is required (only global admins read every log)");
  }
  BYSANS_ASSIGN_OR_RETURN(auto entries, ctx.store.ListAudit(org, page));
  return PagedJson(ToJsonArray(entries.items), entries.total, page);
}

}  // namespace

void RegisterAuditRoutes(http::Router& router, ApiContext& ctx) {
  AddAuthed(router, ctx, "GET", "/api/v1/audit", "The audit log (?orgId=)",
            [&ctx](http::Request& req, const auth::Principal& p) { return List(ctx, req, p); });
}

}  // namespace bysans::api
