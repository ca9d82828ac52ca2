// The dedup keys of the newest raw messages, by 64-bit hash → message id.
//
// A redelivered copy (an MQTT QoS 1 message whose PUBACK a crash or a lost
// connection withheld, a ChirpStack event seen twice) arrives within the
// sender's in-flight window of its original, so the store keeps only the
// newest `capacity` keys in memory instead of a unique index on disk; the key
// itself lives in the message's raw_log row, and a hash match is confirmed
// against it. Writer thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bysans::sqlite {

class DedupWindow {
 public:
  explicit DedupWindow(size_t capacity) : capacity_(capacity) {}

  static uint64_t Hash(std::string_view key);

  // Ids of the messages in the window whose key has hash `h` (more than one
  // only after a hash collision), oldest first.
  std::vector<int64_t> Candidates(uint64_t h) const;
  // Adds the newest message; the oldest beyond capacity leaves the window.
  void Add(uint64_t h, int64_t id);
  // Takes back the newest `n` adds (a commit that failed).
  void RemoveNewest(size_t n);

  size_t size() const { return order_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  void Erase(uint64_t h, int64_t id);

  size_t capacity_;
  std::unordered_multimap<uint64_t, int64_t> by_hash_;
  std::deque<std::pair<uint64_t, int64_t>> order_;  // oldest first
};

}  // namespace bysans::sqlite
