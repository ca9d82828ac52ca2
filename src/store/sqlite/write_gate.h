// WriteGate: SQLite's single write lock, taken in process first.
//
// Every connection of one SqliteStore shares a gate. A write transaction
// (Txn with write=true) holds the gate from before BEGIN IMMEDIATE until after
// COMMIT or ROLLBACK, so the writer, the sealer and the pool's metadata, alarm
// and outbox writes hand the lock over through a condition variable instead of
// SQLite's busy handler, which sleeps 1..100 ms between tries. The ingest
// writer asks with priority: while it waits, no other transaction starts.
//
// Writes outside a Txn (single auto-commit statements) and other processes
// still meet SQLITE_BUSY; for them Db's busy handler waits on this gate's
// release signal (every commit and every Unlock raise it) in short slices.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace bysans::sqlite {

class WriteGate {
 public:
  void Lock(bool priority) {
    std::unique_lock lk(mu_);
    if (priority) {
      ++priority_waiting_;
      cv_.wait(lk, [&] { return !busy_; });
      --priority_waiting_;
    } else {
      cv_.wait(lk, [&] { return !busy_ && priority_waiting_ == 0; });
    }
    busy_ = true;
  }

  void Unlock() {
    {
      std::lock_guard lk(mu_);
      busy_ = false;
      ++releases_;
    }
    cv_.notify_all();
  }

  // A connection committed (SQLite's WAL hook): its lock is free again.
  void NotifyCommitted() {
    {
      std::lock_guard lk(mu_);
      ++releases_;
    }
    cv_.notify_all();
  }

  // Releases so far (commits and unlocks): a store that is idle does not move it.
  uint64_t releases() {
    std::lock_guard lk(mu_);
    return releases_;
  }

  // Priority requests waiting now (tests and diagnostics).
  int priority_waiting() {
    std::lock_guard lk(mu_);
    return priority_waiting_;
  }

  // Waits until the next release or `slice`, whichever comes first.
  void WaitForRelease(std::chrono::microseconds slice) {
    std::unique_lock lk(mu_);
    const uint64_t seen = releases_;
    cv_.wait_for(lk, slice, [&] { return releases_ != seen; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool busy_ = false;
  int priority_waiting_ = 0;
  uint64_t releases_ = 0;
};

}  // namespace bysans::sqlite
