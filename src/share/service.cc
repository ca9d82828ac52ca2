#include "share/service.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/thread_name.h"
#include "share/format.h"
#include "share/http_push.h"
#include "share/mqtt_push.h"
#include "share/ngsild_push.h"
#include "store/personal_metadata.h"

namespace bysans::share {
namespace {

constexpr TimeMs kCursorSaveMs = 200;      // a busy worker saves its cursor at most this often
constexpr TimeMs kSuccessLogMs = 1000;     // successes are logged as one entry per second
constexpr TimeMs kDeviceCacheMs = 10'000;  // device names and locations for the envelope
constexpr TimeMs kWillShareMs = 30'000;    // WillShare holds until the target is reconciled

}  // namespace

struct TargetService::Impl {
  // One active target: its own thread, connection, cursor and retry state.
  struct Worker {
    Id id = 0;
    Id app_id = 0;
    std::thread thread;
    std::atomic<bool> stop{false};
    std::atomic<bool> woken{false};  // a commit happened since the worker last read the log
    std::mutex mu;
    std::condition_variable cv;
    // Guarded by mu.
    DataTarget target;
    std::map<std::string, std::string> headers;
    std::string password;  // MQTT; NGSI-LD: the header value or OAuth2 client secret
    bool reconfigured = false;
    bool wake = false;
    int64_t cursor = 0;     // delivered up to here
    int64_t persisted = 0;  // ... of which the store knows
    TargetStatus status;
    prometheus::Counter* sent_total = nullptr;
    prometheus::Counter* failed_total = nullptr;
    prometheus::Gauge* queue_depth = nullptr;  // set by the supervisor's prune pass
    prometheus::Gauge* lag_seconds = nullptr;
  };

  Store& store;
  TargetStore& targets;
  const Clock& clock;
  Metrics& metrics;
  ServiceOptions opts;

  mutable std::shared_mutex apps_mu;
  std::unordered_map<Id, std::vector<std::shared_ptr<Worker>>> by_app;
  std::unordered_map<Id, TimeMs> will_share;  // app → until
  // by_app or will_share is not empty (written under apps_mu): without any target, the
  // pipeline's per-message questions cost one atomic load, no lock.
  std::atomic<bool> any{false};

  // Under apps_mu (unique).
  void UpdateAny() { any.store(!by_app.empty() || !will_share.empty()); }

  std::mutex workers_mu;  // the supervisor's map
  std::map<Id, std::shared_ptr<Worker>> workers;

  std::thread supervisor;
  std::mutex sup_mu;
  std::condition_variable sup_cv;
  bool stopping = false;
  bool changed = false;
  int64_t seen_generation = -1;
  bool retry_missing = false;  // a worker could not be started (Reconcile): try again
  TimeMs last_prune = 0;

  std::mutex dev_mu;
  std::unordered_map<Id, std::pair<TimeMs, std::shared_ptr<const Device>>> devices;
  std::unordered_map<Id, std::pair<TimeMs, std::shared_ptr<const DeviceModel>>> models;
  uint64_t devices_generation = 0;  // Store::devices_generation() the two maps belong to

  NgsiLdPusher ngsild;  // every NGSI-LD target's upserts (thread-safe)
  Backfills backfills;

  Impl(Store& s, const Clock& c, Metrics& m, ServiceOptions o)
      : store(s),
        targets(s.targets()),
        clock(c),
        metrics(m),
        opts(std::move(o)),
        ngsild(c, opts.outbound),
        backfills(s, c, opts.worker_nice) {}

  // ------------------------------------------------------------ supervisor

  void SupervisorLoop() {
    NameThisThread("share-super");
    std::unique_lock lk(sup_mu);
    while (!stopping) {
      const bool due = changed || retry_missing || targets.targets_generation() != seen_generation;
      changed = false;
      retry_missing = false;
      lk.unlock();
      if (due) Reconcile();
      if (clock.NowMs() - last_prune >= opts.prune_ms) Prune();
      lk.lock();
      sup_cv.wait_for(lk, std::chrono::milliseconds(opts.watch_ms),
                      [&] { return stopping || changed; });
    }
  }

