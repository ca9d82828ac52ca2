#include "server/housekeeping.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <vector>

#include "core/metrics.h"
#include "core/thread_name.h"
#include "decode/redecode.h"
#include "store/gateway_store.h"
#include "store/store.h"

namespace bysans {
namespace {

// Calls `visit` with every item of a paged listing.
template <typename T, typename List, typename Visit>
Status ForEachPaged(const List& list, const Visit& visit) {
  constexpr int64_t kPage = 1000;
  for (int64_t offset = 0;; offset += kPage) {
    BYSANS_ASSIGN_OR_RETURN(Paged<T> page, list(Page{kPage, offset}));
    for (const T& item : page.items) BYSANS_RETURN_IF_ERROR(visit(item));
    if (static_cast<int64_t>(page.items.size()) < kPage) return Status::Ok();
  }
}

}  // namespace

Housekeeping::Housekeeping(Store& store, const Clock& clock, HousekeepingOptions opts,
                           Metrics* metrics)
    : store_(store), clock_(clock), opts_(std::move(opts)), metrics_(metrics), thread_([this] {
        Loop();
      }) {}

Housekeeping::~Housekeeping() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status Housekeeping::RunOnce() {
  // A dead node's jobs (several nodes, issue 19); at a start the API already did this.
  if (auto n = decode::InterruptJobsOfDeadNodes(store_, clock_.NowMs()); !n.ok()) {
    spdlog::warn("housekeeping: jobs: {}", n.status().message());
  } else if (*n > 0) {
    spdlog::info("housekeeping: {} job(s) of nodes no longer running marked interrupted", *n);
  }
  if (opts_.audit_retention_days > 0) {
    const TimeMs before = clock_.NowMs() - int64_t{opts_.audit_retention_days} * 86'400'000;
    BYSANS_ASSIGN_OR_RETURN(int64_t n, store_.DeleteAuditBefore(before));
    if (n > 0) {
      spdlog::info("housekeeping: deleted {} audit entries older than {} days", n,
                   opts_.audit_retention_days);
    }
  }
  {
    const int days = std::max(30, opts_.gateway_history_days);
    const TimeMs before = clock_.NowMs() - int64_t{days} * 86'400'000;
    BYSANS_ASSIGN_OR_RETURN(int64_t n, store_.gateways().DeleteGatewayHistoryBefore(before));
    if (n > 0)
      spdlog::info("housekeeping: deleted {} gateway history rows older than {} days", n, days);
  }
  RetentionCounts removed;
  const auto started = std::chrono::steady_clock::now();
  const Status st = EnforceRetention(&removed);
  spdlog::info(
      "retention: removed {} readings, {} hourly-summary chunks, {} raw messages ({} "
      "raw rows deleted whole, {} of them unread) in {} ms{}",
      removed.readings, removed.aggregate_chunks, removed.raw_messages, removed.raw_rows,
      removed.raw_rows_unread,
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                            started)
          .count(),
      st.ok() ? "" : " before an error");
  if (metrics_ != nullptr) {
    const char* help = "Data removed by retention (issue 18), by kind";
    metrics_->Counter("bysans_retention_removed_total", help, {{"kind", "readings"}})
        .Increment(static_cast<double>(removed.readings));
    metrics_->Counter("bysans_retention_removed_total", help, {{"kind", "aggregate_chunks"}})
        .Increment(static_cast<double>(removed.aggregate_chunks));
    metrics_->Counter("bysans_retention_removed_total", help, {{"kind", "raw_messages"}})
        .Increment(static_cast<double>(removed.raw_messages));
    metrics_->Counter("bysans_retention_removed_total", help, {{"kind", "raw_rows"}})
        .Increment(static_cast<double>(removed.raw_rows));
    metrics_->Counter("bysans_retention_removed_total", help, {{"kind", "raw_rows_unread"}})
        .Increment(static_cast<double>(removed.raw_rows_unread));
  }
  return st;
}

Status Housekeeping::EnforceRetention(RetentionCounts* removed) {
  const TimeMs now = clock_.NowMs();
  // Raw messages: one pass per raw cutoff over the devices of every application that has it.
  // A raw_log row holds one commit's messages, of devices of several applications: when all of
  // them share the cutoff, the store deletes an expired row without reading it (retention.cc),
  // where per-application passes would each have to read and rewrite it.
  std::map<TimeMs, std::vector<Id>> raw_devices;
  BYSANS_RETURN_IF_ERROR(ForEachPaged<Organization>(
      [&](Page p) { return store_.ListOrganizations(p); },
      [&](const Organization& org) {
        return ForEachPaged<Application>(
            [&](Page p) { return store_.ListApplications(org.id, p); },
            [&](const Application& app) -> Status {
              const RetentionDays days = EffectiveRetention(app, opts_.retention);
              if (!days.raw_messages_days && !days.readings_days && !days.aggregates_days)
                return Status::Ok();
              std::vector<Id> devices;
              DeviceFilter f;
              f.app_id = app.id;
              BYSANS_RETURN_IF_ERROR(
                  ForEachPaged<Device>([&](Page p) { return store_.ListDevices(f, p); },
                                       [&](const Device& d) {
                                         devices.push_back(d.id);
                                         return Status::Ok();
                                       }));
              RetentionCutoffs cuts = RetentionCutoffsAt(days, now);
              if (cuts.raw_before) {
                std::vector<Id>& group = raw_devices[*cuts.raw_before];
                group.insert(group.end(), devices.begin(), devices.end());
                cuts.raw_before.reset();
              }
              if (cuts == RetentionCutoffs{}) return Status::Ok();
              BYSANS_ASSIGN_OR_RETURN(RetentionCounts got, store_.ApplyRetention(devices, cuts));
              *removed += got;
              return Status::Ok();
            });
      }));
  for (const auto& [before, devices] : raw_devices) {
    BYSANS_ASSIGN_OR_RETURN(
        RetentionCounts got,
        store_.ApplyRetention(devices, RetentionCutoffs{before, std::nullopt, std::nullopt}));
    *removed += got;
  }
  return Status::Ok();
}

void Housekeeping::Loop() {
  NameThisThread("housekeeping");
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, std::chrono::milliseconds(opts_.first_run_delay_ms), [&] { return stop_; });
  while (!stop_) {
    lk.unlock();
    if (opts_.may_run && !opts_.may_run()) {
      spdlog::debug("housekeeping: another node holds the role this round");
    } else if (Status st = RunOnce(); !st.ok()) {
      spdlog::warn("housekeeping: {}", st.message());
    }
    lk.lock();
    // A periodic task, not synchronisation: wakes early only to stop.
    cv_.wait_for(lk, std::chrono::milliseconds(opts_.period_ms), [&] { return stop_; });
  }
}

}  // namespace bysans
