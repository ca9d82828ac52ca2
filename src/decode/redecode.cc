#include "decode/redecode.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <unordered_set>

#include "store/node_leases.h"

namespace bysans::decode {

DecodeThread::DecodeThread(Limits limits, int threads)
    : limits_(limits), queue_(/*max_running_per_org=*/1) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Loop(); });
}

DecodeThread::~DecodeThread() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void DecodeThread::Post(Id org_id, Task task) {
  {
    std::lock_guard lock(mu_);
    queue_.Push(org_id, 0, std::move(task));
  }
  cv_.notify_all();
}

void DecodeThread::Loop() {
  DecoderRunner runner(limits_);  // lives and dies on this thread
  for (;;) {
    std::optional<FairQueue<Task>::Ticket> t;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] {
        t = queue_.Pop();
        return t || (stopping_ && queue_.empty());
      });
      if (!t) return;
    }
    auto start = std::chrono::steady_clock::now();
    t->item(runner);
    auto cost = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    {
      std::lock_guard lock(mu_);
      queue_.Done(t->org, t->lane, cost);
    }
    cv_.notify_all();  // the organisation's next task, or a thread waiting to stop
  }
}

Result<Id> JobTable::Add(Id org_id, std::string kind, std::string request) {
  JobStatus j;
  j.org_id = org_id;
  j.kind = std::move(kind);
  j.request = std::move(request);
  j.created_ms = j.updated_ms = clock_.NowMs();
  j.node = node_;
  std::lock_guard lock(mu_);
  BYSANS_ASSIGN_OR_RETURN(j, store_.CreateJob(std::move(j)));
  return j.id;
}

std::optional<JobStatus> JobTable::Get(Id id) {
  std::lock_guard lock(mu_);
  auto j = store_.GetJob(id);
  if (!j.ok()) return std::nullopt;
  return std::move(j).value();
}

Result<int64_t> InterruptJobsOfDeadNodes(Store& store, TimeMs now) {
  BYSANS_ASSIGN_OR_RETURN(std::vector<Lease> nodes,
                          store.leases().ListLeases(std::string(kNodeLeasePrefix)));
  std::vector<std::string> live;
  live.reserve(nodes.size());
  for (const Lease& l : nodes) live.push_back(l.holder);
  return store.decoders().InterruptJobs(now, live);
}

void JobTable::Update(Id id, const std::function<void(JobStatus&)>& fn) {
  std::lock_guard lock(mu_);
  auto j = store_.GetJob(id);
  if (!j.ok()) {
    spdlog::warn("job {}: {}", id, j.status().message());
    return;
  }
  fn(*j);
  j->updated_ms = clock_.NowMs();
  if (Status st = store_.UpdateJob(*j); !st.ok()) spdlog::warn("job {}: {}", id, st.message());
}

namespace {

Result<std::vector<Device>> DevicesOf(Store& store, const StoredDecoder& dec,
                                      const RedecodeRequest& req) {
  std::vector<Device> out;
  if (req.device_id) {
    BYSANS_ASSIGN_OR_RETURN(Device d, store.GetDevice(*req.device_id));
    if (d.org_id != dec.org_id) return NotFound("device not in the decoder's organisation");
    out.push_back(std::move(d));
    return out;
  }
  BYSANS_ASSIGN_OR_RETURN(DecoderAttachments att, store.decoders().ListAttachments());
  std::unordered_set<Id> seen;
  for (const auto& [dev, id] : att.by_device) {
    if (id != dec.id) continue;
    auto d = store.GetDevice(dev);
    if (d.ok() && seen.insert(d->id).second) out.push_back(std::move(d).value());
  }
  for (const auto& [app, id] : att.by_app) {
    if (id != dec.id) continue;
    DeviceFilter f;
    f.app_id = app;
    for (Page page{1000, 0};; page.offset += page.limit) {
      BYSANS_ASSIGN_OR_RETURN(auto devs, store.ListDevices(f, page));
      for (Device& d : devs.items)
        if (!att.by_device.count(d.id) && seen.insert(d.id).second) out.push_back(std::move(d));
      if (static_cast<int64_t>(devs.items.size()) < page.limit) break;
    }
  }
  return out;
}

}  // namespace

Status Redecode(Store& store, DecoderRunner& runner, const RedecodeRequest& req,
                const RedecodeProgress& progress, const std::atomic<bool>& cancel) {
  DecoderStore& ds = store.decoders();
  BYSANS_ASSIGN_OR_RETURN(StoredDecoder dec, ds.GetDecoder(req.decoder_id));
  BYSANS_ASSIGN_OR_RETURN(std::vector<Device> devices, DevicesOf(store, dec, req));
  int64_t total = 0, done = 0, errors = 0;
  for (const Device& d : devices) {
    BYSANS_ASSIGN_OR_RETURN(int64_t n, ds.CountMessages(d.id, req.from, req.to));
    total += n;
  }
  if (progress) progress(done, total, errors);
  for (const Device& stored : devices) {
    const Device d = WithoutPersonalMetadata(store, stored);  // decoders never see them
    std::string model = DeviceModelDoc(store, d);
    Id after = 0;
    for (;;) {
      if (cancel) return Unavailable("re-decode interrupted; run it again");
      BYSANS_ASSIGN_OR_RETURN(auto msgs, ds.MessagesAfter(d.id, req.from, req.to, after, req.page));
      if (msgs.empty()) break;
      after = msgs.back().id;
      IngestBatch batch;
      std::vector<RawMessage> changed;
      for (RawMessage& m : msgs) {
        DecodeInput in = MakeDecodeInput(d, m, 0, {}, model);
        if (IsLorawan(d, m) && in.bytes.empty()) {  // join/status/ack events: nothing to decode
          ++done;
          continue;
        }
        RawMessage updated = m;
        std::vector<Reading> readings;
        ApplyDecodeResult(runner.Run(dec, in, d.id, req.time_ms), readings, updated);
        if (updated.decode_status == DecodeStatus::kError) ++errors;
        for (Reading& r : readings) batch.readings.push_back(std::move(r));
        if (updated.decode_status != m.decode_status || updated.decode_error != m.decode_error ||
            updated.decode_errors != m.decode_errors ||
            updated.decode_warnings != m.decode_warnings) {
          updated.payload.clear();
          changed.push_back(std::move(updated));
        }
        ++done;
      }
      if (!batch.readings.empty()) BYSANS_RETURN_IF_ERROR(store.Append(std::move(batch)));
      BYSANS_RETURN_IF_ERROR(ds.SetMessageDecodeStatus(changed));
      if (progress) progress(done, std::max(total, done), errors);
    }
  }
  if (progress) progress(done, std::max(total, done), errors);
  return Status::Ok();
}

}  // namespace bysans::decode
