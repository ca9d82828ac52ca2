// The delivery service of data targets (issue 16): at least once, in order per device.
//
// The pipeline commits a message of an application that has targets together with a record in
// that application's share log (store/target_store.h; SetShareFilter on the pipeline asks
// Shares()). One worker thread per active target reads the records after its cursor (filtered
// to its devices), sends them (share/format.h, share/http_push.h) and moves its cursor in the
// store only after the receiver accepted them: a crash re-sends, never loses. A failed request
// is retried with exponential backoff and never skipped, so a device's records stay in order;
// after `max_attempts` attempts or `max_age_ms` the records go to the target's dead letters
// (with the last error) and the cursor moves on; a replay puts them back in front of the log.
// A dead or slow target only builds its own lag: ingest writes one log row per commit whatever
// the targets do, and every target has its own thread. Records every target of an application
// has passed are pruned. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/outbound_policy.h"
#include "core/status.h"
#include "share/backfill.h"
#include "store/store.h"
#include "store/target_store.h"

namespace bysans::share {

struct ServiceOptions {
  OutboundPolicy outbound;        // where targets may connect (setting outbound.allow)
  TimeMs poll_ms = 1000;          // idle workers look at the log this often (wake-ups aside)
  TimeMs watch_ms = 200;          // how often target changes are looked for
  TimeMs base_backoff_ms = 1000;  // retry after base × 2^(attempt-1), capped
  TimeMs max_backoff_ms = 60'000;
  size_t read_ahead = 2000;             // records read from the log at once
  int delivery_log_keep = 500;          // attempts kept per target
  TimeMs prune_ms = 5000;               // how often delivered records are pruned
  TimeMs max_test_timeout_ms = 10'000;  // a test request waits at most this long
  int worker_nice = 10;                 // delivery threads run at this nice value (0 = as ingest)
  // Several nodes (issue 19): whether this node delivers now (it holds the "data-targets" role,
  // server/node_coordinator.h); the others keep the targets' view for the share filter and wait.
  // Unset: always.
  std::function<bool()> may_deliver;
};

// What a target is doing (process-local).
struct TargetStatus {
  std::string status = "active";  // active | paused | failing
  int64_t sent = 0;               // records delivered since start
  int64_t failed = 0;             // failed requests since start
  int64_t dead_letters = 0;       // records given up since start
  int64_t queue_depth = 0;        // records after the cursor
  double lag_seconds = 0;         // now - receive time of the oldest undelivered record
  std::string last_error;
  TimeMs last_success_ms = 0;
};

struct TestResult {
  bool ok = false;
  long http_status = 0;
  std::string error;
  int64_t duration_ms = 0;
};

class TargetService {
 public:
  TargetService(Store& store, const Clock& clock, Metrics& metrics, ServiceOptions options);
  ~TargetService();
  TargetService(const TargetService&) = delete;
  TargetService& operator=(const TargetService&) = delete;

  // Loads the targets and starts their workers.
  Status Start();
  // Stops every worker (aborting requests in flight: their records are sent again later).
  void Stop();

  // Whether messages of the application go to its share log (the pipeline's share filter).
  bool Shares(Id app_id) const;
  // Before a target of the application is created: its messages are logged from now on (so
  // none committed after the new target's cursor is missed).
  void WillShare(Id app_id);
  // A message of the device was committed (pipeline commit listener): wakes its targets.
  void OnCommitted(const Device& device);
  // Targets changed in the store: reconcile the workers now instead of at the next watch.
  void Changed();

  Result<TargetStatus> StatusOf(const DataTarget& target);
  // Sends the latest message of the device (with its latest readings) to the target at once,
  // outside its queue and cursor; the attempt is in the delivery log.
  Result<TestResult> Test(const DataTarget& target, Id device_id);

  // Back-fill (share/backfill.h): the target is sent its devices' stored readings of
  // [from, to] before what comes next in its log.
  Status StartBackfill(const DataTarget& target, TimeMs from, TimeMs to);
  Status CancelBackfill(Id target_id);
  std::optional<BackfillStatus> BackfillOf(Id target_id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bysans::share
