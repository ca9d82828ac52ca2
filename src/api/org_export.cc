// Export and import of an organisation over the API (archive/README.md):
//   POST   /api/v1/organizations/{orgId}/export                 org admin: a background job
//   GET    /api/v1/organizations/{orgId}/exports                org admin: its archives
//   GET    /api/v1/organizations/{orgId}/exports/{jobId}/archive org admin: the archive
//   DELETE /api/v1/organizations/{orgId}/exports/{jobId}        org admin
//   POST   /api/v1/organizations/import                         global admin
//          ({"archive": base64 of an archive, "name": optional}; the CLI for larger ones)
// Progress: GET /api/v1/jobs/{id} (api/jobs.cc, kind "export"). Archives are kept under
// <data_dir>/exports for ApiContext::export_keep_ms, then deleted. Every start, download, delete
// and import is audited (who, when, from which address). Import is for global admins only: it
// creates an organisation, which only they may do (api/organizations.cc).
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "api/common.h"
#include "archive/export.h"
#include "archive/import.h"
#include "archive/snapshot.h"
#include "core/encoding.h"
#include "core/json_depth.h"
#include "decode/redecode.h"

namespace bysans::api {
namespace {

namespace fs = std::filesystem;

constexpr size_t kImportBodyLimit = size_t{256} << 20;
constexpr size_t kDownloadChunk = size_t{8} << 20;

// One worker thread running exports and imports in order, and the sweep of old archives.
class ExportApi {
 public:
  explicit ExportApi(ApiContext& ctx)
      : ctx_(ctx),
        jobs_(ctx.store.decoders(), ctx.clock, ctx.node_holder),
        thread_([this] { Loop(); }) {}
  ~ExportApi() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cancel_ = true;
    cv_.notify_all();
    thread_.join();
  }
  ExportApi(const ExportApi&) = delete;
  ExportApi& operator=(const ExportApi&) = delete;

  decode::JobTable& jobs() { return jobs_; }
  fs::path Dir() const { return fs::path(ctx_.data_dir) / "exports"; }
  fs::path ArchivePath(Id org, Id job) const {
    return Dir() / ("org-" + std::to_string(org) + "-job-" + std::to_string(job) + ".tar");
  }

