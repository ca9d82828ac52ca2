#include "store/sqlite/dedup_window.h"

#include <algorithm>

namespace bysans::sqlite {
namespace {
constexpr size_t kMaxCapacity = size_t{1} << 30;  // the table's slots fit 31 bits
}  // namespace

DedupWindow::DedupWindow(size_t capacity) : ring_(std::min(capacity, kMaxCapacity)) {
  size_t slots = 2;
  while (slots < 2 * ring_.size()) slots *= 2;
  table_.assign(slots, 0);
  mask_ = slots - 1;
}

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
  const uint64_t low = h & 0xffffffffu;
  for (size_t s = Home(h); table_[s] != 0; s = (s + 1) & mask_) {
    if ((table_[s] & 0xffffffffu) != low) continue;
    const Entry& e = ring_[PosOf(table_[s])];
    if (e.hash == h) out.push_back(e.id);
  }
  return out;
}

void DedupWindow::Add(uint64_t h, int64_t id) {
  if (ring_.empty()) return;
  size_t pos;
  if (count_ == ring_.size()) {  // the oldest leaves
    pos = head_;
    Unlink(pos);
    head_ = (head_ + 1) % ring_.size();
  } else {
    pos = (head_ + count_) % ring_.size();
    ++count_;
  }
  ring_[pos] = Entry{h, id};
  size_t s = Home(h);
  while (table_[s] != 0) s = (s + 1) & mask_;
  table_[s] = Slot(pos, h);
}

void DedupWindow::RemoveNewest(size_t n) {
  for (; n > 0 && count_ > 0; --n) {
    Unlink((head_ + count_ - 1) % ring_.size());
    --count_;
  }
}

void DedupWindow::Unlink(size_t pos) {
  const uint64_t value = Slot(pos, ring_[pos].hash);
  size_t i = Home(ring_[pos].hash);
  while (table_[i] != value) i = (i + 1) & mask_;
  // Backward shift: move later entries of the probe run into the hole unless
  // their home lies cyclically in (hole, their slot].
  for (size_t j = i;;) {
    j = (j + 1) & mask_;
    if (table_[j] == 0) break;
    const size_t home = Home(table_[j]);
    const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    table_[i] = table_[j];
    i = j;
  }
  table_[i] = 0;
}

}  // namespace bysans::sqlite