  void Reconcile() {
    const int64_t generation = targets.targets_generation();
    auto list = targets.ListTargets(0);
    if (!list.ok()) {
      spdlog::warn("data targets: {}", list.status().message());
      return;
    }
    seen_generation = generation;
    std::vector<std::shared_ptr<Worker>> gone;
    std::unordered_set<Id> apps_before, apps_after;
    {
      std::lock_guard lk(workers_mu);
      for (auto& [id, w] : workers) apps_before.insert(w->app_id);
      std::unordered_set<Id> present;
      for (DataTarget& t : *list) {
        present.insert(t.id);
        apps_after.insert(t.app_id);
        auto headers = targets.TargetHeaders(t.id);
        if (!headers.ok()) spdlog::warn("data target {}: {}", t.id, headers.status().message());
        auto password = targets.TargetPassword(t.id);
        if (!password.ok()) spdlog::warn("data target {}: {}", t.id, password.status().message());
        auto it = workers.find(t.id);
        if (it == workers.end()) {
          auto w = std::make_shared<Worker>();
          w->id = t.id;
          w->app_id = t.app_id;
          w->cursor = w->persisted = t.cursor;
          w->headers = headers.ok() ? *headers : std::map<std::string, std::string>{};
          w->password = password.ok() ? *password : std::string();
          w->target = std::move(t);
          const Metrics::Labels labels = {{"target", std::to_string(w->id)}};
          w->sent_total = &metrics.Counter("bysans_target_sent_total",
                                           "Records a data target delivered", labels);
          w->failed_total = &metrics.Counter("bysans_target_failed_total",
                                             "Failed requests of a data target", labels);
          w->queue_depth = &metrics.Gauge("bysans_target_queue_depth",
                                          "Records of a data target's application not yet "
                                          "delivered to it",
                                          labels);
          w->lag_seconds =
              &metrics.Gauge("bysans_target_lag_seconds",
                             "Age of a data target's oldest undelivered record", labels);
          try {
            w->thread = std::thread([this, w] { Run(*w); });
          } catch (const std::system_error& e) {
            // No thread to be had (the process's or the machine's limit): the target waits for
            // a later round instead of the server stopping; the limit per organisation
            // (api/org_limits.h) keeps it from coming to this.
            spdlog::error("data target {}: no delivery thread: {}", w->id, e.what());
            retry_missing = true;
            continue;
          }
          workers.emplace(w->id, std::move(w));
          continue;
        }
        Worker& w = *it->second;
        std::lock_guard wl(w.mu);
        if (w.target.updated_ms != t.updated_ms || w.target.paused != t.paused) {
          t.cursor = w.cursor;
          w.target = std::move(t);
          if (headers.ok()) w.headers = *headers;
          if (password.ok()) w.password = *password;
          w.reconfigured = true;
          w.cv.notify_all();
        }
      }
      for (auto it = workers.begin(); it != workers.end();) {
        if (present.count(it->first) == 0) {
          gone.push_back(it->second);
          it = workers.erase(it);
        } else {
          ++it;
        }
      }
      std::unique_lock al(apps_mu);
      by_app.clear();
      for (auto& [id, w] : workers) by_app[w->app_id].push_back(w);
      const TimeMs now = clock.NowMs();
      std::erase_if(will_share,
                    [&](const auto& e) { return e.second < now || by_app.count(e.first) > 0; });
      UpdateAny();
    }
    for (auto& w : gone) StopWorker(*w);
    // An application whose last target went: its log is no longer needed, up to its end as
    // read before the store says it has no target (a target created meanwhile starts after it).
    for (Id app : apps_before) {
      if (apps_after.count(app) > 0 || Shares(app)) continue;
      auto end = targets.ShareLogEnd(app);
      auto left = targets.ListTargets(app);
      if (!end.ok() || !left.ok() || !left->empty()) continue;
      if (Status s = targets.PruneShareLog(app, *end); !s.ok())
        spdlog::warn("data targets: pruning application {}: {}", app, s.message());
    }
  }

