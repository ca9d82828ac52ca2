// Housekeeping: the server's periodic upkeep on its own thread, once an hour (and once at
// start): audit entries older than `audit.retention_days` are deleted. Retention of readings and
// raw messages per application (issue 18) will run here too.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/status.h"

namespace bysans {

class Store;

struct HousekeepingOptions {
  int audit_retention_days = 1825;  // 0 = kept for ever
  int64_t period_ms = 3'600'000;
};

class Housekeeping {
 public:
  Housekeeping(Store& store, const Clock& clock, HousekeepingOptions opts);
  ~Housekeeping();  // stops the thread
  Housekeeping(const Housekeeping&) = delete;
  Housekeeping& operator=(const Housekeeping&) = delete;

  // One round, on the caller's thread (the loop calls it; tests call it with a manual clock).
  Status RunOnce();

 private:
  void Loop();

  Store& store_;
  const Clock& clock_;
  HousekeepingOptions opts_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace bysans
