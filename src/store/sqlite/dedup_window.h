// The dedup keys of the newest raw messages, by 64-bit hash → message id.
//
// A redelivered copy (an MQTT QoS 1 message whose PUBACK a crash or a lost
// connection withheld, a ChirpStack event seen twice) arrives within the
// sender's in-flight window of its original, so the store keeps only the
// newest `capacity` keys in memory instead of a unique index on disk; the key
// itself lives in the message's raw_log row, and a hash match is confirmed
// against it. Writer thread only.
//
// Layout (no allocation per message): a ring of (hash, id) in arrival order
// and an open-addressing table (linear probing, at most half full) of slots
// holding a ring position and the hash's low 32 bits, so probing touches only
// the table (one cache miss per lookup); the entry leaving the ring is deleted
// from the table by backward shift, so no tombstones accumulate.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace bysans::sqlite {

class DedupWindow {
 public:
  explicit DedupWindow(size_t capacity);

  static uint64_t Hash(std::string_view key);

  // Ids of the messages in the window whose key has hash `h` (more than one
  // only after a hash collision), in table order.
  std::vector<int64_t> Candidates(uint64_t h) const;
  // Adds the newest message; the oldest beyond capacity leaves the window.
  void Add(uint64_t h, int64_t id);
  // Takes back the newest `n` adds (a commit that failed).
  void RemoveNewest(size_t n);

  size_t size() const { return count_; }
  size_t capacity() const { return ring_.size(); }

 private:
  struct Entry {
    uint64_t hash;
    int64_t id;
  };
  // A table slot: ring position + 1 (0 = empty) in the high half, the hash's
  // low 32 bits (which hold its home slot: the table has at most 2^31 slots).
  static uint64_t Slot(size_t pos, uint64_t h) {
    return (uint64_t{pos + 1} << 32) | (h & 0xffffffffu);
  }
  static size_t PosOf(uint64_t slot) { return static_cast<size_t>(slot >> 32) - 1; }
  size_t Home(uint64_t h) const { return static_cast<size_t>(h) & mask_; }
  // Removes ring position `pos` from the table.
  void Unlink(size_t pos);

  std::vector<Entry> ring_;
  size_t head_ = 0;  // oldest entry
  size_t count_ = 0;
  std::vector<uint64_t> table_;
  size_t mask_ = 0;
};

}  // namespace bysans::sqlite