  // Every prune_ms: deletes what every target of an application passed, and sets the
  // targets' queue-depth and lag gauges.
  void Prune() {
    last_prune = clock.NowMs();
    // app → the smallest cursor the store holds for its targets: read from the store, not from
    // the workers, so a target created since the last reconcile counts too (its cursor is the
    // log's end when it was created, never below what is pruned here).
    std::unordered_map<Id, int64_t> upto;
    auto stored = targets.ListTargets(0);
    if (!stored.ok()) return;
    for (const DataTarget& t : *stored) {
      auto [it, fresh] = upto.emplace(t.app_id, t.cursor);
      if (!fresh) it->second = std::min(it->second, t.cursor);
    }
    std::vector<std::pair<std::shared_ptr<Worker>, int64_t>> cursors;
    {
      std::shared_lock lk(apps_mu);
      for (const auto& [app, list] : by_app) {
        for (const auto& w : list) {
          std::lock_guard wl(w->mu);
          cursors.emplace_back(w, w->cursor);
        }
      }
    }
    for (const auto& [w, cursor] : cursors) {
      auto b = targets.ShareBacklogAfter(w->app_id, cursor);
      if (!b.ok()) continue;
      w->queue_depth->Set(static_cast<double>(b->records));
      w->lag_seconds->Set(b->oldest_received_ms > 0
                              ? static_cast<double>(last_prune - b->oldest_received_ms) / 1000.0
                              : 0.0);
    }
    for (const auto& [app, pos] : upto) {
      if (Status s = targets.PruneShareLog(app, pos); !s.ok())
        spdlog::warn("data targets: pruning application {}: {}", app, s.message());
    }
  }

  void StopWorker(Worker& w) {
    {
      std::lock_guard lk(w.mu);
      w.stop = true;
      w.cv.notify_all();
    }
    if (w.thread.joinable()) w.thread.join();
  }

  bool Shares(Id app_id) const {
    if (!any.load()) return false;
    std::shared_lock lk(apps_mu);
    if (by_app.count(app_id) > 0) return true;
    auto w = will_share.find(app_id);  // a target being created (until it is reconciled)
    return w != will_share.end() && w->second >= clock.NowMs();
  }

  // ------------------------------------------------------------ devices

