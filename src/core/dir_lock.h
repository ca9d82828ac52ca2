// An exclusive lock on a directory, held while a process uses it: `bysans serve` holds its data
// directory's, so a second server (or a restore) on the same directory is refused with a clear
// message instead of two writers sharing one database and one broker. The lock is an flock(2)
// on `<dir>/bysans.lock`, so the kernel releases it when the process ends, even by SIGKILL;
// the file keeps the holder's pid and role for the message.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace bysans {

class DirLock {
 public:
  // Takes the lock on `dir` (which must exist) for `role` ("serve", "restore"). kUnavailable,
  // naming the holder, when another process holds it.
  static Result<DirLock> Acquire(const std::string& dir, std::string_view role);

  DirLock(DirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DirLock& operator=(DirLock&& other) noexcept;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock();

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace bysans
