#include "ngsild/token_cache.h"

#include <algorithm>

namespace bysans::ngsild {

std::shared_ptr<TokenCache::Slot> TokenCache::SlotOf(const std::string& key) {
  std::lock_guard lk(mu_);
  auto& slot = slots_[key];
  if (!slot) slot = std::make_shared<Slot>();
  return slot;
}

Result<std::string> TokenCache::Get(const std::string& key, const Fetch& fetch) {
  std::shared_ptr<Slot> slot = SlotOf(key);
  std::lock_guard lk(slot->mu);
  const TimeMs now = clock_.NowMs();
  if (!slot->token.empty() && now < slot->renew_at) return slot->token;
  auto issued = fetch();
  if (!issued.ok()) return issued.status();
  const TimeMs lifetime = (issued->expires_in_s > 0 ? issued->expires_in_s : 60) * 1000;
  slot->token = issued->access_token;
  slot->renew_at = now + lifetime - std::min<TimeMs>(30'000, lifetime / 10);
  return slot->token;
}

void TokenCache::Invalidate(const std::string& key, const std::string& token) {
  std::shared_ptr<Slot> slot = SlotOf(key);
  std::lock_guard lk(slot->mu);
  if (slot->token == token) slot->token.clear();
}

}  // namespace bysans::ngsild
