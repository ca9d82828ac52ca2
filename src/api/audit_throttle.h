// Admits at most one event per key and window, so that an entry an attacker
// can provoke at will (a denied cross-organisation attempt) cannot flood the
// audit log. Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace bysans::api {

class AuditThrottle {
 public:
  explicit AuditThrottle(TimeMs window_ms = 60'000) : window_ms_(window_ms) {}

  // True when no event with `key` was admitted within the window before `now`.
  bool Admit(const std::string& key, TimeMs now);

 private:
  static constexpr size_t kPruneAbove = 10'000;  // keys kept before old ones are dropped
  const TimeMs window_ms_;
  std::mutex mu_;
  std::unordered_map<std::string, TimeMs> last_;  // guarded by mu_
};

}  // namespace bysans::api
