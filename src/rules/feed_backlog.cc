#include "rules/feed_backlog.h"

#include <utility>

namespace bysans::rules {

size_t FeedBacklog::Add(std::vector<RuleFeedEntry> entries) {
  size_t added = 0;
  int64_t adding = -1;  // the row whose entries are being added
  for (RuleFeedEntry& e : entries) {
    if (!e.device) continue;
    if (e.id != adding) {
      if (rows_.count(e.id)) continue;  // held already: its entries wait here or run
      adding = e.id;
      ++added;
    }
    ++rows_[e.id].left;
    const Id org = e.device->org_id, lane = e.device->id;
    queue_.Push(org, lane, std::move(e));
  }
  return added;
}

std::optional<FeedBacklog::Taken> FeedBacklog::Next() {
  std::optional<FairQueue<RuleFeedEntry>::Ticket> t = queue_.Pop();
  if (!t) return std::nullopt;
  return Taken{t->org, t->lane, std::move(t->item)};
}

void FeedBacklog::Done(const Taken& t, int64_t cost_ns, bool evaluated) {
  queue_.Done(t.org, t.lane, cost_ns);
  auto it = rows_.find(t.entry.id);
  if (it == rows_.end()) return;
  Row& row = it->second;
  row.whole = row.whole && evaluated;
  if (--row.left > 0) return;
  if (row.whole) finished_.push_back(t.entry.id);
  rows_.erase(it);
}

std::vector<int64_t> FeedBacklog::TakeFinished() { return std::exchange(finished_, {}); }

}  // namespace bysans::rules
