#include "backup/backup.h"

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "backup/file_copy.h"
#include "core/dir_lock.h"
#include "core/json_depth.h"
#include "core/time_format.h"
#include "store/sqlite/snapshot.h"

namespace bysans::backup {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr char kDatabase[] = "bysans.db";

// What a backup holds besides the database, relative to the data directory. Only these names
// are ever read from a manifest, so a forged one cannot write outside the data directory.
// Not copied: the WAL and -shm (inside the snapshot), addresses and pid files (written at
// start), the broker's configuration, password and ACL files (regenerated from the database),
// decode-inflight (the decodes running at the moment of the backup: they would be quarantined).
constexpr std::array<std::string_view, 5> kOtherFiles = {
    "secret.key",              // opens every sealed secret in the database
    "mqtt-service.secret",     // bysans' broker user: its persistent session and client id
    "mqtt-integrator.secret",  // the local ChirpStack's broker password
    "decode-quarantine",       // messages that crashed a decoder
    "mosquitto/persistence/mosquitto.db"};  // the broker's queued messages (its last autosave)

constexpr char kReadme[] = R"(bysans backup
=============

This directory is a complete copy of one bysans server, taken while it ran.

  backup.json   the manifest: format "bysans-backup" version 1, the bysans version, the time,
                and each file with its size in bytes and its SHA-256 checksum.
  bysans.db     the database (SQLite 3; open it with any SQLite tool, e.g. `sqlite3 bysans.db`):
                organisations, users, devices, decoders, rules, alarms, readings and raw
                messages. Every message the server had acknowledged when the backup began is
                in it.
  secret.key    the key that seals the secrets stored in the database (data-target headers,
                action credentials, integration passwords). Keep this backup as safe as the
                server itself: together with bysans.db it opens those secrets.
  mqtt-*.secret the credentials of bysans' own broker users.
  mosquitto/    the broker's saved state: messages it had accepted but not yet delivered to
                bysans (as of its last autosave, at most 30 s before the backup).

To restore, into a new or empty data directory, with the server stopped:

  bysans restore --from THIS_DIRECTORY --data-dir NEW_DATA_DIRECTORY

`bysans restore` checks every checksum and the database before it writes anything. Then start
bysans on the new data directory; it upgrades an older database to its own version.
)";

Status Errno(const std::string& what, const std::string& path) {
  return Internal(what + " " + path + ": " + std::strerror(errno));
}

bool IsEmptyOrAbsentDir(const std::string& dir, Status* error) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return true;
  if (!fs::is_directory(dir, ec)) {
    *error = InvalidArgument(dir + " exists and is not a directory");
    return false;
  }
  return fs::is_empty(dir, ec) && !ec;
}

Status MakeDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir + ": " + ec.message());
  if (::chmod(dir.c_str(), 0700) != 0) return Errno("cannot restrict", dir);
  return Status::Ok();
}

bool Known(std::string_view path) {
  if (path == kDatabase) return true;
  for (std::string_view f : kOtherFiles) {
    if (path == f) return true;
  }
  return false;
}

bool IsSha256Hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<json> ReadManifest(const std::string& dir) {
  const std::string path = dir + "/" + kManifestName;
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(std::string(kManifestName) + " not found in " + dir);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > (size_t{1} << 20)) return InvalidArgument("backup.json is too large");
  BYSANS_RETURN_IF_ERROR(CheckJsonDepth(text));
  json m = json::parse(text, nullptr, false);
  if (m.is_discarded() || !m.is_object()) return InvalidArgument("backup.json is not valid JSON");
  if (m.value("format", json()) != kFormatName) {
    return InvalidArgument("backup.json: not a bysans backup (format is not \"" +
                           std::string(kFormatName) + "\")");
  }
  const json& v = m.contains("version") ? m["version"] : json();
  if (!v.is_number_integer() || v.get<int64_t>() != kFormatVersion) {
    return InvalidArgument("backup.json: format version " + v.dump() +
                           " is not supported (this bysans reads version " +
                           std::to_string(kFormatVersion) + ")");
  }
  const json& files = m.contains("files") ? m["files"] : json();
  if (!files.is_array()) return InvalidArgument("backup.json: \"files\" must be an array");
  bool has_db = false;
  for (size_t i = 0; i < files.size(); ++i) {
    const json& f = files[i];
    const std::string where = "backup.json: files[" + std::to_string(i) + "]";
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() || !f.contains("bytes") ||
        !f["bytes"].is_number_integer() || f["bytes"].get<int64_t>() < 0 || !f.contains("sha256") ||
        !f["sha256"].is_string()) {
      return InvalidArgument(where + " needs \"path\" (string), \"bytes\" (integer >= 0) and " +
                             "\"sha256\" (string)");
    }
    const std::string p = f["path"];
    if (!Known(p)) return InvalidArgument(where + ": \"" + p + "\" is not a file of a backup");
    if (!IsSha256Hex(f["sha256"])) {
      return InvalidArgument(where + ": \"sha256\" is not 64 lower-case hex digits");
    }
    has_db |= p == kDatabase;
  }
  if (!has_db) return InvalidArgument("backup.json lists no bysans.db");
  return m;
}

}  // namespace

