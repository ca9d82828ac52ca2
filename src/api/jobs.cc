// Background jobs (re-decode): GET /api/v1/jobs/{id} → progress. A job is visible to viewers
// of its organisation; others get 404.
#include <memory>

#include "api/common.h"
#include "decode/redecode.h"

namespace bysans::api {

void RegisterJobRoutes(http::Router& router, ApiContext& ctx,
                       std::shared_ptr<decode::JobTable> jobs) {
  AddAuthed(router, ctx, "GET", "/api/v1/jobs/{id}", "Progress of a background job",
            [&ctx, jobs](http::Request& req, const auth::Principal& p) -> Result<http::Response> {
              BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
              auto j = jobs->Get(id);
              if (!j || !p.RoleIn(j->org_id))
                return NotFound("no job with id " + std::to_string(id));
              BYSANS_RETURN_IF_ERROR(auth::Require(p, j->org_id, Role::kViewer));
              return Json(200, {{"id", j->id},
                                {"orgId", j->org_id},
                                {"kind", j->kind},
                                {"state", j->state},
                                {"done", j->done},
                                {"total", j->total},
                                {"errors", j->errors},
                                {"error", j->error.empty() ? json(nullptr) : json(j->error)}});
            });
}

}  // namespace bysans::api