  // A device or device model as stored at most kDeviceCacheMs ago (null when gone); everything
  // cached is dropped when another node changed devices (Store::devices_generation).
  template <class T, class Load>
  std::shared_ptr<const T> Cached(
      std::unordered_map<Id, std::pair<TimeMs, std::shared_ptr<const T>>>& map, Id id, Load load) {
    const TimeMs now = clock.NowMs();
    const uint64_t generation = store.devices_generation();
    {
      std::lock_guard lk(dev_mu);
      if (generation != devices_generation) {
        devices.clear();
        models.clear();
        devices_generation = generation;
      }
      auto it = map.find(id);
      if (it != map.end() && now - it->second.first < kDeviceCacheMs) return it->second.second;
    }
    auto got = load(id);
    std::shared_ptr<const T> one = got.ok() ? std::make_shared<const T>(*got) : nullptr;
    std::lock_guard lk(dev_mu);
    if (map.size() > 100'000) map.clear();
    map[id] = {now, one};
    return one;
  }
  std::shared_ptr<const Device> DeviceOf(Id id) {
    // Personal metadata keys never reach a target (NGSI-LD entities carry the metadata).
    return Cached<Device>(devices, id, [&](Id i) -> Result<Device> {
      BYSANS_ASSIGN_OR_RETURN(Device d, store.GetDevice(i));
      return WithoutPersonalMetadata(store, std::move(d));
    });
  }
  std::shared_ptr<const DeviceModel> ModelOf(Id id) {
    return Cached<DeviceModel>(models, id, [&](Id i) { return store.GetDeviceModel(i); });
  }

  std::string Body(const DataTarget& t, std::span<const ShareRecord> records) {
    std::vector<std::shared_ptr<const Device>> keep;  // alive while the body is formatted
    DeviceLookup lookup = [&](Id id) -> const Device* {
      keep.push_back(DeviceOf(id));
      return keep.back().get();
    };
    return FormatRequest(t.format, records, t.batch_size > 1, lookup);
  }

  // ------------------------------------------------------------ worker

  // A target's opened secrets, copied for one iteration.
  struct Secrets {
    std::map<std::string, std::string> headers;
    std::string password;
  };

  // What one worker thread keeps between iterations.
  struct RunState {
    HttpPusher pusher;
    MqttPusher mqtt;                    // one persistent connection (MQTT targets)
    std::string client_id_suffix;       // the test button's connection: its own client id
    std::deque<ShareRecord> buffered;   // read from the log, after the in-flight slice
    int64_t read_upto = 0;              // the last position read
    std::vector<ShareRecord> inflight;  // the slice being sent (again, after a failure)
    int64_t inflight_end = 0;           // the cursor once it is delivered
    int attempts = 0;
    TimeMs first_failure_ms = 0;
    TimeMs cursor_saved_ms = 0;
    // Successes not yet in the delivery log (one entry per kSuccessLogMs).
    TargetDelivery ok_log;
    bool standing_by = false;  // another node delivers (ServiceOptions::may_deliver)
  };

  // Several nodes: whether this node delivers now. When it stops, it saves its cursor and drops
  // what it read; when it starts again, it goes on from the cursor in the store, which the node
  // that delivered meanwhile moved. False: wait.
  bool MayDeliver(Worker& w, RunState& rs) {
    if (!opts.may_deliver) return true;
    if (!opts.may_deliver()) {
      if (!rs.standing_by) {
        SaveCursor(w, rs, true);
        FlushSuccessLog(rs, true);
        rs.buffered.clear();
        rs.inflight.clear();
        rs.standing_by = true;
      }
      return false;
    }
    if (rs.standing_by) {
      auto stored = targets.GetTarget(w.id);
      if (!stored.ok()) return false;  // tried again after the next wait
      std::lock_guard lk(w.mu);
      w.cursor = w.persisted = stored->cursor;
      rs.read_upto = stored->cursor;
      rs.attempts = 0;
      rs.first_failure_ms = 0;
      rs.standing_by = false;
    }
    return true;
  }

  void Run(Worker& w) {
    NameThisThread("share-target");
    // Delivery yields the CPU to ingest when both want it (Linux: a thread's own nice value):
    // at peak a target's lag grows and catches up afterwards, the ingest rate stays.
    if (opts.worker_nice > 0)
      (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), opts.worker_nice);
    RunState rs;
    {
      std::lock_guard lk(w.mu);
      rs.read_upto = w.cursor;
    }
    while (!w.stop.load()) {
      DataTarget t;
      Secrets secrets;
      {
        std::lock_guard lk(w.mu);
        if (w.reconfigured) {  // start over from the cursor with the new settings
          w.reconfigured = false;
          rs.buffered.clear();
          rs.inflight.clear();
          rs.read_upto = w.cursor;
          rs.attempts = 0;
          rs.first_failure_ms = 0;
        }
        t = w.target;
        secrets.headers = w.headers;
        secrets.password = w.password;
        if (t.paused) w.status.status = "paused";
      }
      if (!MayDeliver(w, rs)) {
        Wait(w, opts.poll_ms, false);
        continue;
      }
      if (t.paused) {
        SaveCursor(w, rs, true);
        Wait(w, opts.poll_ms, true);
        continue;
      }
      if (rs.inflight.empty() && ReplayLetters(w, rs, t, secrets)) continue;
      if (rs.inflight.empty() && backfills.Running(t.id)) {  // history first (backfill.h)
        Wait(w, 50, false);
        continue;
      }
      if (rs.inflight.empty() && !NextSlice(w, rs, t)) {
        SaveCursor(w, rs, true);
        FlushSuccessLog(rs, true);
        Wait(w, opts.poll_ms, true);
        continue;
      }
      Send(w, rs, t, secrets);
    }
    SaveCursor(w, rs, true);
    FlushSuccessLog(rs, true);
  }

