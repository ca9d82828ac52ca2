// Back-fill of data targets (issue 16): a target started from a point in history. A job per
// target reads the stored readings of its devices in [from, to] (through SeriesStore, a day of
// one device at a time, oldest first) and queues them as records for replay, which the target's
// worker sends before its log, in order per device (TargetStore::QueueReplay). The records carry
// the readings, not the decoder's output (it is not stored outside the share log). At most one
// job per target at a time, on its own thread at the delivery workers' niceness so that
// history never takes the CPU from ingest; it can be cancelled. Progress is in memory (a restart
// ends a job; what it had queued is still sent). Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"
#include "store/target_store.h"

namespace bysans::share {

struct BackfillStatus {
  std::string state;  // running | done | failed | stopped (shutdown) | cancelled
  TimeMs from = 0, to = 0;
  int64_t devices_total = 0, devices_done = 0;
  int64_t records = 0;  // queued so far
  std::string error;
};

class Backfills {
 public:
  // `nice`: the niceness of the job threads (share::Options::worker_nice).
  Backfills(Store& store, const Clock& clock, int nice)
      : store_(store), clock_(clock), nice_(nice) {}
  ~Backfills() { Stop(); }
  Backfills(const Backfills&) = delete;
  Backfills& operator=(const Backfills&) = delete;

  // Starts the job; FailedPrecondition while one of the target runs, InvalidArgument for an
  // empty or inverted range.
  Status Start(const DataTarget& target, TimeMs from, TimeMs to);
  // Ends the target's running job; what it queued stays queued (kNotFound: none runs).
  Status Cancel(Id target_id);
  std::optional<BackfillStatus> StatusOf(Id target_id) const;
  // A job of the target is queueing: its worker holds back the log meanwhile, so that history
  // goes out before what came after it.
  bool Running(Id target_id) const;
  // Ends every job (what is queued stays queued) and joins their threads.
  void Stop();

  // One device's day is read at most this many readings at a time (a denser day is cut, and
  // the job says so in its error).
  static constexpr int64_t kMaxReadingsPerDay = 200'000;

 private:
  struct Job {
    std::thread thread;
    BackfillStatus status;  // guarded by Backfills::mu_
    std::atomic<bool> cancel{false};
  };
  void Run(DataTarget target, TimeMs from, TimeMs to, Job* job);
  void Update(Job* job, const std::function<void(BackfillStatus&)>& change);

  Store& store_;
  const Clock& clock_;
  const int nice_;
  mutable std::mutex mu_;
  std::map<Id, std::unique_ptr<Job>> jobs_;
  std::atomic<bool> stop_{false};
};

}  // namespace bysans::share
