#include "auth/login_throttle.h"

#include <algorithm>

namespace bysans::auth {
namespace {

constexpr TimeMs kWindowMs = 60'000;
// Failures are forgotten this long after the wait they imposed ended.
constexpr TimeMs kForgetAfterMs = 60 * 60'000;

std::string PairKey(const std::string& account, const std::string& address) {
  return account + "\n" + address;
}

}  // namespace

TimeMs LoginThrottle::DelayAfter(int failures, int free) const {
  if (failures < free) return 0;
  const int k = std::min(failures - free + 1, 30);
  return std::min<TimeMs>(options_.max_delay_ms, TimeMs{1000} << k);
}

bool LoginThrottle::Known(const std::string& account, const std::string& address,
                          TimeMs now) const {
  auto it = known_.find(account);
  if (it == known_.end()) return false;
  auto at = it->second.find(address);
  return at != it->second.end() && at->second + kKnownAddressMs > now;
}

void LoginThrottle::Prune(TimeMs now) {
  for (auto it = addresses_.begin(); it != addresses_.end();) {
    auto& q = it->second;
    while (!q.empty() && q.front() <= now - kWindowMs) q.pop_front();
    it = q.empty() ? addresses_.erase(it) : std::next(it);
  }
  auto prune_failures = [&](auto& map, int free) {
    for (auto it = map.begin(); it != map.end();) {
      const bool stale = Ready(it->second, free) + kForgetAfterMs <= now;
      it = stale ? map.erase(it) : std::next(it);
    }
  };
  prune_failures(pairs_, options_.free_failures);
  prune_failures(accounts_, options_.free_failures * kAccountFreeFactor);
  for (auto it = known_.begin(); it != known_.end();) {
    std::erase_if(it->second, [&](const auto& a) { return a.second + kKnownAddressMs <= now; });
    it = it->second.empty() ? known_.erase(it) : std::next(it);
  }
}

TimeMs LoginThrottle::Admit(const std::string& account, const std::string& address, TimeMs now) {
  std::lock_guard lock(mu_);
  Prune(now);
  if (auto it = pairs_.find(PairKey(account, address)); it != pairs_.end()) {
    const TimeMs ready = Ready(it->second, options_.free_failures);
    if (ready > now) return ready - now;
  }
  if (auto it = accounts_.find(account); it != accounts_.end() && !Known(account, address, now)) {
    const TimeMs ready = Ready(it->second, options_.free_failures * kAccountFreeFactor);
    if (ready > now) return ready - now;
  }
  auto& q = addresses_[address];
  if (static_cast<int>(q.size()) >= options_.attempts_per_minute)
    return std::max<TimeMs>(1, q.front() + kWindowMs - now);
  q.push_back(now);
  return 0;
}

void LoginThrottle::Failed(const std::string& account, const std::string& address, TimeMs now) {
  std::lock_guard lock(mu_);
  for (Failures* f : {&pairs_[PairKey(account, address)], &accounts_[account]}) {
    ++f->count;
    f->last_ms = now;
  }
}

void LoginThrottle::Succeeded(const std::string& account, const std::string& address, TimeMs now) {
  std::lock_guard lock(mu_);
  pairs_.erase(PairKey(account, address));
  // The count over every address stays: a guesser elsewhere gains nothing from the owner's
  // logins. This address is spared it from now on.
  std::map<std::string, TimeMs>& known = known_[account];
  known[address] = now;
  if (known.size() > kKnownAddresses) {
    known.erase(std::min_element(known.begin(), known.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; }));
  }
}

}  // namespace bysans::auth
