// The live relay's payloads (live_payload.h).
#include "store/postgres/live_payload.h"

#include "store/postgres/sql_text.h"
#include "store/rule_feed.h"

namespace bysans::pg {

std::vector<std::string> LiveRecords(const Device& device, std::span<const Reading> readings,
                                     size_t node_length, size_t* left_out) {
  const size_t room = kMaxLivePayload - node_length - 1;
  std::vector<std::string> out;
  // Halves until each part fits (a message of many readings is rare: one pass is the usual).
  std::vector<std::span<const Reading>> todo = {readings};
  while (!todo.empty()) {
    std::span<const Reading> part = todo.back();
    todo.pop_back();
    std::string hex;
    AppendHex(hex, EncodeRuleFeedRecord(device, part));
    if (hex.size() <= room) {
      out.push_back(std::move(hex));
    } else if (part.size() > 1) {
      const size_t half = part.size() / 2;
      todo.push_back(part.subspan(half));
      todo.push_back(part.first(half));
    } else {
      ++*left_out;
    }
  }
  return out;
}

std::vector<std::string> LivePayloads(std::string_view node, std::span<const std::string> records) {
  std::vector<std::string> out;
  std::string cur;
  for (const std::string& r : records) {
    if (!cur.empty() && cur.size() + 1 + r.size() > kMaxLivePayload) {
      out.push_back(std::move(cur));
      cur.clear();
    }
    if (cur.empty()) {
      cur.append(node).append(" ").append(r);
    } else {
      cur.append(",").append(r);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

}  // namespace bysans::pg
