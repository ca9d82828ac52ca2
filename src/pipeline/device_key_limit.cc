#include "pipeline/device_key_limit.h"

#include <algorithm>
#include <functional>

#include "pipeline/reading_limits.h"

namespace bysans::pipeline {

void DeviceKeyLimit::Apply(Id device, std::vector<Reading>& readings,
                           std::vector<std::string>& warnings) {
  if (readings.empty()) return;
  Shard& shard = shards_[static_cast<uint64_t>(device) % kShards];
  DroppedReadings dropped;
  {
    std::lock_guard lock(shard.mu);
    std::vector<uint64_t>& known = shard.keys[device];
    auto kept = std::remove_if(readings.begin(), readings.end(), [&](const Reading& r) {
      const uint64_t h = std::hash<std::string>()(r.key);
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
  }
  if (dropped.empty()) return;
  warnings.push_back(dropped.Warning("of new keys not stored",
                                     "a device may have at most " + std::to_string(max_keys_) +
                                         " keys; the message keeps them as sent"));
}

}  // namespace bysans::pipeline
