#include "pipeline/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/fair_queue.h"
#include "core/log_budget.h"
#include "core/thread_name.h"
#include "core/wake_batch.h"
#include "pipeline/device_key_limit.h"
#include "pipeline/org_window.h"
#include "pipeline/reading_limits.h"

namespace bysans::pipeline {
namespace {

// A payload a device sent as JSON (an object or array), as opposed to bytes.
bool LooksLikeJson(const RawMessage& m) {
  for (char c : m.payload) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[';
  }
  return false;
}

}  // namespace

struct Pipeline::Impl {
  SeriesStore& store;
  PipelineOptions options;
  std::shared_ptr<UplinkDecoder> decoder;
  std::shared_ptr<QualityChecker> quality;
  std::vector<CommitListener> listeners;
  std::vector<SharedCommitListener> shared_listeners;
  std::function<bool(Id)> shares;                       // SetShareFilter
  std::function<int(const Device&)> feed_partition_of;  // SetRuleFeed
  // A device's stored keys read once per process, at its first message (device_key_limit.h).
  DeviceKeyLimit key_limit{options.max_keys_per_device,
                           [this](Id device) { return store.Keys(device); }};

  prometheus::Counter& submitted;
  prometheus::Counter& rejected_full;
  prometheus::Counter& rejected_org_share;
  prometheus::Counter& store_errors;
  prometheus::Counter& duplicates;
  prometheus::Counter& shed;
  prometheus::Gauge& in_flight_gauge;

  std::atomic<size_t> in_flight{0};
  OrgWindow org_window{options.max_in_flight_per_org > 0
                           ? options.max_in_flight_per_org
                           : std::max<size_t>(1, options.max_in_flight / 4)};
  std::mutex mu;
  std::condition_variable cv;
  // Waiting for a decode worker: per organisation, in turn by decode time; per device in order.
  FairQueue<std::pair<std::shared_ptr<Uplink>, Done>> queue;
  LogBudget<Id> shed_log{1.0 / 60, 5};  // LogShed, under mu
  int idle_workers = 0;                 // waiting on cv
  bool stopping = false;
  std::vector<std::thread> workers;
  // Store callbacks not yet finished (they run the listeners after the acknowledgement, on the
  // store's writer thread); Stop() waits for them so that none outlives the pipeline.
  std::mutex commits_mu;
  std::condition_variable commits_cv;
  int commits_pending = 0;

  // Marks one store callback as finished when it goes out of scope.
  struct CommitDone {
    Impl* impl;
    ~CommitDone() {
      std::lock_guard lock(impl->commits_mu);
      if (--impl->commits_pending == 0) impl->commits_cv.notify_all();
    }
  };

  Impl(SeriesStore& s, Metrics& m, PipelineOptions o)
      : store(s),
        options(o),
        submitted(m.Counter("bysans_pipeline_uplinks_total", "Uplinks submitted to the pipeline")),
        rejected_full(m.Counter("bysans_pipeline_rejected_total",
                                "Uplinks refused because the pipeline was full (back-pressure)")),
        rejected_org_share(
            m.Counter("bysans_pipeline_org_share_rejected_total",
                      "Uplinks refused because their organisation held its share of the pipeline's "
                      "in-flight window (back-pressure on that organisation only)")),
        store_errors(
            m.Counter("bysans_pipeline_store_errors_total", "Uplinks whose commit failed")),
        duplicates(m.Counter("bysans_pipeline_duplicates_total",
                             "Uplinks dropped as copies of a stored message (same dedup key)")),
        shed(m.Counter("bysans_pipeline_decode_shed_total",
                       "Uplinks stored raw, not decoded: their organisation's decode backlog was "
                       "full")),
        in_flight_gauge(
            m.Gauge("bysans_pipeline_in_flight", "Uplinks accepted, not yet committed")),
        queue(o.decode_threads > 1 ? o.decode_threads - 1 : 1) {}

  void StartWorkers() {
    for (int i = 0; i < options.decode_threads; ++i)
      workers.emplace_back([this] {
        NameThisThread("decode");
        WorkerLoop();
      });
  }