  void Post(std::function<void()> task) {
    {
      std::lock_guard lk(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_all();
  }

  void RunExport(Id org, Id job) {
    jobs_.Update(job, [](decode::JobStatus& s) { s.state = "running"; });
    archive::ExportOptions opts;
    TimeMs last = 0;
    opts.progress = [&](int64_t done, int64_t total) {
      const TimeMs now = ctx_.clock.NowMs();
      if (now - last < 1000 && done < total) return;
      last = now;
      jobs_.Update(job, [&](decode::JobStatus& s) {
        s.done = done;
        s.total = total;
      });
    };
    const std::string out = ArchivePath(org, job).string();
    Result<archive::ExportSummary> r = Status::Ok();
    if (ctx_.store.leases().shared()) {
      // PostgreSQL (a store other processes share): read from the live database; rows written
      // while the export runs may or may not be in it (src/archive/README.md).
      r = archive::ExportOrganization(ctx_.store, ctx_.clock, org, out, opts, cancel_);
    } else {
      // SQLite: from a copy taken in one read transaction, so the archive is consistent.
      const fs::path db = fs::path(ctx_.data_dir) / "bysans.db";
      const fs::path scratch = Dir() / (".snapshot-" + std::to_string(job));
      r = archive::ExportFromDatabase(db.string(), scratch.string(), ctx_.clock, org, out, opts,
                                      cancel_);
    }
    jobs_.Update(job, [&](decode::JobStatus& s) {
      if (r.ok()) {
        s.state = "done";
        s.done = s.total = r->devices;
      } else {
        s.state = cancel_.load() ? "cancelled" : "failed";
        s.error = r.status().message();
      }
    });
    if (!r.ok()) spdlog::warn("export job {}: {}", job, r.status().message());
  }

  std::atomic<bool>& cancel() { return cancel_; }

 private:
  // Archives older than export_keep_ms go (checked at start and every hour).
  void Sweep() {
    if (ctx_.data_dir.empty()) return;
    std::error_code ec;
    const auto now = fs::file_time_type::clock::now();
    for (const auto& e : fs::directory_iterator(Dir(), ec)) {
      if (e.path().extension() != ".tar") continue;
      const auto age = now - e.last_write_time(ec);
      if (!ec && std::chrono::duration_cast<std::chrono::milliseconds>(age).count() >
                     ctx_.export_keep_ms) {
        fs::remove(e.path(), ec);
        spdlog::info("exports: deleted {} (older than the retention)", e.path().string());
      }
    }
  }

  // What an export or import killed mid-way left (a .partial archive, its spool, a database
  // copy, an upload): nothing runs yet when the thread starts, so everything but archives goes.
  void RemoveLeftovers() {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(Dir(), ec)) {
      if (e.path().extension() != ".tar") fs::remove_all(e.path(), ec);
    }
    fs::remove_all(fs::path(ctx_.data_dir) / "imports", ec);
  }

  void Loop() {
    if (!ctx_.data_dir.empty()) RemoveLeftovers();
    std::unique_lock lk(mu_);
    while (true) {
      lk.unlock();
      Sweep();
      lk.lock();
      cv_.wait_for(lk, std::chrono::hours(1), [this] { return stop_ || !tasks_.empty(); });
      while (!tasks_.empty()) {
        auto task = std::move(tasks_.front());
        tasks_.pop_front();
        lk.unlock();
        task();
        lk.lock();
      }
      if (stop_) return;
    }
  }

  ApiContext& ctx_;
  decode::JobTable jobs_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::atomic<bool> cancel_{false};
  std::thread thread_;
};

Status NeedDataDir(const ApiContext& ctx) {
  return ctx.data_dir.empty() ? Unavailable("exports need the server's data directory")
                              : Status::Ok();
}

// The export job of the organisation named in the path (404 for any other job).
Result<decode::JobStatus> LoadExportJob(ApiContext& ctx, ExportApi& api, http::Request& req,
                                        const auth::Principal& p, Id org) {
  BYSANS_RETURN_IF_ERROR(RequireRole(ctx, p, org, Role::kAdmin, "organization", org));
  BYSANS_ASSIGN_OR_RETURN(Id job, IdParam(req, "jobId"));
  auto j = api.jobs().Get(job);
  if (!j || j->org_id != org || j->kind != "export")
    return NotFound("no export with id " + std::to_string(job));
  return *j;
}

json ReportJson(const archive::ImportReport& r) {
  return {{"orgId", r.org_id},
          {"name", r.org_name},
          {"applications", r.applications},
          {"devices", r.devices},
          {"deviceModels", r.device_models},
          {"decoders", r.decoders},
          {"rules", r.rules},
          {"dataTargets", r.data_targets},
          {"integrations", r.integrations},
          {"invitations", r.invitations},
          {"readings", r.readings},
          {"rawMessages", r.raw_messages},
          {"silences", r.silences},
          {"alarms", r.alarms},
          {"notes", r.notes}};
}

void StartImport(ApiContext& ctx, const std::shared_ptr<ExportApi>& api, http::Request& req,
                 const http::Responder& respond) {
  WithPrincipal(ctx, req, respond, [&](const auth::Principal& p) {
    Status st = auth::RequireGlobalAdmin(p);
    if (st.ok()) st = NeedDataDir(ctx);
    if (!st.ok()) return respond(http::ErrorResponse(st));
    // {"archive": "<base64 of the archive file>", "name": "new organisation name"}: JSON, so a
    // browser session needs the same CSRF-proof request as every other write.
    if (Status depth = CheckJsonDepth(req.body); !depth.ok())
      return respond(http::ErrorResponse(depth));
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("archive") ||
        !body["archive"].is_string() || (body.contains("name") && !body["name"].is_string())) {
      return respond(http::ErrorResponse(InvalidArgument(
          "send {\"archive\": \"<the archive, base64>\", \"name\": \"<optional new name>\"}")));
    }
    auto bytes = DecodeBase64(body["archive"].get<std::string>());
    if (!bytes.ok())
      return respond(http::ErrorResponse(InvalidArgument("field \"archive\": not base64")));
    const fs::path dir = fs::path(ctx.data_dir) / "imports";
    std::error_code ec;
    fs::create_directories(dir, ec);
    uint64_t nonce = 0;
    ctx.random.Fill(&nonce, sizeof nonce);
    const fs::path upload = dir / ("upload-" + std::to_string(nonce) + ".tar");
    std::FILE* f = std::fopen(upload.c_str(), "wb");
    const bool written = f && std::fwrite(bytes->data(), 1, bytes->size(), f) == bytes->size();
    if (f) std::fclose(f);
    if (!written) {
      fs::remove(upload, ec);
      return respond(http::ErrorResponse(Internal("cannot store the upload")));
    }
    archive::ImportOptions opts;
    opts.org_name = body.value("name", "");
    opts.invited_by = p.user_id.value_or(0);
    // The audit entry names the caller and address; the worker answers when it is done.
    auto audit_req = std::make_shared<http::Request>();
    audit_req->remote_addr = req.remote_addr;
    audit_req->headers = req.headers;
    api->Post([&ctx, api = api.get(), upload, opts, p, audit_req, respond] {
      auto r = archive::ImportArchive(ctx.store, ctx.clock, upload.string(), opts, api->cancel());
      std::error_code e;
      fs::remove(upload, e);
      if (!r.ok()) return respond(http::ErrorResponse(r.status()));
      Audit(ctx, p, *audit_req, r->org_id, "import", "organization", std::to_string(r->org_id),
            json{{"readings", r->readings}, {"devices", r->devices}}.dump());
      respond(Json(201, ReportJson(*r)));
    });
  });
}

}  // namespace

