#include "api/read_audit_counter.h"

namespace bysans::api {

std::optional<int64_t> ReadAuditCounter::Admit(const std::string& key, TimeMs now) {
  std::lock_guard lock(mu_);
  if (slots_.size() > kPruneAbove) {
    // Dropping an idle key loses at most the count of its last window's folded reads.
    std::erase_if(slots_, [&](const auto& kv) { return now - kv.second.written_ms >= window_ms_; });
  }
  auto [it, inserted] = slots_.try_emplace(key, Slot{now, 0});
  if (inserted) return 0;
  Slot& s = it->second;
  if (now - s.written_ms < window_ms_) {
    ++s.folded;
    return std::nullopt;
  }
  const int64_t folded = s.folded;
  s = Slot{now, 0};
  return folded;
}

}  // namespace bysans::api
