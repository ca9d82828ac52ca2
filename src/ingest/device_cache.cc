#include "ingest/device_cache.h"

namespace bysans::ingest {

DeviceKeyCache::DeviceKeyCache(MetaStore& store, const Clock& clock, DeviceCacheOptions options)
    : store_(store), clock_(clock), options_(options) {}

Result<std::shared_ptr<const Device>> DeviceKeyCache::Find(const std::string& key_hash) {
  TimeMs now = clock_.NowMs();
  uint64_t generation = 0;
  const uint64_t store_generation = store_.devices_generation();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (store_generation > store_generation_) {  // changed elsewhere: nothing held is sure
      entries_.clear();
      store_generation_ = store_generation;
      ++generation_;
    }
    generation = generation_;
    auto it = entries_.find(key_hash);
    if (it != entries_.end() && it->second.expires_ms > now) {
      if (!it->second.device) return NotFound("unknown ingest key");
      return it->second.device;
    }
  }
  // Look up outside the lock; concurrent misses for one key may both ask the
  // store, which is harmless.
  auto found = store_.FindDeviceByIngestKey(key_hash);
  Entry e;
  if (found.ok()) {
    e.device = std::make_shared<const Device>(std::move(found).value());
    e.expires_ms = now + options_.ttl_ms;
  } else if (found.status().code() == Code::kNotFound) {
    e.expires_ms = now + options_.negative_ttl_ms;
  } else {
    return found.status();
  }
  std::shared_ptr<const Device> device = e.device;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A device forgotten meanwhile may have been found by its old key: answer, do not keep.
    if (generation == generation_ && store_.devices_generation() == store_generation)
      InsertLocked(key_hash, std::move(e), now);
  }
  if (!device) return NotFound("unknown ingest key");
  return device;
}

void DeviceKeyCache::InsertLocked(const std::string& key_hash, Entry e, TimeMs now) {
  if (entries_.size() >= options_.max_entries && !entries_.count(key_hash)) {
    std::erase_if(entries_, [now](const auto& kv) { return kv.second.expires_ms <= now; });
    if (entries_.size() >= options_.max_entries) entries_.clear();
  }
  entries_[key_hash] = std::move(e);
}

void DeviceKeyCache::ForgetDevice(Id device_id) {
  std::lock_guard<std::mutex> lock(mu_);
  ++generation_;
  std::erase_if(entries_, [device_id](const auto& kv) {
    return kv.second.device && kv.second.device->id == device_id;
  });
}

size_t DeviceKeyCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace bysans::ingest