  // Waits up to `ms`, or until stopped or reconfigured (and, when `wakes`, a commit).
  void Wait(Worker& w, TimeMs ms, bool wakes) {
    std::unique_lock lk(w.mu);
    w.cv.wait_for(lk, std::chrono::milliseconds(ms),
                  [&] { return w.stop.load() || w.reconfigured || (wakes && w.wake); });
    w.wake = false;
  }

  bool Wanted(const DataTarget& t, const ShareRecord& r) const {
    if (r.device_id == 0) return false;  // erased (a data subject's erasure leaves a tombstone)
    return t.device_ids.empty() ||
           std::find(t.device_ids.begin(), t.device_ids.end(), r.device_id) != t.device_ids.end();
  }

  // Fills rs.inflight with the next records to send; false when there is none. Records of
  // devices the target does not forward are passed over (the cursor moves past them).
  bool NextSlice(Worker& w, RunState& rs, const DataTarget& t) {
    const size_t batch = static_cast<size_t>(std::max(1, t.batch_size));
    if (rs.buffered.size() < batch) {
      w.woken.store(false);
      auto more = targets.ReadShareLog(t.app_id, rs.read_upto, opts.read_ahead);
      if (!more.ok()) {
        spdlog::warn("data target {}: {}", t.id, more.status().message());
      } else {
        for (ShareRecord& r : *more) {
          rs.read_upto = r.position;
          rs.buffered.push_back(std::move(r));
        }
      }
    }
    int64_t end = 0;
    while (!rs.buffered.empty() && rs.inflight.size() < batch) {
      ShareRecord& r = rs.buffered.front();
      end = r.position;
      if (Wanted(t, r)) rs.inflight.push_back(std::move(r));
      rs.buffered.pop_front();
    }
    if (end == 0) return false;
    if (rs.inflight.empty()) {  // only records of other devices: passed over
      Advance(w, rs, end, 0);
      return false;
    }
    rs.inflight_end = end;
    return true;
  }

  void Advance(Worker& w, RunState& rs, int64_t cursor, int64_t sent) {
    {
      std::lock_guard lk(w.mu);
      w.cursor = std::max(w.cursor, cursor);
      w.status.sent += sent;
    }
    if (sent > 0) w.sent_total->Increment(static_cast<double>(sent));
    SaveCursor(w, rs, false);
  }

  void SaveCursor(Worker& w, RunState& rs, bool now) {
    int64_t cursor;
    {
      std::lock_guard lk(w.mu);
      if (w.cursor == w.persisted) return;
      cursor = w.cursor;
    }
    const TimeMs t = clock.NowMs();
    if (!now && t - rs.cursor_saved_ms < kCursorSaveMs) return;
    if (Status s = targets.SetCursor(w.id, cursor); !s.ok()) {
      spdlog::warn("data target {}: saving its cursor: {}", w.id, s.message());
      return;
    }
    rs.cursor_saved_ms = t;
    std::lock_guard lk(w.mu);
    w.persisted = cursor;
  }

  // One attempt to deliver `records` to the target (HTTP: one request; MQTT: one publish
  // per record on the target's connection).
  PushResult Deliver(RunState& rs, const DataTarget& t, const Secrets& secrets,
                     std::span<const ShareRecord> records, std::atomic<bool>* stop) {
    if (t.type == "mqtt") {
      std::vector<mqtt::OutgoingMessage> messages;
      messages.reserve(records.size());
      for (const ShareRecord& r : records) {
        auto device = DeviceOf(r.device_id);
        DeviceLookup lookup = [&](Id) { return device.get(); };
        messages.push_back(
            {ExpandTopic(t.topic, t.app_id, r, device.get()), FormatRecord(t.format, r, lookup)});
      }
      MqttTargetConfig config{t.url, "bysans-target-" + std::to_string(t.id) + rs.client_id_suffix,
                              t.username, secrets.password};
      return rs.mqtt.Publish(config, opts.outbound, std::move(messages), t.qos, t.retain,
                             t.timeout_ms, stop);
    }
    if (t.type == "ngsi-ld") {
      return ngsild.Send(
          t, secrets.password, records, [&](Id id) { return DeviceOf(id); },
          [&](Id id) { return ModelOf(id); });
    }
    return rs.pusher.Post(t.url, secrets.headers, Body(t, records), t.timeout_ms, opts.outbound,
                          stop);
  }

