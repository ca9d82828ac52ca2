#include "pipeline/device_key_limit.h"

#include <algorithm>
#include <functional>

namespace bysans::pipeline {
namespace {

constexpr size_t kKeysNamed = 5;

}  // namespace

void DeviceKeyLimit::Apply(Id device, std::vector<Reading>& readings,
                           std::vector<std::string>& warnings) {
  if (readings.empty()) return;
  Shard& shard = shards_[static_cast<uint64_t>(device) % kShards];
  size_t dropped = 0;
  std::string named;
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
      if (dropped++ < kKeysNamed) named += (named.empty() ? "'" : ", '") + r.key + "'";
      return true;
    });
    readings.erase(kept, readings.end());
  }
  if (dropped == 0) return;
  std::string more = dropped > kKeysNamed ? " and " + std::to_string(dropped - kKeysNamed) + " more"
                                          : std::string();
  warnings.push_back(std::to_string(dropped) + " reading(s) of new keys not stored (" + named +
                     more + "): a device may have at most " + std::to_string(max_keys_) +
                     " keys; the message keeps them as sent");
}

}  // namespace bysans::pipeline
