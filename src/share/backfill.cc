#include "share/backfill.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "core/thread_name.h"

namespace bysans::share {
namespace {

constexpr TimeMs kDayMs = 86'400'000;
constexpr size_t kQueueChunk = 1000;  // records per transaction

// Readings of one device (oldest first) as records: one per timestamp, as a message brings them.
std::vector<ShareRecord> RecordsOf(Id device_id, std::vector<Reading>& readings) {
  std::vector<ShareRecord> out;
  for (Reading& r : readings) {
    if (out.empty() || out.back().received_ms != r.ts) {
      out.emplace_back();
      out.back().device_id = device_id;
      out.back().received_ms = r.ts;
    }
    out.back().readings.push_back(std::move(r));
  }
  return out;
}

}  // namespace

Status Backfills::Start(const DataTarget& target, TimeMs from, TimeMs to) {
  if (from > to) return InvalidArgument("field 'from' must be before 'to'");
  std::lock_guard lk(mu_);
  if (stop_) return Unavailable("bysans is shutting down");
  auto& slot = jobs_[target.id];
  if (slot && slot->status.state == "running")
    return FailedPrecondition("a back-fill of this target is running");
  if (slot && slot->thread.joinable()) slot->thread.join();
  slot = std::make_unique<Job>();
  slot->status.state = "running";
  slot->status.from = from;
  slot->status.to = to;
  Job* job = slot.get();
  job->thread = std::thread([this, target, from, to, job] { Run(target, from, to, job); });
  return Status::Ok();
}

std::optional<BackfillStatus> Backfills::StatusOf(Id target_id) const {
  std::lock_guard lk(mu_);
  auto it = jobs_.find(target_id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second->status;
}

Status Backfills::Cancel(Id target_id) {
  std::lock_guard lk(mu_);
  auto it = jobs_.find(target_id);
  if (it == jobs_.end() || it->second->status.state != "running")
    return NotFound("no back-fill of this target is running");
  it->second->cancel = true;
  return Status::Ok();
}

bool Backfills::Running(Id target_id) const {
  std::lock_guard lk(mu_);
  auto it = jobs_.find(target_id);
  return it != jobs_.end() && it->second->status.state == "running";
}

void Backfills::Stop() {
  stop_ = true;
  std::map<Id, std::unique_ptr<Job>> jobs;
  {
    std::lock_guard lk(mu_);
    jobs.swap(jobs_);
  }
  for (auto& [id, job] : jobs)
    if (job->thread.joinable()) job->thread.join();
}

void Backfills::Update(Job* job, const std::function<void(BackfillStatus&)>& change) {
  std::lock_guard lk(mu_);
  change(job->status);
}

void Backfills::Run(DataTarget target, TimeMs from, TimeMs to, Job* job) {
  NameThisThread("share-backfill");
  if (nice_ != 0) (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice_);
  auto fail = [&](const std::string& error) {
    Update(job, [&](BackfillStatus& s) {
      s.state = "failed";
      s.error = error;
    });
  };
  std::vector<Id> devices = target.device_ids;
  if (devices.empty()) {
    DeviceFilter f;
    f.org_id = target.org_id;
    f.app_id = target.app_id;
    constexpr int64_t kPage = 10'000;  // the store's largest page
    for (int64_t offset = 0;; offset += kPage) {
      auto listed = store_.ListDevices(f, Page{kPage, offset});
      if (!listed.ok()) return fail(listed.status().message());
      for (const Device& d : listed->items) devices.push_back(d.id);
      if (static_cast<int64_t>(listed->items.size()) < kPage) break;
    }
  }
  Update(job, [&](BackfillStatus& s) { s.devices_total = static_cast<int64_t>(devices.size()); });
  std::string cut;  // days with more readings than one page holds
  for (Id device : devices) {
    for (TimeMs day = from; day <= to; day += kDayMs) {
      if (stop_ || job->cancel) {
        return Update(job, [&](BackfillStatus& s) { s.state = stop_ ? "stopped" : "cancelled"; });
      }
      ReadingQuery q;
      q.device_id = device;
      q.from = day;
      q.to = std::min(to, day + kDayMs - 1);
      q.limit = kMaxReadingsPerDay;
      auto readings = store_.QueryReadings(q);  // newest first
      if (!readings.ok()) return fail(readings.status().message());
      if (static_cast<int64_t>(readings->size()) == kMaxReadingsPerDay && cut.empty())
        cut = "device " + std::to_string(device) + " has more than " +
              std::to_string(kMaxReadingsPerDay) + " readings in a day; the oldest were left out";
      std::reverse(readings->begin(), readings->end());
      std::vector<ShareRecord> records = RecordsOf(device, *readings);
      for (size_t i = 0; i < records.size(); i += kQueueChunk) {
        std::vector<ShareRecord> chunk(
            std::make_move_iterator(records.begin() + static_cast<std::ptrdiff_t>(i)),
            std::make_move_iterator(records.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                          records.size(), i + kQueueChunk))));
        Status s = store_.targets().QueueReplay(target.id, chunk, "back-fill", clock_.NowMs());
        if (!s.ok()) return fail(s.message());
        Update(job, [&](BackfillStatus& st) { st.records += static_cast<int64_t>(chunk.size()); });
      }
    }
    Update(job, [](BackfillStatus& s) { ++s.devices_done; });
  }
  Update(job, [&](BackfillStatus& s) {
    s.state = "done";
    s.error = cut;
  });
}

}  // namespace bysans::share
