// The rule feed's records (rule_feed.h) written and read in bulk: a group commit writes one record
// per message, and a read decodes a few hundred, mostly of the same devices. The device's part of
// a record (JSON) is the same for all of them, so these write it, and parse it, once per device:
// per message it was most of the feed's cost to bysans (an nlohmann document built and dumped by
// the store writer, parsed again by the rules thread).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/rule_feed.h"

namespace bysans {

// For one group commit: the devices given must stay alive, unchanged, while it is used (the
// group's batches hold them). Gives EncodeRuleFeedRecord's bytes.
class RuleFeedEncoder {
 public:
  std::string Encode(const Device& device, std::span<const Reading> readings);

 private:
  std::unordered_map<const Device*, std::string> device_json_;
};

// For one read of the feed: records with the same device part share one Device. Gives
// DecodeRuleFeedRecord's entries.
class RuleFeedDecoder {
 public:
  Result<RuleFeedEntry> Decode(std::string_view record);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::shared_ptr<const Device>, Hash, std::equal_to<>> devices_;
};

}  // namespace bysans
