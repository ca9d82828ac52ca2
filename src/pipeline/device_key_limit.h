// At most `max_keys` keys per device. Each key of a device is a series that every store keeps
// for as long as it exists, with its latest reading (SQLite in memory), so a device whose decoder
// makes up a new key per message (a time or a counter in the name) would grow the shared server
// without bound. A reading of a new key past the limit is dropped before the commit with a warning
// on its message, which keeps the bytes as sent; the device's known keys go on.
//
// Counted here, in memory, from the keys each device sent since this process started (no store
// read on the ingest path): a device that had more keys before keeps the first `max_keys` it
// sends; on several nodes each counts alone (at most nodes × max_keys); keys whose series were
// deleted count until the process restarts. Thread-safe (sharded by device).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/model.h"

namespace bysans::pipeline {

class DeviceKeyLimit {
 public:
  explicit DeviceKeyLimit(size_t max_keys) : max_keys_(max_keys) {}

  // Drops the device's readings of keys it may no longer add, with one warning in `warnings`.
  void Apply(Id device, std::vector<Reading>& readings, std::vector<std::string>& warnings);

 private:
  struct Shard {
    std::mutex mu;
    std::unordered_map<Id, std::vector<uint64_t>> keys;  // sorted key hashes, per device
  };
  static constexpr size_t kShards = 32;

  size_t max_keys_;
  std::array<Shard, kShards> shards_;
};

}  // namespace bysans::pipeline