Result<Report> Backup(const BackupOptions& opts) {
  Status bad;
  if (!IsEmptyOrAbsentDir(opts.out_dir, &bad)) {
    if (!bad.ok()) return bad;
    return InvalidArgument(opts.out_dir + " is not empty: a backup goes into a new directory");
  }
  const std::string src_db = opts.data_dir + "/" + kDatabase;
  std::error_code ec;
  if (!fs::exists(src_db, ec)) return InvalidArgument("no bysans database in " + opts.data_dir);
  const std::string tmp = opts.out_dir + ".partial";
  fs::remove_all(tmp, ec);
  BYSANS_RETURN_IF_ERROR(MakeDir(tmp));
  struct Cleanup {  // an interrupted backup leaves nothing that looks whole
    std::string dir;
    bool done = false;
    ~Cleanup() {
      std::error_code e;
      if (!done) fs::remove_all(dir, e);
    }
  } cleanup{tmp};

  Report report;
  json files = json::array();
  auto add = [&](const std::string& rel, const FileDigest& d) {
    files.push_back({{"path", rel}, {"bytes", d.bytes}, {"sha256", d.sha256}});
    report.files.push_back({rel, d.bytes});
    report.bytes += d.bytes;
  };
  // The secrets first: a key copied after the database could be newer than it, never older.
  for (std::string_view rel : kOtherFiles) {
    const std::string from = opts.data_dir + "/" + std::string(rel);
    if (!fs::exists(from, ec)) continue;
    const std::string to = tmp + "/" + std::string(rel);
    BYSANS_RETURN_IF_ERROR(MakeDir(fs::path(to).parent_path().string()));
    BYSANS_ASSIGN_OR_RETURN(FileDigest d, CopyFileHashed(from, to));
    add(std::string(rel), d);
  }
  const std::string db = tmp + "/" + kDatabase;
  BYSANS_RETURN_IF_ERROR(sqlite::SnapshotDatabase(src_db, db));
  BYSANS_ASSIGN_OR_RETURN(FileDigest d, HashFile(db));
  add(kDatabase, d);

  json manifest = {{"format", kFormatName},
                   {"version", kFormatVersion},
                   {"bysansVersion", opts.bysans_version},
                   {"createdAt", FormatRfc3339(opts.now_ms)},
                   {"files", files}};
  BYSANS_RETURN_IF_ERROR(WriteFileSynced(tmp + "/README.txt", kReadme));
  BYSANS_RETURN_IF_ERROR(WriteFileSynced(tmp + "/" + kManifestName, manifest.dump(2) + "\n"));
  BYSANS_RETURN_IF_ERROR(SyncDir(tmp));
  fs::remove(opts.out_dir, ec);  // an empty directory given as the target
  fs::rename(tmp, opts.out_dir, ec);
  if (ec) return Internal("cannot rename " + tmp + " to " + opts.out_dir + ": " + ec.message());
  cleanup.done = true;
  BYSANS_RETURN_IF_ERROR(SyncDir(fs::absolute(opts.out_dir).parent_path().string()));
  return report;
}

Status VerifyBackup(const std::string& dir) {
  BYSANS_ASSIGN_OR_RETURN(json m, ReadManifest(dir));
  for (const json& f : m["files"]) {
    const std::string rel = f["path"];
    auto d = HashFile(dir + "/" + rel);
    if (!d.ok()) return InvalidArgument(rel + ": listed in backup.json but cannot be read");
    if (d->bytes != f["bytes"].get<int64_t>()) {
      return InvalidArgument(rel + ": " + std::to_string(d->bytes) + " bytes, backup.json says " +
                             f["bytes"].dump() + " (the file was changed or cut short)");
    }
    if (d->sha256 != f["sha256"]) {
      return InvalidArgument(rel + ": SHA-256 does not match backup.json (the file was changed " +
                             "or damaged after the backup)");
    }
  }
  Status db = sqlite::CheckDatabase(dir + "/" + kDatabase);
  if (!db.ok()) return InvalidArgument("bysans.db: " + db.message());
  return Status::Ok();
}

Result<Report> Restore(const std::string& backup_dir, const std::string& data_dir) {
  BYSANS_RETURN_IF_ERROR(VerifyBackup(backup_dir));
  Status bad;
  if (!IsEmptyOrAbsentDir(data_dir, &bad)) {
    if (!bad.ok()) return bad;
    return InvalidArgument("the data directory " + data_dir +
                           " is not empty: restore only into a new or empty directory (move the "
                           "old one away first)");
  }
  BYSANS_RETURN_IF_ERROR(MakeDir(data_dir));
  BYSANS_ASSIGN_OR_RETURN(DirLock lock, DirLock::Acquire(data_dir, "restore"));
  BYSANS_ASSIGN_OR_RETURN(json m, ReadManifest(backup_dir));
  Report report;
  for (const json& f : m["files"]) {
    const std::string rel = f["path"];
    const std::string to = data_dir + "/" + rel;
    const std::string parent = fs::path(to).parent_path().string();
    BYSANS_RETURN_IF_ERROR(MakeDir(parent));
    BYSANS_ASSIGN_OR_RETURN(FileDigest d,
                            CopyFileHashed(backup_dir + "/" + rel, to + ".restoring"));
    if (d.sha256 != f["sha256"]) {  // changed since it was verified
      return InvalidArgument(rel + ": changed while it was restored");
    }
    std::error_code ec;
    fs::rename(to + ".restoring", to, ec);
    if (ec) return Internal("cannot rename " + to + ".restoring: " + ec.message());
    BYSANS_RETURN_IF_ERROR(SyncDir(parent));
    report.files.push_back({rel, d.bytes});
    report.bytes += d.bytes;
  }
  return report;
}

}  // namespace bysans::backup
