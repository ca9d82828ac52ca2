#include "pipeline/device_key_limit.h"

#include <algorithm>
#include <functional>
#include <tuple>

#include "pipeline/reading_limits.h"

namespace bysans::pipeline {

namespace {
uint64_t KeyHash(const std::string& key) { return std::hash<std::string>()(key); }
}  // namespace

std::optional<std::vector<uint64_t>> DeviceKeyLimit::StoredKeys(Id device) const {
  if (!known_keys_) return std::vector<uint64_t>();
  Result<std::vector<std::string>> keys = known_keys_(device);
  if (!keys.ok()) return std::nullopt;
  std::vector<uint64_t> out;
  out.reserve(keys->size());
  for (const std::string& k : *keys) out.push_back(KeyHash(k));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void DeviceKeyLimit::Apply(Id device, std::vector<Reading>& readings,
                           std::vector<std::string>& warnings) {
  if (readings.empty()) return;
  Shard& shard = shards_[static_cast<uint64_t>(device) % kShards];
  DroppedReadings dropped;
  {
    std::unique_lock lock(shard.mu);
    auto it = shard.keys.find(device);
    bool read_failed = false;
    if (it == shard.keys.end()) {  // first sight: the store is read unlocked
      lock.unlock();
      std::optional<std::vector<uint64_t>> stored = StoredKeys(device);
      lock.lock();
      bool first = false;
      std::tie(it, first) = shard.keys.try_emplace(device);
      // Another message of the device may have counted it meanwhile; a failed read leaves it to
      // the device's next message (this one counts from empty).
      if (first && stored) it->second = std::move(*stored);
      read_failed = first && !stored;
    }
    std::vector<uint64_t>& known = it->second;
    auto kept = std::remove_if(readings.begin(), readings.end(), [&](const Reading& r) {
      const uint64_t h = KeyHash(r.key);
      auto at = std::lower_bound(known.begin(), known.end(), h);
      if (at != known.end() && *at == h) return false;
      if (known.size() < max_keys_) {
        known.insert(at, h);
        return false;
      }
      dropped.Add(r.key);
      return true;
    });
    readings.erase(kept, readings.end());
    if (read_failed) shard.keys.erase(it);
  }
  if (dropped.empty()) return;
  warnings.push_back(dropped.Warning("of new keys not stored",
                                     "a device may have at most " + std::to_string(max_keys_) +
                                         " keys; the message keeps them as sent"));
}

}  // namespace bysans::pipeline
