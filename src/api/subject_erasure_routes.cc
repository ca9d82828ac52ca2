// "Erase a data subject" over the API (issue 18; the work is api/subject_erasure.h):
//   POST /api/v1/organizations/{orgId}/subject-erasures          org admin: start a job, or with
//        "dryRun": true answer the devices and counts at once without removing anything
//   GET  /api/v1/organizations/{orgId}/subject-erasures          org admin: the jobs, newest first
//   GET  /api/v1/organizations/{orgId}/subject-erasures/{jobId}  org admin: one job and its report
// Jobs live in the store (migration 24) and run one after the other on one thread; queued and
// running jobs resume after a restart (the devices are chosen once, when the job starts, and
// the report records each device as it is done). Start, dry run and finish are audited.
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "api/subject_erasure.h"
#include "core/thread_name.h"
#include "core/time_format.h"
#include "store/subject_erasure_store.h"

namespace bysans::api {
namespace {

json JobJson(const SubjectErasureJob& j) {
  json request = json::parse(j.request_json, nullptr, false);
  json report = json::parse(j.report_json, nullptr, false);
  return {{"id", j.id},
          {"orgId", j.org_id},
          {"state", j.state},
          {"request", request.is_discarded() ? json(nullptr) : request},
          {"report", report.is_discarded() ? json(nullptr) : report},
          {"error", j.error.empty() ? json(nullptr) : json(j.error)},
          {"requestedBy", j.requested_by},
          {"createdAt", FormatRfc3339(j.created_ms)},
          {"updatedAt", FormatRfc3339(j.updated_ms)}};
}

// The thread that works off the jobs.
class SubjectEraser {
 public:
  explicit SubjectEraser(ApiContext& ctx) : ctx_(ctx), thread_([this] { Loop(); }) {}
  ~SubjectEraser() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    stopping_ = true;
    cv_.notify_all();
    thread_.join();
  }
  SubjectEraser(const SubjectEraser&) = delete;
  SubjectEraser& operator=(const SubjectEraser&) = delete;

  void Wake() {
    {
      std::lock_guard lk(mu_);
      wake_ = true;
    }
    cv_.notify_all();
  }

 private:
  void Loop() {
    NameThisThread("subject-eraser");
    std::unique_lock lk(mu_);
    while (!stop_) {
      wake_ = false;
      lk.unlock();
      RunUnfinished();
      lk.lock();
      cv_.wait_for(lk, std::chrono::minutes(1), [this] { return stop_ || wake_; });
    }
  }

  void RunUnfinished() {
    auto jobs = ctx_.store.subject_erasures().UnfinishedSubjectErasures();
    if (!jobs.ok()) {
      spdlog::warn("subject erasure: listing jobs: {}", jobs.status().message());
      return;
    }
    for (SubjectErasureJob& job : *jobs) {
      if (stopping_.load()) return;
      Status st = Run(job);
      if (stopping_.load()) return;  // interrupted: resumed at the next start
      if (!st.ok()) Finish(job, st);
    }
  }

  Status Save(SubjectErasureJob& job, json& report, const std::vector<SubjectDeviceReport>& ds) {
    json summary = SubjectReportJson(ds);
    report["devices"] = summary["devices"];
    report["totals"] = summary["totals"];
    job.report_json = report.dump();
    return ctx_.store.subject_erasures().UpdateSubjectErasure(job);
  }

  Status Run(SubjectErasureJob& job) {
    SubjectErasureStore& jobs = ctx_.store.subject_erasures();
    json request = json::parse(job.request_json, nullptr, false);
    if (request.is_discarded()) return Internal("the job's request is not JSON");
    BYSANS_ASSIGN_OR_RETURN(SubjectErasureRequest r, ParseSubjectErasureRequest(request));
    json report = json::parse(job.report_json.empty() ? "{}" : job.report_json, nullptr, false);
    if (!report.is_object()) report = json::object();
    std::vector<SubjectDeviceReport> devices;
    if (report.contains("devices") && report["devices"].is_array()) {  // resumed
      for (const json& d : report["devices"]) devices.push_back(SubjectDeviceReportFrom(d));
    } else {  // the devices are chosen once, now
      BYSANS_ASSIGN_OR_RETURN(std::vector<Device> matched,
                              MatchSubjectDevices(ctx_.store, job.org_id, r.selector));
      for (const Device& d : matched) devices.push_back({.id = d.id, .name = d.name});
      report["range"] = {{"from", request.value("from", json(nullptr))},
                         {"to", request.value("to", json(nullptr))}};
      report["requestedBy"] = job.requested_by;
      report["requestedAt"] = FormatRfc3339(job.created_ms);
      report["startedAt"] = FormatRfc3339(ctx_.clock.NowMs());
    }
    job.state = "running";
    BYSANS_RETURN_IF_ERROR(Save(job, report, devices));
    for (SubjectDeviceReport& entry : devices) {
      if (entry.done) continue;
      auto device = ctx_.store.GetDevice(entry.id);
      if (!device.ok() && device.status().code() != Code::kNotFound) return device.status();
      if (device.ok() && device->org_id == job.org_id) {
        BYSANS_ASSIGN_OR_RETURN(SubjectDeviceReport done,
                                EraseSubjectDevice(ctx_.store, *device, r.from, r.to, false,
                                                   r.delete_devices, stopping_));
        // Counts of an earlier, interrupted pass over this device add up.
        done.readings += entry.readings;
        done.raw_messages += entry.raw_messages;
        entry = done;
      }
      entry.done = true;  // a device deleted meanwhile: its deletion erased it
      BYSANS_RETURN_IF_ERROR(Save(job, report, devices));
    }
    BYSANS_RETURN_IF_ERROR(jobs.ScrubFiles());  // nothing left in the file or the WAL
    report["finishedAt"] = FormatRfc3339(ctx_.clock.NowMs());
    Finish(job, Status::Ok(), &report, &devices);
    return Status::Ok();
  }