  void Send(Worker& w, RunState& rs, const DataTarget& t, const Secrets& secrets) {
    const TimeMs start = clock.NowMs();
    PushResult r = Deliver(rs, t, secrets, rs.inflight, &w.stop);
    const TimeMs now = clock.NowMs();
    if (w.stop.load() && !r.ok) return;  // aborted by the stop: sent again after the restart
    const auto n = static_cast<int>(rs.inflight.size());
    if (r.ok) {
      // Delivered with remarks (an NGSI-LD broker refused some entities): in the log as such.
      if (!r.error.empty()) {
        LogAttempt(t.id, now, true, n, rs.inflight.front().position, rs.inflight.back().position,
                   r.error, now - start);
      }
      if (rs.ok_log.records == 0) rs.ok_log.first_position = rs.inflight.front().position;
      rs.ok_log.records += n;
      rs.ok_log.last_position = rs.inflight.back().position;
      rs.ok_log.duration_ms = std::max(rs.ok_log.duration_ms, now - start);
      rs.ok_log.target_id = t.id;
      rs.inflight.clear();
      rs.attempts = 0;
      rs.first_failure_ms = 0;
      {
        std::lock_guard lk(w.mu);
        w.status.status = "active";
        w.status.last_success_ms = now;
      }
      Advance(w, rs, rs.inflight_end, n);
      FlushSuccessLog(rs, false);
      return;
    }
    FlushSuccessLog(rs, true);
    ++rs.attempts;
    if (rs.first_failure_ms == 0) rs.first_failure_ms = now;
    w.failed_total->Increment();
    LogAttempt(t.id, now, false, n, rs.inflight.front().position, rs.inflight.back().position,
               r.error, now - start);
    {
      std::lock_guard lk(w.mu);
      w.status.status = "failing";
      w.status.failed += 1;
      w.status.last_error = r.error;
    }
    if (rs.attempts >= t.max_attempts || now - rs.first_failure_ms >= t.max_age_ms) {
      for (const ShareRecord& rec : rs.inflight) {
        if (Status s = targets.AddDeadLetter(t.id, rec, r.error, rs.attempts, now); !s.ok()) {
          spdlog::warn("data target {}: keeping a dead letter: {}", t.id, s.message());
          Wait(w, opts.poll_ms, false);
          return;  // retried as a delivery: nothing is lost
        }
      }
      {
        std::lock_guard lk(w.mu);
        w.status.dead_letters += n;
      }
      rs.inflight.clear();
      rs.attempts = 0;
      rs.first_failure_ms = 0;
      Advance(w, rs, rs.inflight_end, 0);
      SaveCursor(w, rs, true);
      return;
    }
    const int shift = std::min(rs.attempts - 1, 30);
    const TimeMs backoff = std::min(opts.max_backoff_ms, opts.base_backoff_ms << shift);
    Wait(w, backoff, false);
  }

