// Background jobs (re-decode), persisted in the store: GET /api/v1/jobs/{id} → progress (also
// after a restart; a job that was running when the process died shows state "interrupted"),
// POST /api/v1/jobs/{id}/rerun → runs it again (editor; idempotent). A job is visible to
// viewers of its organisation; others get 404.
#include <functional>
#include <memory>

#include "api/common.h"
#include "decode/redecode.h"

namespace bysans::api {
namespace {

json JobJson(const decode::JobStatus& j) {
  return {{"id", j.id},         {"orgId", j.org_id},
          {"kind", j.kind},     {"state", j.state},
          {"done", j.done},     {"total", j.total},
          {"errors", j.errors}, {"error", j.error.empty() ? json(nullptr) : json(j.error)}};
}

Result<decode::JobStatus> LoadJob(decode::JobTable& jobs, http::Request& req,
                                  const auth::Principal& p, Role min) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  auto j = jobs.Get(id);
  if (!j || !p.RoleIn(j->org_id)) return NotFound("no job with id " + std::to_string(id));
  BYSANS_RETURN_IF_ERROR(auth::Require(p, j->org_id, min));
  return *j;
}

}  // namespace

void RegisterJobRoutes(http::Router& router, ApiContext& ctx,
                       const std::shared_ptr<decode::JobTable>& jobs,
                       const std::function<Status(const decode::JobStatus&)>& rerun) {
  AddAuthed(router, ctx, "GET", "/api/v1/jobs/{id}", "Progress of a background job",
            [jobs](http::Request& req, const auth::Principal& p) -> Result<http::Response> {
              BYSANS_ASSIGN_OR_RETURN(decode::JobStatus j, LoadJob(*jobs, req, p, Role::kViewer));
              return Json(200, JobJson(j));
            });
  AddAuthed(
      router, ctx, "POST", "/api/v1/jobs/{id}/rerun",
      "Run a finished, failed or interrupted job again (idempotent)",
      [&ctx, jobs, rerun](http::Request& req, const auth::Principal& p) -> Result<http::Response> {
        BYSANS_ASSIGN_OR_RETURN(decode::JobStatus j, LoadJob(*jobs, req, p, Role::kEditor));
        if (j.state == "queued" || j.state == "running")
          return FailedPrecondition("job " + std::to_string(j.id) + " is still " + j.state);
        BYSANS_RETURN_IF_ERROR(rerun(j));
        Audit(ctx, p, req, j.org_id, "rerun", "job", std::to_string(j.id), j.state);
        auto now = jobs->Get(j.id);
        return Json(202, JobJson(now ? *now : j));
      });
}

}  // namespace bysans::api
