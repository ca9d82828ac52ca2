// At most `max_keys` keys per device. Each key of a device is a series that every store keeps
// for as long as it exists, with its latest reading (SQLite in memory), so a device whose decoder
// makes up a new key per message (a time or a counter in the name) would grow the shared server
// without bound. A reading of a new key past the limit is dropped before the commit with a warning
// on its message, which keeps the bytes as sent; the device's known keys go on.
//
// Counted here, in memory: a device's keys are read from the store once, at its first message
// since this process started (`known_keys`; SQLite answers from its series cache), and then
// counted with the keys it sends. Before, the count began empty at each start, so each restart let
// a device at its limit add `max_keys` more. A device that had more keys before (a lower limit
// set since) keeps those and adds none. On several nodes each counts alone from what the store
// held when it first saw the device (a key another node adds later is not counted here: at most
// nodes × max_keys in the worst case). Keys whose series were deleted count until the process
// restarts. Without `known_keys`, or when the read fails (then it is tried again at the device's
// next message), the count starts empty. Thread-safe (sharded by device).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans::pipeline {

class DeviceKeyLimit {
 public:
  using KnownKeys = std::function<Result<std::vector<std::string>>(Id device)>;

  explicit DeviceKeyLimit(size_t max_keys, KnownKeys known_keys = {})
      : max_keys_(max_keys), known_keys_(std::move(known_keys)) {}

  // Drops the device's readings of keys it may no longer add, with one warning in `warnings`.
  void Apply(Id device, std::vector<Reading>& readings, std::vector<std::string>& warnings);

 private:
  struct Shard {
    std::mutex mu;
    std::unordered_map<Id, std::vector<uint64_t>> keys;  // sorted key hashes, per device
  };
  static constexpr size_t kShards = 32;

  // The hashes of the device's stored keys, sorted (nothing when they could not be read).
  std::optional<std::vector<uint64_t>> StoredKeys(Id device) const;

  size_t max_keys_;
  KnownKeys known_keys_;
  std::array<Shard, kShards> shards_;
};

}  // namespace bysans::pipeline
