#include "ngsild/token_cache.h"

#include <algorithm>
#include <iterator>

namespace bysans::ngsild {

std::shared_ptr<TokenCache::Slot> TokenCache::SlotOf(const std::string& key) {
  std::lock_guard lk(mu_);
  if (auto it = slots_.find(key); it != slots_.end()) return it->second;
  if (slots_.size() + 1 >= drop_at_) DropStale();
  auto slot = std::make_shared<Slot>();
  slots_.emplace(key, slot);
  return slot;
}

void TokenCache::DropStale() {
  const TimeMs now = clock_.NowMs();
  for (auto it = slots_.begin(); it != slots_.end();) {
    bool stale = false;
    // Held only here (mu_ is held, so no one can take it now) and not being fetched.
    if (it->second.use_count() == 1 && it->second->mu.try_lock()) {
      stale = it->second->token.empty() || now >= it->second->renew_at;
      it->second->mu.unlock();
    }
    it = stale ? slots_.erase(it) : std::next(it);
  }
  drop_at_ = std::max(kKeptKeys, 2 * slots_.size());
}

size_t TokenCache::size() {
  std::lock_guard lk(mu_);
  return slots_.size();
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