void RegisterOrgExportRoutes(http::Router& router, ApiContext& ctx) {
  auto api = std::make_shared<ExportApi>(ctx);
  const std::string org = "/api/v1/organizations/{orgId}";
  AddAuthed(router, ctx, "POST", org + "/export",
            "Export the organisation into one archive (org admin; background job)",
            [&ctx, api](http::Request& req, const auth::Principal& p) -> Result<http::Response> {
              BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
              BYSANS_RETURN_IF_ERROR(LoadOrganization(ctx, p, org_id, Role::kAdmin).status());
              BYSANS_RETURN_IF_ERROR(NeedDataDir(ctx));
              BYSANS_ASSIGN_OR_RETURN(
                  Id job, api->jobs().Add(org_id, "export", json{{"orgId", org_id}}.dump()));
              ExportApi* a = api.get();
              api->Post([a, org_id, job] { a->RunExport(org_id, job); });
              Audit(ctx, p, req, org_id, "export", "organization", std::to_string(org_id),
                    json{{"jobId", job}}.dump());
              return Json(202, {{"jobId", job}});
            });
  AddAuthed(router, ctx, "GET", org + "/exports", "The organisation's export archives (org admin)",
            [&ctx, api](http::Request& req, const auth::Principal& p) -> Result<http::Response> {
              BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
              BYSANS_RETURN_IF_ERROR(LoadOrganization(ctx, p, org_id, Role::kAdmin).status());
              BYSANS_RETURN_IF_ERROR(NeedDataDir(ctx));
              const std::string prefix = "org-" + std::to_string(org_id) + "-job-";
              json items = json::array();
              std::error_code ec;
              for (const auto& e : fs::directory_iterator(api->Dir(), ec)) {
                const std::string name = e.path().filename().string();
                if (!name.starts_with(prefix) || e.path().extension() != ".tar") continue;
                const std::string id = name.substr(prefix.size(), name.size() - prefix.size() - 4);
                items.push_back({{"jobId", std::stoll(id)}, {"bytes", e.file_size(ec)}});
              }
              return Json(200, {{"items", items}});
            });
  AddAuthed(router, ctx, "GET", org + "/exports/{jobId}/archive",
            "Download an export archive (org admin; POSIX tar)",
            [&ctx, api](http::Request& req, const auth::Principal& p) -> Result<http::Response> {
              BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
              BYSANS_ASSIGN_OR_RETURN(decode::JobStatus j,
                                      LoadExportJob(ctx, *api, req, p, org_id));
              BYSANS_RETURN_IF_ERROR(NeedDataDir(ctx));
              if (j.state != "done")
                return FailedPrecondition("export " + std::to_string(j.id) + " is " + j.state);
              const fs::path path = api->ArchivePath(org_id, j.id);
              std::shared_ptr<std::FILE> f(std::fopen(path.c_str(), "rb"), [](std::FILE* x) {
                if (x) std::fclose(x);
              });
              if (!f) return NotFound("export " + std::to_string(j.id) + " was deleted");
              Audit(ctx, p, req, org_id, "download", "export", std::to_string(j.id));
              http::Response r;
              r.status = 200;
              r.headers.Set("content-type", "application/x-tar");
              r.headers.Set("content-disposition", "attachment; filename=\"bysans-org-" +
                                                       std::to_string(org_id) + "-export-" +
                                                       std::to_string(j.id) + ".tar\"");
              r.stream = [f](std::string& chunk) {
                chunk.resize(kDownloadChunk);
                const size_t n = std::fread(chunk.data(), 1, chunk.size(), f.get());
                chunk.resize(n);
                return n > 0;
              };
              return r;
            });
  AddAuthed(router, ctx, "DELETE", org + "/exports/{jobId}", "Delete an export archive (org admin)",
            [&ctx, api](http::Request& req, const auth::Principal& p) -> Result<http::Response> {
              BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
              BYSANS_ASSIGN_OR_RETURN(decode::JobStatus j,
                                      LoadExportJob(ctx, *api, req, p, org_id));
              BYSANS_RETURN_IF_ERROR(NeedDataDir(ctx));
              std::error_code ec;
              if (!fs::remove(api->ArchivePath(org_id, j.id), ec))
                return NotFound("export " + std::to_string(j.id) + " was deleted");
              Audit(ctx, p, req, org_id, "delete", "export", std::to_string(j.id));
              http::Response r;
              r.status = 204;
              return r;
            });
  router.Add(
      "POST", "/api/v1/organizations/import",
      [&ctx, api](http::Request& req, http::Responder respond) {
        StartImport(ctx, api, req, respond);
      },
      "Import an archive as a new organisation (global admin; body: the archive)");
  router.SetBodyLimit("POST", "/api/v1/organizations/import", kImportBodyLimit);
}

}  // namespace bysans::api