  void Finish(SubjectErasureJob& job, const Status& st, json* report = nullptr,
              const std::vector<SubjectDeviceReport>* devices = nullptr) {
    job.state = st.ok() ? "done" : "failed";
    job.error = st.ok() ? "" : st.message();
    json totals = nullptr;
    if (report && devices) {
      (void)Save(job, *report, *devices);
      totals = (*report)["totals"];
    } else if (Status saved = ctx_.store.subject_erasures().UpdateSubjectErasure(job);
               !saved.ok()) {
      spdlog::warn("subject erasure {}: {}", job.id, saved.message());
    }
    if (!st.ok()) spdlog::warn("subject erasure {} failed: {}", job.id, st.message());
    AuditEntry e;
    e.org_id = job.org_id;
    e.user_id = job.user_id;
    e.api_key_id = job.api_key_id;
    e.action = st.ok() ? "subject-erasure-done" : "subject-erasure-failed";
    e.object_type = "subject_erasure";
    e.object_id = std::to_string(job.id);
    e.detail = json{{"requestedBy", job.requested_by},
                    {"totals", totals},
                    {"error", st.ok() ? json(nullptr) : json(st.message())}}
                   .dump();
    e.ts = ctx_.clock.NowMs();
    if (Status a = ctx_.store.AppendAudit(std::move(e)); !a.ok())
      spdlog::warn("subject erasure {}: audit: {}", job.id, a.message());
  }

  ApiContext& ctx_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool wake_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// A dry run: the devices and what would go, at once.
Result<json> DryRun(ApiContext& ctx, Id org_id, const SubjectErasureRequest& r) {
  BYSANS_ASSIGN_OR_RETURN(std::vector<Device> matched,
                          MatchSubjectDevices(ctx.store, org_id, r.selector));
  std::vector<SubjectDeviceReport> devices;
  const std::atomic<bool> never{false};
  for (const Device& d : matched) {
    BYSANS_ASSIGN_OR_RETURN(SubjectDeviceReport one,
                            EraseSubjectDevice(ctx.store, d, r.from, r.to, true, false, never));
    devices.push_back(std::move(one));
  }
  json out = SubjectReportJson(devices);
  out["dryRun"] = true;
  out["request"] = SubjectErasureRequestJson(r);
  return out;
}

}  // namespace

void RegisterSubjectErasureRoutes(http::Router& router, ApiContext& ctx) {
  auto eraser = std::make_shared<SubjectEraser>(ctx);
  const std::string base = "/api/v1/organizations/{orgId}/subject-erasures";
  AddAuthed(
      router, ctx, "POST", base,
      "Erase a data subject: the data of the organisation's devices with a tag or metadata value "
      "in a time range (org admin; a background job, or a dry run)",
      [&ctx, eraser](http::Request& req, const auth::Principal& p) -> Result<http::Response> {
        BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
        BYSANS_RETURN_IF_ERROR(LoadOrganization(ctx, p, org_id, Role::kAdmin).status());
        BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
        BYSANS_ASSIGN_OR_RETURN(SubjectErasureRequest r, ParseSubjectErasureRequest(body));
        const json request = SubjectErasureRequestJson(r);
        if (r.dry_run) {
          BYSANS_ASSIGN_OR_RETURN(json out, DryRun(ctx, org_id, r));
          Audit(ctx, p, req, org_id, "subject-erasure-dry-run", "organization",
                std::to_string(org_id),
                json{{"request", request}, {"totals", out["totals"]}}.dump());
          return Json(200, out);
        }
        SubjectErasureJob job;
        job.org_id = org_id;
        job.request_json = request.dump();
        job.user_id = p.user_id;
        job.api_key_id = p.api_key_id;
        job.requested_by = p.name;
        BYSANS_ASSIGN_OR_RETURN(job, ctx.store.subject_erasures().CreateSubjectErasure(job));
        Audit(ctx, p, req, org_id, "subject-erasure-start", "subject_erasure",
              std::to_string(job.id), request.dump());
        eraser->Wake();
        return Json(202, JobJson(job));
      });
  AddAuthed(router, ctx, "GET", base, "The organisation's data subject erasures (org admin)",
            [&ctx](http::Request& req, const auth::Principal& p) -> Result<http::Response> {
              BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
              BYSANS_RETURN_IF_ERROR(LoadOrganization(ctx, p, org_id, Role::kAdmin).status());
              BYSANS_ASSIGN_OR_RETURN(auto jobs,
                                      ctx.store.subject_erasures().ListSubjectErasures(org_id));
              json items = json::array();
              for (const SubjectErasureJob& j : jobs) items.push_back(JobJson(j));
              return Json(200, {{"items", std::move(items)}});
            });
  AddAuthed(router, ctx, "GET", base + "/{jobId}",
            "One data subject erasure with its report (org admin)",
            [&ctx](http::Request& req, const auth::Principal& p) -> Result<http::Response> {
              BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
              BYSANS_RETURN_IF_ERROR(LoadOrganization(ctx, p, org_id, Role::kAdmin).status());
              BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "jobId"));
              auto job = ctx.store.subject_erasures().GetSubjectErasure(id);
              if (!job.ok() || job->org_id != org_id)
                return NotFound("no subject erasure with id " + std::to_string(id));
              return Json(200, JobJson(*job));
            });
}

}  // namespace bysans::api
