// A small POSIX ustar (IEEE Std 1003.1-1988) writer and reader: regular files only, names up
// to 100 bytes, sizes below 8 GiB (11 octal digits). Any tar program reads what TarWriter
// writes. Errors are values; nothing here throws.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace bysans::archive {

inline constexpr int64_t kTarBlock = 512;
inline constexpr int64_t kTarMaxSize = (int64_t{1} << 33) - 1;  // 8 GiB - 1

// Builds the 512-byte header of a regular file (mode 0600, owner 0, `mtime_s` seconds).
Result<std::string> TarHeader(std::string_view name, int64_t size, int64_t mtime_s);

// Writes members one after another to a FILE it does not own, then the two zero blocks.
class TarWriter {
 public:
  explicit TarWriter(std::FILE* out, int64_t mtime_s) : out_(out), mtime_s_(mtime_s) {}
  Status AddBytes(std::string_view name, std::string_view data);
  // Copies the file at `path` (its size now) into the archive.
  Status AddFile(std::string_view name, const std::string& path);
  Status Finish();

 private:
  Status Write(const void* data, size_t n);
  Status Pad(int64_t size);
  std::FILE* out_;
  int64_t mtime_s_;
};

struct TarEntry {
  std::string name;
  int64_t offset = 0;  // of the data, from the start of the archive
  int64_t size = 0;
};

// Lists the regular files of an archive (checking each header's checksum). A truncated
// archive, a bad header or a member running past the end of the file is an error naming it.
Result<std::vector<TarEntry>> ListTar(std::FILE* in);

}  // namespace bysans::archive