  // Sends the dead letters marked for replay, before the log. True when there were some.
  bool ReplayLetters(Worker& w, RunState& rs, const DataTarget& t, const Secrets& secrets) {
    const size_t batch = static_cast<size_t>(std::max(1, t.batch_size));
    auto letters = targets.ReplayQueue(t.id, batch);
    if (!letters.ok() || letters->empty()) return false;
    std::vector<ShareRecord> records;
    std::vector<Id> ids;
    for (DeadLetter& d : *letters) {
      ids.push_back(d.id);
      records.push_back(std::move(d.record));
    }
    const TimeMs start = clock.NowMs();
    PushResult r = Deliver(rs, t, secrets, records, &w.stop);
    const TimeMs now = clock.NowMs();
    if (w.stop.load() && !r.ok) return true;
    LogAttempt(t.id, now, r.ok, static_cast<int>(records.size()), records.front().position,
               records.back().position, r.ok ? "replay" : "replay: " + r.error, now - start);
    Status s = r.ok ? targets.DeleteDeadLetters(ids) : targets.RequeueDeadLetters(ids, r.error);
    if (!s.ok()) spdlog::warn("data target {}: replay: {}", t.id, s.message());
    std::lock_guard lk(w.mu);
    if (r.ok) {
      w.status.sent += static_cast<int64_t>(records.size());
    } else {
      w.status.failed += 1;
      w.status.last_error = r.error;
    }
    return true;
  }

  void FlushSuccessLog(RunState& rs, bool now) {
    if (rs.ok_log.records == 0) return;
    const TimeMs t = clock.NowMs();
    if (!now && t - rs.ok_log.ts < kSuccessLogMs) return;
    LogAttempt(rs.ok_log.target_id, t, true, rs.ok_log.records, rs.ok_log.first_position,
               rs.ok_log.last_position, "", rs.ok_log.duration_ms);
    rs.ok_log = TargetDelivery{};
    rs.ok_log.ts = t;
  }

