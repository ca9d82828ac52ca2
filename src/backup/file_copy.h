// Files of a backup: copied or read in 1 MiB pieces with their SHA-256 computed on the way, so a
// database of many gigabytes is never held in memory, and synced before they count as written.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace bysans::backup {

struct FileDigest {
  int64_t bytes = 0;
  std::string sha256;  // lower-case hex
};

// Copies `from` to the new file `to` (mode 0600, fsynced).
Result<FileDigest> CopyFileHashed(const std::string& from, const std::string& to);

// The size and SHA-256 of `path`.
Result<FileDigest> HashFile(const std::string& path);

// Writes `text` to the new file `path` (mode 0600, fsynced).
Status WriteFileSynced(const std::string& path, const std::string& text);

// fsync of a directory: the names created or renamed in it are durable.
Status SyncDir(const std::string& dir);

}  // namespace bysans::backup
