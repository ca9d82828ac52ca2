#include "mqtt/dedup_key.h"

#include <algorithm>
#include <charconv>
#include <iterator>

namespace bysans::mqtt {

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

namespace {

template <typename Int>
void AppendDecimal(std::string& out, Int v) {
  char digits[24];  // a 64-bit integer: at most 20 characters with its sign
  out.append(digits, std::to_chars(std::begin(digits), std::end(digits), v).ptr);
}

}  // namespace

// Written with std::to_chars (the digits fmt's "{}" gives) into one allocation, without
// parsing a format string per message.
std::string DeviceMessageDedupKey(TimeMs ts, Id device, std::string_view payload) {
  std::string key;
  key.reserve(5 + 3 * 20 + 2);
  key.append("mqtt:");
  AppendDecimal(key, ts);
  key.push_back(':');
  AppendDecimal(key, device);
  key.push_back(':');
  AppendDecimal(key, Fnv1a(payload));
  return key;
}

std::string LorawanEventDedupKey(std::string_view event, Id device, std::string_view id) {
  constexpr size_t kMaxIdBytes = 100;
  std::string key;
  key.reserve(8 + event.size() + 2 + 20 + std::min(id.size(), kMaxIdBytes + 1));
  key.append("lorawan:");
  key.append(event);
  key.push_back(':');
  AppendDecimal(key, device);
  key.push_back(':');
  if (id.size() <= kMaxIdBytes) {
    key.append(id);
  } else {
    key.push_back('#');
    AppendDecimal(key, Fnv1a(id));
  }
  return key;
}

}  // namespace bysans::mqtt