  // A worker wakes only for an item it can run: with one organisation (at most
  // max_running_per_org decodes at once) a wake-up per queued item would mostly find nothing
  // runnable and cost two context switches for nothing.
  void WorkerLoop() {
    using Ticket = FairQueue<std::pair<std::shared_ptr<Uplink>, Done>>::Ticket;
    std::optional<Ticket> t;
    int64_t cost = 0;
    int64_t setup = 0;
    for (;;) {
      bool wake;
      {
        std::unique_lock lock(mu);
        if (t) queue.Done(t->org, t->lane, cost, setup);
        t = queue.Pop();
        if (!t) {
          ++idle_workers;
          cv.wait(lock, [&] {
            t = queue.Pop();
            return t || (stopping && queue.empty());
          });
          --idle_workers;
          if (!t) {
            lock.unlock();
            cv.notify_all();  // stopping: the other idle workers leave too
            return;
          }
        }
        wake = idle_workers > 0 && queue.HasRunnable();
      }
      if (wake) cv.notify_one();
      auto start = std::chrono::steady_clock::now();
      decoder->Decode(*t->item.first);
      cost = std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::steady_clock::now() - start)
                 .count();
      setup = t->item.first->decode_setup_us;
      // Handed to the store before the device's next message can be taken: order kept.
      Commit(std::move(t->item.first), std::move(t->item.second));
    }
  }

  // Why an organisation's uplinks are stored raw, for the operator: at most 5 lines at once and
  // one a minute per organisation, each with the count of those not logged. Holds mu.
  void LogShed(Id org, int64_t backlog_us) {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
    int64_t unlogged = 0;
    if (!shed_log.Allow(org, now, &unlogged)) return;
    spdlog::warn(
        "pipeline: organisation {}'s decode backlog is {} ms ({} uplinks queued or running at "
        "{} µs each on average), over the limit of {} ms: its uplinks are stored raw with a "
        "decode error ({} more were since the previous such line)",
        org, backlog_us / 1000, queue.Pending(org), queue.AverageCost(org),
        options.max_decode_backlog_ms, unlogged);
  }

  void Finish(Id org, Done& done, const Status& st) {
    org_window.Give(org);
    in_flight.fetch_sub(1);
    in_flight_gauge.Decrement();
    if (!st.ok()) store_errors.Increment();
    done(st);
  }

  void Commit(std::shared_ptr<Uplink> u, Done done) {
    if (quality) quality->Check(*u->device, u->readings);
    if (!u->dedup_key.empty()) u->raw.dedup_key = std::move(u->dedup_key);
    // One batch, shared by the store and the commit listeners: nothing is copied.
    auto batch = std::make_shared<IngestBatch>();
    batch->messages.push_back(std::move(u->raw));
    batch->readings = std::move(u->readings);
    batch->paced = u->paced;
    // Text a device sent that is not UTF-8 (or holds U+0000) is kept with U+FFFD in its place;
    // readings no store keeps (a time beyond ±31,700 years): the message is stored raw with the
    // reason, as an undecodable one is, instead of being refused by the store.
    MakeIngestTextValid(*batch);
    DropOversizedReadings(batch->readings, batch->messages.front().decode_warnings);
    key_limit.Apply(u->device->id, batch->readings, batch->messages.front().decode_warnings);
    if (Status st = CheckIngestBatch(*batch); !st.ok()) {
      batch->readings.clear();
      RawMessage& raw = batch->messages.front();
      raw.decode_status = DecodeStatus::kError;
      raw.decode_error = st.message();
      u->decoded_json.clear();
    }
    if (shares && shares(u->device->app_id)) {
      batch->share_app_id = u->device->app_id;
      // Without a decoder, the JSON the device sent is the payload as it is (OS2iot's meaning).
      batch->share_decoded = !u->decoded_json.empty() ? std::move(u->decoded_json)
                             : LooksLikeJson(batch->messages.front())
                                 ? batch->messages.front().payload
                                 : std::string();
    }
    if (feed_partition_of) {  // also without readings: the device was seen (silence rules)
      batch->feed_partition = feed_partition_of(*u->device);
      if (batch->feed_partition >= 0) batch->feed_device = u->device;
    }
    {
      std::lock_guard lock(commits_mu);
      ++commits_pending;
    }
    store.AppendShared(
        batch, [this, batch, u = std::move(u), done = std::move(done)](const Status& st) mutable {
          CommitDone finished{this};
          if (!st.ok()) {
            // Not stored (store queue full or closing, or the batch refused): the message goes
            // back into the uplink for the caller's retry.
            u->raw = std::move(batch->messages.front());
            u->readings = std::move(batch->readings);
            u->decoded_json = std::move(batch->share_decoded);
          }
          bool ok = st.ok();
          u->duplicate = ok && batch->duplicates > 0;
          if (u->duplicate) duplicates.Increment();
          Finish(u->device->org_id, done, st);
          if (!ok || u->duplicate) return;  // listeners saw these readings with the first copy
          for (const auto& l : listeners) l(*u->device, batch->messages.front(), batch->readings);
          for (const auto& l : shared_listeners) {
            l(u->device, std::shared_ptr<const std::vector<Reading>>(batch, &batch->readings));
          }
        });
  }
};

