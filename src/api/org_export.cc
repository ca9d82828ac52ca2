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
// Limits (an organisation admin must not be able to fill the disk or keep it busy for everyone):
// one export queued or running per organisation (another start answers 409 naming that job), the
// newest kKeptArchivesPerOrganization archives kept, and none started or run when it would leave
// less than export.free_space_reserve_mb (1 GiB) free (503).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

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

// Finished archives kept per organisation; older ones are deleted when a newer export finishes.
// An archive can be as large as the organisation's whole history, and without a cap an admin
// could pile them up for the whole export_keep_ms (7 days) until the disk is full for every
// tenant. Three leave room to download one while the next is written.
constexpr size_t kKeptArchivesPerOrganization = 3;

std::string Mebibytes(std::uintmax_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

std::uintmax_t FileSizeOrZero(const fs::path& path) {
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

// A finished archive in <data_dir>/exports.
struct ArchiveFile {
  Id job = 0;
  fs::path path;
};

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
    return Dir() / (ArchivePrefix(org) + std::to_string(job) + ".tar");
  }

  // The organisation's finished archives, oldest (lowest job id) first.
  std::vector<ArchiveFile> ListArchives(Id org) const {
    const std::string prefix = ArchivePrefix(org);
    std::vector<ArchiveFile> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(Dir(), ec)) {
      const std::string name = e.path().filename().string();
      if (!name.starts_with(prefix) || e.path().extension() != ".tar") continue;
      const std::string_view digits =
          std::string_view(name).substr(prefix.size(), name.size() - prefix.size() - 4);
      Id job = 0;
      const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), job);
      if (err == std::errc() && end == digits.data() + digits.size())
        out.push_back({job, e.path()});
    }
    std::sort(out.begin(), out.end(),
              [](const ArchiveFile& a, const ArchiveFile& b) { return a.job < b.job; });
    return out;
  }

  // Adds an export job for `org` unless the organisation already has one queued or running
  // (kFailedPrecondition naming it): each export copies the whole database (SQLite) and writes
  // an archive, so repeated starts would keep the disk busy and fill it for every tenant.
  Result<Id> AddExportJob(Id org) {
    std::lock_guard lk(pending_mu_);
    if (auto it = pending_.find(org); it != pending_.end()) {
      const std::string job = std::to_string(it->second);
      return FailedPrecondition("export job " + job +
                                " of this organisation is still queued or running; an "
                                "organisation runs one export at a time: start the next once "
                                "GET /api/v1/jobs/" +
                                job + " says done");
    }
    BYSANS_ASSIGN_OR_RETURN(Id job, jobs_.Add(org, "export", json{{"orgId", org}}.dump()));
    pending_.emplace(org, job);
    return job;
  }

  // kUnavailable when an export now (on SQLite, first a copy of the whole database) would leave
  // less than ApiContext::export_reserve_bytes free.
  Status CheckFreeSpace() const {
    std::error_code ec;
    const fs::space_info space = fs::space(ctx_.data_dir, ec);
    // Not knowing the free space (an unusual file system) is no reason to refuse the export.
    if (ec) return Status::Ok();
    const std::uintmax_t needed = SnapshotBytes() + ctx_.export_reserve_bytes;
    if (space.available >= needed) return Status::Ok();
    return Unavailable("not enough free disk space for an export: it needs " + Mebibytes(needed) +
                       " (a copy of the database and " + Mebibytes(ctx_.export_reserve_bytes) +
                       " left for the server), " + Mebibytes(space.available) + " are free");
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
    // Checked again: other organisations' exports may have run while this one was queued.
    const Status space = CheckFreeSpace();
    Result<archive::ExportSummary> r = space.ok() ? WriteArchive(org, job) : space;
    if (r.ok()) DeleteOldArchives(org);
    // Released before "done" is recorded: a client that sees "done" may start the next at once.
    ReleaseExportSlot(org);
    RecordOutcome(job, r);
  }

  std::atomic<bool>& cancel() { return cancel_; }

 private:
  static std::string ArchivePrefix(Id org) { return "org-" + std::to_string(org) + "-job-"; }

  // SQLite: every export first copies the whole database (all organisations); PostgreSQL: none.
  bool SnapshotsDatabase() const { return !ctx_.store.leases().shared(); }
  fs::path DatabasePath() const { return fs::path(ctx_.data_dir) / "bysans.db"; }
  std::uintmax_t SnapshotBytes() const {
    if (!SnapshotsDatabase()) return 0;
    const fs::path db = DatabasePath();
    return FileSizeOrZero(db) + FileSizeOrZero(db.string() + "-wal");
  }

  Result<archive::ExportSummary> WriteArchive(Id org, Id job) {
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
    if (!SnapshotsDatabase()) {
      // PostgreSQL (a store other processes share): read from the live database; rows written
      // while the export runs may or may not be in it (src/archive/README.md).
      return archive::ExportOrganization(ctx_.store, ctx_.clock, org, out, opts, cancel_);
    }
    // SQLite: from a copy taken in one read transaction, so the archive is consistent.
    const fs::path scratch = Dir() / (".snapshot-" + std::to_string(job));
    return archive::ExportFromDatabase(DatabasePath().string(), scratch.string(), ctx_.clock, org,
                                       out, opts, cancel_);
  }

  // Keeps the organisation's newest kKeptArchivesPerOrganization archives. A download of a
  // deleted one already under way goes on: it holds the file open.
  void DeleteOldArchives(Id org) {
    const std::vector<ArchiveFile> archives = ListArchives(org);
    if (archives.size() <= kKeptArchivesPerOrganization) return;
    std::error_code ec;
    for (size_t i = 0; i + kKeptArchivesPerOrganization < archives.size(); ++i) {
      fs::remove(archives[i].path, ec);
      spdlog::info("exports: deleted {} (an organisation keeps its newest {} archives)",
                   archives[i].path.string(), kKeptArchivesPerOrganization);
    }
  }

  void ReleaseExportSlot(Id org) {
    std::lock_guard lk(pending_mu_);
    pending_.erase(org);
  }

  void RecordOutcome(Id job, const Result<archive::ExportSummary>& r) {
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
  // Organisation → its export job queued or running (at most one each: AddExportJob).
  std::mutex pending_mu_;
  std::map<Id, Id> pending_;
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
            "Export the organisation into one archive (org admin; background job; 409 while "
            "one of the organisation's exports is queued or running, 503 when the disk is "
            "short; the newest " +
                std::to_string(kKeptArchivesPerOrganization) + " archives are kept)",
            [&ctx, api](http::Request& req, const auth::Principal& p) -> Result<http::Response> {
              BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
              BYSANS_RETURN_IF_ERROR(LoadOrganization(ctx, p, org_id, Role::kAdmin).status());
              BYSANS_RETURN_IF_ERROR(NeedDataDir(ctx));
              BYSANS_RETURN_IF_ERROR(api->CheckFreeSpace());
              BYSANS_ASSIGN_OR_RETURN(Id job, api->AddExportJob(org_id));
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
              json items = json::array();
              for (const ArchiveFile& a : api->ListArchives(org_id))
                items.push_back({{"jobId", a.job}, {"bytes", FileSizeOrZero(a.path)}});
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
