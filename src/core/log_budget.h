// A budget of log lines per key (a device, a source): a burst, then a steady rate. Lines over the
// budget are not written but counted, and the count is handed to the next line let through, so
// a peer sending bad input fast cannot flood the log while nothing goes unreported.
// Not thread-safe: the caller locks.
#pragma once

#include <cstdint>
#include <map>

#include "core/clock.h"
#include "core/token_bucket.h"

namespace bysans {

template <typename Key>
class LogBudget {
 public:
  LogBudget(double lines_per_second, double burst) : bucket_(lines_per_second, burst) {}

  // Whether a line of `key` may be written at `now`. When it may, `*unlogged` is how many of the
  // key's lines were held back since its last written one (0 if none).
  bool Allow(const Key& key, TimeMs now, int64_t* unlogged) {
    if (!bucket_.Allow(key, now)) {
      ++unlogged_[key];
      return false;
    }
    *unlogged = 0;
    if (auto it = unlogged_.find(key); it != unlogged_.end()) {
      *unlogged = it->second;
      unlogged_.erase(it);
    }
    return true;
  }

 private:
  KeyedTokenBucket<Key> bucket_;
  std::map<Key, int64_t> unlogged_;
};

}  // namespace bysans
