// `bysans backup` / `bysans restore`: a consistent copy of a whole server — its database, the key
// that seals its secrets, the broker's credentials and queued messages — taken while it runs,
// and put back into a new data directory. The format is in README.md (and in the README.txt
// written into every backup).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace bysans::backup {

inline constexpr char kManifestName[] = "backup.json";
inline constexpr char kFormatName[] = "bysans-backup";
inline constexpr int kFormatVersion = 1;

struct BackupOptions {
  std::string data_dir;        // the server's (running or not)
  std::string out_dir;         // created; must not exist yet, or be an empty directory
  std::string bysans_version;  // written into the manifest
  int64_t now_ms = 0;          // the backup's time in the manifest
};

struct FileCopied {
  std::string path;  // relative to the data directory, '/'-separated
  int64_t bytes = 0;
};

struct Report {
  std::vector<FileCopied> files;
  int64_t bytes = 0;
};

// The database is copied in one read transaction (store/sqlite/snapshot.h): every message
// acknowledged before the backup began is in it. Written under `<out_dir>.partial` and renamed
// when complete, so an interrupted backup leaves no directory that looks whole.
Result<Report> Backup(const BackupOptions& opts);

// Checks a backup: the manifest's format and version, each file's size and SHA-256, no file
// outside the data directory, and SQLite's quick_check of the database. The error names the
// file and what is wrong.
Status VerifyBackup(const std::string& backup_dir);

// Verifies the backup, then copies it into `data_dir`, which must be absent or empty (the old
// one is moved away by the operator, never overwritten), holding the data directory's lock so
// no server starts on it meanwhile. Each file is written under a temporary name and renamed.
Result<Report> Restore(const std::string& backup_dir, const std::string& data_dir);

}  // namespace bysans::backup
