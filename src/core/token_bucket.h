// A token bucket per key: `per_second` tokens a second up to `burst`; each Allow takes one.
// Used to bound what one organisation or one caller may cost a shared path (gateway events on the
// MQTT ingest path, address searches sent to the geocoder). Not thread-safe: the caller locks.
#pragma once

#include <algorithm>
#include <map>

#include "core/clock.h"

namespace bysans {

template <typename Key>
class KeyedTokenBucket {
 public:
  KeyedTokenBucket(double per_second, double burst) : rate_(per_second), burst_(burst) {}

  // Takes a token of `key` at `now` (ms); false when its bucket is empty.
  bool Allow(const Key& key, TimeMs now) {
    auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
    Bucket& b = it->second;
    if (!fresh && now > b.at)
      b.tokens = std::min(burst_, b.tokens + rate_ * double(now - b.at) / 1000);
    b.at = std::max(b.at, now);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

 private:
  struct Bucket {
    double tokens = 0;
    TimeMs at = 0;
  };
  double rate_, burst_;
  std::map<Key, Bucket> buckets_;
};

}  // namespace bysans
