// Housekeeping: the server's periodic upkeep on its own thread, once an hour (and once shortly
// after start): audit entries older than `audit.retention_days` are deleted, and each application's
// retention (model/retention.h EffectiveRetention: raw messages, readings, hourly aggregates) is
// enforced through SeriesStore::ApplyRetention in whole days (RetentionCutoffsAt), times from
// the injected clock: readings and aggregates per application, raw messages in one pass per raw
// cutoff over every application's devices that share it. Each run is logged with its counts and
// counted in bysans_retention_removed_total{kind}. LoRaWAN gateways' online/offline transitions
// and hourly stats older than `gateway_history_days` are deleted (store/gateway_store.h).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/status.h"
#include "model/retention.h"

namespace bysans {

class Metrics;
class Store;
struct RetentionCounts;

struct HousekeepingOptions {
  int audit_retention_days = 1825;  // 0 = kept for ever
  int64_t period_ms = 3'600'000;
  // Gateway history kept (online/offline transitions, hourly stats); at least 30 days.
  int gateway_history_days = 90;
  // The first round comes this long after start, once the server is up (not competing with its
  // start-up, nor delaying it).
  int64_t first_run_delay_ms = 5'000;
  // Server defaults per data class (config `retention.*`).
  RetentionDefaults retention = RetentionDefaults::Builtin();
  // Several nodes: a round runs only while this says so (the node holding the "housekeeping"
  // role, server/node_coordinator.h). Unset: always.
  std::function<bool()> may_run;
};

class Housekeeping {
 public:
  // `metrics` may be null (no counters).
  Housekeeping(Store& store, const Clock& clock, HousekeepingOptions opts,
               Metrics* metrics = nullptr);
  ~Housekeeping();  // stops the thread
  Housekeeping(const Housekeeping&) = delete;
  Housekeeping& operator=(const Housekeeping&) = delete;

  // One round, on the caller's thread (the loop calls it; tests call it with a manual clock).
  Status RunOnce();

 private:
  void Loop();
  // Every application's retention; adds what was removed to *removed.
  Status EnforceRetention(RetentionCounts* removed);

  Store& store_;
  const Clock& clock_;
  HousekeepingOptions opts_;
  Metrics* metrics_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace bysans