  void LogAttempt(Id target_id, TimeMs ts, bool ok, int records, int64_t first, int64_t last,
                  const std::string& error, int64_t duration_ms) {
    TargetDelivery d;
    d.target_id = target_id;
    d.ts = ts;
    d.ok = ok;
    d.records = records;
    d.first_position = first;
    d.last_position = last;
    d.error = error;
    d.duration_ms = duration_ms;
    if (Status s = targets.AppendDelivery(d, opts.delivery_log_keep); !s.ok())
      spdlog::warn("data target {}: delivery log: {}", target_id, s.message());
  }
};

TargetService::TargetService(Store& store, const Clock& clock, Metrics& metrics,
                             ServiceOptions options)
    : impl_(std::make_unique<Impl>(store, clock, metrics, std::move(options))) {}

TargetService::~TargetService() { Stop(); }

Status TargetService::Start() {
  impl_->Reconcile();
  if (impl_->seen_generation < 0) return Internal("data targets could not be loaded");
  impl_->supervisor = std::thread([this] { impl_->SupervisorLoop(); });
  return Status::Ok();
}

Status TargetService::StartBackfill(const DataTarget& target, TimeMs from, TimeMs to) {
  return impl_->backfills.Start(target, from, to);
}

Status TargetService::CancelBackfill(Id target_id) { return impl_->backfills.Cancel(target_id); }

std::optional<BackfillStatus> TargetService::BackfillOf(Id target_id) const {
  return impl_->backfills.StatusOf(target_id);
}

void TargetService::Stop() {
  Impl& m = *impl_;
  m.backfills.Stop();
  {
    std::lock_guard lk(m.sup_mu);
    m.stopping = true;
  }
  m.sup_cv.notify_all();
  if (m.supervisor.joinable()) m.supervisor.join();
  std::map<Id, std::shared_ptr<Impl::Worker>> workers;
  {
    std::lock_guard lk(m.workers_mu);
    workers.swap(m.workers);
    std::unique_lock al(m.apps_mu);
    m.by_app.clear();
    m.will_share.clear();
    m.UpdateAny();
  }
  for (auto& [id, w] : workers) {  // all stop at once, then join
    std::lock_guard lk(w->mu);
    w->stop = true;
    w->cv.notify_all();
  }
  for (auto& [id, w] : workers) m.StopWorker(*w);
}

bool TargetService::Shares(Id app_id) const { return impl_->Shares(app_id); }

void TargetService::WillShare(Id app_id) {
  std::unique_lock lk(impl_->apps_mu);
  impl_->will_share[app_id] = impl_->clock.NowMs() + kWillShareMs;
  impl_->UpdateAny();
}

void TargetService::OnCommitted(const Device& device) {
  Impl& m = *impl_;
  if (!m.any.load()) return;
  std::shared_lock lk(m.apps_mu);
  auto it = m.by_app.find(device.app_id);
  if (it == m.by_app.end()) return;
  for (const auto& w : it->second) {
    if (w->woken.exchange(true)) continue;  // already woken since its last read
    std::lock_guard wl(w->mu);
    w->wake = true;
    w->cv.notify_all();
  }
}

void TargetService::Changed() {
  {
    std::lock_guard lk(impl_->sup_mu);
    impl_->changed = true;
  }
  impl_->sup_cv.notify_all();
}

Result<TargetStatus> TargetService::StatusOf(const DataTarget& target) {
  Impl& m = *impl_;
  TargetStatus st;
  int64_t cursor = target.cursor;
  std::shared_ptr<Impl::Worker> w;
  {
    std::lock_guard lk(m.workers_mu);
    auto it = m.workers.find(target.id);
    if (it != m.workers.end()) w = it->second;
  }
  if (w) {
    std::lock_guard lk(w->mu);
    st = w->status;
    cursor = w->cursor;
  }
  if (target.paused) st.status = "paused";
  BYSANS_ASSIGN_OR_RETURN(ShareBacklog b, m.targets.ShareBacklogAfter(target.app_id, cursor));
  st.queue_depth = b.records;
  if (b.oldest_received_ms > 0) {
    st.lag_seconds =
        static_cast<double>(std::max<TimeMs>(0, m.clock.NowMs() - b.oldest_received_ms)) / 1000.0;
  }
  return st;
}

namespace {
// A test push sends the device's latest readings up to this many bytes (model/reading_bytes.h):
// a device may keep 1,000 keys of 64 KiB texts.
constexpr size_t kTestLatestBytes = size_t{1} << 20;
}  // namespace

Result<TestResult> TargetService::Test(const DataTarget& target, Id device_id) {
  Impl& m = *impl_;
  MessageQuery q;
  q.device_id = device_id;
  q.limit = 1;
  BYSANS_ASSIGN_OR_RETURN(auto messages, m.store.QueryMessages(q));
  if (messages.empty())
    return FailedPrecondition("device " + std::to_string(device_id) + " has no message yet");
  const RawMessage& raw = messages.front();
  ShareRecord r;
  r.device_id = device_id;
  r.received_ms = raw.received_ms;
  r.message_id = raw.id;
  r.decoded_json = raw.payload;  // as without a decoder (format.h falls back to a string)
  // The device's latest readings as far as a test push of kTestLatestBytes goes.
  LatestQuery latest;
  latest.device_ids = {device_id};
  latest.max_bytes = kTestLatestBytes;
  BYSANS_ASSIGN_OR_RETURN(LatestSlice slice, m.store.LatestWithin(latest));
  r.readings = std::move(slice.readings);
  Impl::Secrets secrets;
  BYSANS_ASSIGN_OR_RETURN(secrets.headers, m.targets.TargetHeaders(target.id));
  BYSANS_ASSIGN_OR_RETURN(secrets.password, m.targets.TargetPassword(target.id));
  DataTarget t = target;
  t.timeout_ms = std::min(target.timeout_ms, m.opts.max_test_timeout_ms);
  Impl::RunState rs;  // its own connection, outside the target's queue
  rs.client_id_suffix = "-test";
  const TimeMs start = m.clock.NowMs();
  PushResult p = m.Deliver(rs, t, secrets, {&r, 1}, nullptr);
  TestResult out{p.ok, p.http_status, p.error, m.clock.NowMs() - start};
  m.LogAttempt(target.id, m.clock.NowMs(), p.ok, 1, 0, 0, p.ok ? "test" : "test: " + p.error,
               out.duration_ms);
  return out;
}

}  // namespace bysans::share
