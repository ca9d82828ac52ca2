// WriteGate: SQLite's single write lock, taken in process first.
//
// Every connection of one SqliteStore shares a gate. A write transaction
// (Txn with write=true) holds the gate from before BEGIN IMMEDIATE until after
// COMMIT or ROLLBACK, so the writer, the sealer and the pool's metadata, alarm
// and outbox writes hand the lock over through a condition variable instead of
// SQLite's busy handler, which sleeps 1..100 ms between tries. Short
// transactions (the ingest writer's group commits, alarms, outbox, metadata)
// take turns in the order they asked (a ticket each): a busy writer cannot
// starve an alarm, and an alarm waits for at most the commits queued before it.
// The sealer's long slices go only when no such transaction is waiting.
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

// In which turn a write transaction goes.
enum class WriteTurn {
  kInOrder,   // first come, first served
  kWhenIdle,  // bulk work: only while no kInOrder transaction waits
};

class WriteGate {
 public:
  void Lock(WriteTurn turn) {
    std::unique_lock lk(mu_);
    if (turn == WriteTurn::kInOrder) {
      const uint64_t ticket = next_ticket_++;
      ++in_order_waiting_;
      cv_.wait(lk, [&] { return !busy_ && serving_ == ticket; });
      --in_order_waiting_;
      ++serving_;
    } else {
      cv_.wait(lk, [&] { return !busy_ && in_order_waiting_ == 0; });
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

  // kInOrder requests waiting now (tests and diagnostics).
  int in_order_waiting() {
    std::lock_guard lk(mu_);
    return in_order_waiting_;
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
  uint64_t next_ticket_ = 0;  // the next kInOrder request gets this ticket
  uint64_t serving_ = 0;      // the ticket whose turn is next
  int in_order_waiting_ = 0;
  uint64_t releases_ = 0;
};

}  // namespace bysans::sqlite