void Pipeline::SetShareFilter(std::function<bool(Id app_id)> shares) {
  impl_->shares = std::move(shares);
}

void Pipeline::SetRuleFeed(std::function<int(const Device& device)> partition_of) {
  impl_->feed_partition_of = std::move(partition_of);
}

Pipeline::Pipeline(SeriesStore& store, Metrics& metrics, PipelineOptions options)
    : impl_(std::make_unique<Impl>(store, metrics, options)) {}

Pipeline::~Pipeline() { Stop(); }

void Pipeline::SetDecoder(std::shared_ptr<UplinkDecoder> decoder) {
  impl_->decoder = std::move(decoder);
  if (impl_->workers.empty()) impl_->StartWorkers();
}

void Pipeline::SetQualityChecker(std::shared_ptr<QualityChecker> checker) {
  impl_->quality = std::move(checker);
}

void Pipeline::AddCommitListener(CommitListener listener) {
  impl_->listeners.push_back(std::move(listener));
}

void Pipeline::AddSharedCommitListener(SharedCommitListener listener) {
  impl_->shared_listeners.push_back(std::move(listener));
}

void Pipeline::Submit(Uplink uplink, Done done) {
  Submit(std::make_shared<Uplink>(std::move(uplink)), std::move(done));
}

void Pipeline::Submit(std::shared_ptr<Uplink> uplink, Done done) {
  Impl& m = *impl_;
  m.submitted.Increment();
  if (m.in_flight.fetch_add(1) >= m.options.max_in_flight) {
    m.in_flight.fetch_sub(1);
    m.rejected_full.Increment();
    done(Unavailable("the ingest pipeline is full; retry shortly"));
    return;
  }
  if (!m.org_window.TryTake(uplink->device->org_id)) {
    m.in_flight.fetch_sub(1);
    m.rejected_org_share.Increment();
    done(Status(Code::kRateLimited,
                fmt::format("this organisation has {} uplinks waiting to be stored, its share of "
                            "the ingest pipeline; retry shortly",
                            m.org_window.max_per_org())));
    return;
  }
  m.in_flight_gauge.Increment();
  if (!uplink->skip_decode && m.decoder && m.decoder->Applies(*uplink->device)) {
    bool stopping;
    {
      std::lock_guard lock(m.mu);
      const Device& d = *uplink->device;
      stopping = m.stopping;
      const int64_t backlog_us = m.queue.Backlog(d.org_id);
      if (!stopping && backlog_us <= m.options.max_decode_backlog_ms * 1000) {
        m.queue.Push(d.org_id, d.id, {std::move(uplink), std::move(done)});
        // A transport that submits a read's messages in a WakeBatch (the MQTT client) wakes
        // one worker for them all, when the batch ends; a woken worker wakes the next.
        if (m.idle_workers > 0 && m.queue.HasRunnable())
          WakeBatch::Defer(&m, [&m] { m.cv.notify_one(); });
        return;
      }
      if (!stopping) m.LogShed(d.org_id, backlog_us);
    }
    if (stopping) {
      m.Finish(uplink->device->org_id, done, Unavailable("bysans is shutting down"));
      return;
    }
    // Stored raw at once (before the device's queued messages: it has no readings to order).
    m.shed.Increment();
    uplink->readings.clear();
    uplink->raw.decode_status = DecodeStatus::kError;
    uplink->raw.decode_error = kDecodeBacklogError;
  }
  m.Commit(std::move(uplink), std::move(done));
}

size_t Pipeline::in_flight() const { return impl_->in_flight.load(); }

void Pipeline::Stop() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  for (auto& t : impl_->workers)
    if (t.joinable()) t.join();
  impl_->workers.clear();
  // The store calls back every batch it was given (stored, failed or refused).
  std::unique_lock lock(impl_->commits_mu);
  impl_->commits_cv.wait(lock, [&] { return impl_->commits_pending == 0; });
}

}  // namespace bysans::pipeline
