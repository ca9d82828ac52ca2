// Keeps the audit log of reads of personal data small: a dashboard polling a fall sensor every 5 s
// gives one entry per (caller, route, object) and minute, not twelve. Each admitted read says how
// many identical reads since the previous entry were not written (so the log still counts every
// read, up to the last minute's). Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace bysans::api {

class ReadAuditCounter {
 public:
  explicit ReadAuditCounter(TimeMs window_ms = 60'000) : window_ms_(window_ms) {}

  // A read of `key` at `now`: the number of reads of `key` folded since its previous entry
  // (0 for the first) when this one is to be written, nullopt when it is only counted.
  std::optional<int64_t> Admit(const std::string& key, TimeMs now);

 private:
  struct Slot {
    TimeMs written_ms = 0;
    int64_t folded = 0;
  };
  static constexpr size_t kPruneAbove = 10'000;  // keys kept before idle ones are dropped
  const TimeMs window_ms_;
  std::mutex mu_;
  std::unordered_map<std::string, Slot> slots_;  // guarded by mu_
};

}  // namespace bysans::api
