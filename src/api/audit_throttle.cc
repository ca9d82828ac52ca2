#include "api/audit_throttle.h"

namespace bysans::api {

bool AuditThrottle::Admit(const std::string& key, TimeMs now) {
  std::lock_guard lock(mu_);
  if (last_.size() > kPruneAbove)
    std::erase_if(last_, [&](const auto& kv) { return now - kv.second >= window_ms_; });
  auto [it, inserted] = last_.try_emplace(key, now);
  if (inserted) return true;
  if (now - it->second < window_ms_) return false;
  it->second = now;
  return true;
}

}  // namespace bysans::api
