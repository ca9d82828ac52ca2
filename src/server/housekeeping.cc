#include "server/housekeeping.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "core/thread_name.h"
#include "store/store.h"

namespace bysans {

Housekeeping::Housekeeping(Store& store, const Clock& clock, HousekeepingOptions opts)
    : store_(store), clock_(clock), opts_(opts), thread_([this] { Loop(); }) {}

Housekeeping::~Housekeeping() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status Housekeeping::RunOnce() {
  if (opts_.audit_retention_days > 0) {
    const TimeMs before = clock_.NowMs() - int64_t{opts_.audit_retention_days} * 86'400'000;
    BYSANS_ASSIGN_OR_RETURN(int64_t n, store_.DeleteAuditBefore(before));
    if (n > 0) {
      spdlog::info("housekeeping: deleted {} audit entries older than {} days", n,
                   opts_.audit_retention_days);
    }
  }
  return Status::Ok();
}

void Housekeeping::Loop() {
  NameThisThread("housekeeping");
  std::unique_lock lk(mu_);
  while (!stop_) {
    lk.unlock();
    if (Status st = RunOnce(); !st.ok()) spdlog::warn("housekeeping: {}", st.message());
    lk.lock();
    // A periodic task, not synchronisation: wakes early only to stop.
    cv_.wait_for(lk, std::chrono::milliseconds(opts_.period_ms), [&] { return stop_; });
  }
}

}  // namespace bysans
