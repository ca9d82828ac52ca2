#include "store/sqlite/dedup_window.h"

#include <algorithm>

namespace bysans::sqlite {

uint64_t DedupWindow::Hash(std::string_view key) {
  // FNV-1a, then a 64-bit finaliser (splitmix64) to spread close keys.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

std::vector<int64_t> DedupWindow::Candidates(uint64_t h) const {
  std::vector<int64_t> out;
  auto [lo, hi] = by_hash_.equal_range(h);
  for (auto it = lo; it != hi; ++it) out.push_back(it->second);
  std::sort(out.begin(), out.end());
  return out;
}

void DedupWindow::Add(uint64_t h, int64_t id) {
  if (capacity_ == 0) return;
  by_hash_.emplace(h, id);
  order_.emplace_back(h, id);
  while (order_.size() > capacity_) {
    Erase(order_.front().first, order_.front().second);
    order_.pop_front();
  }
}

void DedupWindow::RemoveNewest(size_t n) {
  for (; n > 0 && !order_.empty(); --n) {
    Erase(order_.back().first, order_.back().second);
    order_.pop_back();
  }
}

void DedupWindow::Erase(uint64_t h, int64_t id) {
  auto [lo, hi] = by_hash_.equal_range(h);
  for (auto it = lo; it != hi; ++it) {
    if (it->second == id) {
      by_hash_.erase(it);
      return;
    }
  }
}

}  // namespace bysans::sqlite
