// A small in-memory cache in front of MetaStore::FindDeviceByIngestKey, for
// the HTTP ingest hot path. Entries live at most `ttl_ms` (default 5 s), so a
// changed device (e.g. maintenance flag) is seen within that time; a rotated or
// deleted key stops working at once when the API calls ForgetDevice, and every entry is
// dropped when MetaStore::devices_generation() changes (another node changed a device, on
// PostgreSQL: within its change feed's delivery); "no such key" answers are
// cached for `negative_ttl_ms` (default 1 s) so floods of bad keys do not hit
// the database, while a newly created device works within 1 s at worst.
// Bounded: at `max_entries` expired entries are swept, and if it is still
// full the cache is emptied. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "core/status.h"
#include "model/model.h"
#include "store/store.h"

namespace bysans::ingest {

struct DeviceCacheOptions {
  size_t max_entries = 100'000;
  TimeMs ttl_ms = 5'000;
  TimeMs negative_ttl_ms = 1'000;
};

class DeviceKeyCache {
 public:
  DeviceKeyCache(MetaStore& store, const Clock& clock, DeviceCacheOptions options = {});
  DeviceKeyCache(const DeviceKeyCache&) = delete;
  DeviceKeyCache& operator=(const DeviceKeyCache&) = delete;

  // The device whose ingest key has the hex SHA-256 `key_hash`: kNotFound when
  // none; other store errors are returned and not cached.
  Result<std::shared_ptr<const Device>> Find(const std::string& key_hash);
  // Forgets the device's entries (its key was rotated, or it was deleted): its old key is looked
  // up again by the next Find, and a lookup that started before this call is not cached.
  void ForgetDevice(Id device_id);

  size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<const Device> device;  // null = no such key
    TimeMs expires_ms = 0;
  };
  void InsertLocked(const std::string& key_hash, Entry e, TimeMs now);

  MetaStore& store_;
  const Clock& clock_;
  DeviceCacheOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  uint64_t generation_ = 0;        // bumped by ForgetDevice and by a store generation change
  uint64_t store_generation_ = 0;  // MetaStore::devices_generation() the entries belong to
};

}  // namespace bysans::ingest
