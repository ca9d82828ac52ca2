#include "store/in_process_leases.h"

namespace bysans {

Result<bool> InProcessLeases::AcquireLease(const std::string& name, const std::string& holder,
                                           TimeMs ttl_ms) {
  if (name.empty() || holder.empty() || ttl_ms <= 0)
    return InvalidArgument("a lease needs a name, a holder and a positive time to live");
  const TimeMs now = clock_.NowMs();
  std::lock_guard lk(mu_);
  auto [it, added] = leases_.try_emplace(name, holder, now + ttl_ms);
  if (added) return true;
  auto& [current, expires] = it->second;
  if (current != holder && expires > now) return false;
  current = holder;
  expires = now + ttl_ms;
  return true;
}

Status InProcessLeases::ReleaseLease(const std::string& name, const std::string& holder) {
  std::lock_guard lk(mu_);
  auto it = leases_.find(name);
  if (it != leases_.end() && it->second.first == holder) leases_.erase(it);
  return Status::Ok();
}

Result<std::vector<Lease>> InProcessLeases::ListLeases(const std::string& prefix) {
  const TimeMs now = clock_.NowMs();
  std::lock_guard lk(mu_);
  std::vector<Lease> out;
  for (auto it = leases_.lower_bound(prefix);
       it != leases_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    if (it->second.second > now)
      out.push_back({it->first, it->second.first, it->second.second - now});
  }
  return out;
}

}  // namespace bysans
