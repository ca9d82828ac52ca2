#include "auth/login_throttle.h"

#include <algorithm>

namespace bysans::auth {
namespace {

constexpr TimeMs kWindowMs = 60'000;
// An account's failures are forgotten this long after the wait they imposed ended.
constexpr TimeMs kForgetAfterMs = 60 * 60'000;

}  // namespace

TimeMs LoginThrottle::DelayAfter(int failures) const {
  if (failures < options_.free_failures) return 0;
  const int k = std::min(failures - options_.free_failures + 1, 30);
  return std::min<TimeMs>(options_.max_delay_ms, TimeMs{1000} << k);
}

void LoginThrottle::Prune(TimeMs now) {
  for (auto it = addresses_.begin(); it != addresses_.end();) {
    auto& q = it->second;
    while (!q.empty() && q.front() <= now - kWindowMs) q.pop_front();
    it = q.empty() ? addresses_.erase(it) : std::next(it);
  }
  for (auto it = accounts_.begin(); it != accounts_.end();) {
    const Account& a = it->second;
    bool stale = a.last_failure_ms + DelayAfter(a.failures) + kForgetAfterMs <= now;
    it = stale ? accounts_.erase(it) : std::next(it);
  }
}

TimeMs LoginThrottle::Admit(const std::string& account, const std::string& address, TimeMs now) {
  std::lock_guard lock(mu_);
  Prune(now);
  if (auto it = accounts_.find(account); it != accounts_.end()) {
    TimeMs ready = it->second.last_failure_ms + DelayAfter(it->second.failures);
    if (ready > now) return ready - now;
  }
  auto& q = addresses_[address];
  if (static_cast<int>(q.size()) >= options_.attempts_per_minute)
    return std::max<TimeMs>(1, q.front() + kWindowMs - now);
  q.push_back(now);
  return 0;
}

void LoginThrottle::Failed(const std::string& account, TimeMs now) {
  std::lock_guard lock(mu_);
  Account& a = accounts_[account];
  ++a.failures;
  a.last_failure_ms = now;
}

void LoginThrottle::Succeeded(const std::string& account) {
  std::lock_guard lock(mu_);
  accounts_.erase(account);
}

}  // namespace bysans::auth
