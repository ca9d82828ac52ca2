// DeviceCache: devices looked up by a key (id, DevEUI, an external topic) for
// the MQTT message path, through a small TTL cache.
//
// A message never waits for the store except for a device not seen before: an
// expired device is still returned while a Refresher thread reloads it (once
// per entry at a time). A change to a device, or its deletion, is therefore
// seen within the TTL plus one reload. "No such device" answers are cached for
// a shorter time, so floods of unknown keys do not reach the store. Before,
// an expired entry was reloaded on the I/O thread itself: 200 devices expiring
// together held every message behind them for ~250 ms (bench/mqtt).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "core/clock.h"
#include "core/status.h"
#include "model/model.h"

namespace bysans::mqtt {

// Runs queued tasks on one background thread, in order; Stop drops the rest.
class Refresher {
 public:
  Refresher();
  ~Refresher();
  Refresher(const Refresher&) = delete;
  Refresher& operator=(const Refresher&) = delete;
  // False (task dropped) once stopping.
  bool Post(std::function<void()> task);
  void Stop();

 private:
  void Loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::thread thread_;
};

struct DeviceCacheTtl {
  TimeMs found_ms = 5'000;
  TimeMs missing_ms = 1'000;
};

template <typename Key>
class DeviceCache {
 public:
  using Load = std::function<Result<Device>()>;

  DeviceCache(const Clock& clock, Refresher& refresher, DeviceCacheTtl ttl = {},
              size_t max_entries = 100'000, std::function<uint64_t()> generation = {})
      : clock_(clock),
        refresher_(refresher),
        ttl_(ttl),
        max_entries_(max_entries),
        generation_(std::move(generation)) {}

  // The device for `key`, or null when there is none. `load` reads it from the
  // store; it is called here only on a miss, else from the refresher.
  template <typename LoadFn>
  std::shared_ptr<const Device> Get(const Key& key, const LoadFn& load) {
    std::unique_lock lock(mu_);
    const TimeMs now = clock_.NowMs();
    ExpireAllIfChangedElsewhere();
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      Entry& e = it->second;
      if (e.expires > now) return e.device;
      if (e.device) {
        if (!e.refreshing) {
          e.refreshing = true;
          if (!refresher_.Post([this, key, load] { Refresh(key, load()); })) e.refreshing = false;
        }
        return e.device;
      }
    }
    lock.unlock();
    Result<Device> loaded = load();
    lock.lock();
    if (entries_.size() >= max_entries_) entries_.clear();
    Entry& e = entries_[key];
    Apply(e, std::move(loaded), /*keep_on_error=*/false);
    return e.device;
  }

  size_t size() {
    std::lock_guard lock(mu_);
    return entries_.size();
  }

 private:
  struct Entry {
    std::shared_ptr<const Device> device;  // null = none
    TimeMs expires = 0;
    bool refreshing = false;
  };

  // Devices changed on another node: every entry is reloaded at its next use (served meanwhile,
  // as on expiry), so no storm of loads on the caller's thread.
  void ExpireAllIfChangedElsewhere() {
    if (!generation_) return;
    const uint64_t g = generation_();
    if (g == seen_generation_) return;
    seen_generation_ = g;
    for (auto& [key, e] : entries_) e.expires = 0;
  }

  void Refresh(const Key& key, Result<Device> loaded) {
    std::lock_guard lock(mu_);
    Entry& e = entries_[key];
    e.refreshing = false;
    Apply(e, std::move(loaded), /*keep_on_error=*/true);
  }

  // A store error other than "not found" keeps what was there (when asked), retried soon.
  void Apply(Entry& e, Result<Device> loaded, bool keep_on_error) {
    const TimeMs now = clock_.NowMs();
    if (loaded.ok()) {
      e.device = std::make_shared<const Device>(std::move(*loaded));
      e.expires = now + ttl_.found_ms;
      return;
    }
    if (loaded.status().code() == Code::kNotFound || !keep_on_error) e.device = nullptr;
    e.expires = now + ttl_.missing_ms;
  }

  const Clock& clock_;
  Refresher& refresher_;
  DeviceCacheTtl ttl_;
  size_t max_entries_;
  std::function<uint64_t()> generation_;  // may be empty
  uint64_t seen_generation_ = 0;          // under mu_
  std::mutex mu_;
  std::unordered_map<Key, Entry> entries_;
};

}  // namespace bysans::mqtt
