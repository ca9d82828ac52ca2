#include "pipeline/reading_limits.h"

#include <algorithm>

namespace bysans::pipeline {
namespace {

bool Oversized(const Reading& r) {
  const auto* text = std::get_if<std::string>(&r.value);
  return text && text->size() > kMaxReadingTextBytes;
}

}  // namespace

void DroppedReadings::Add(const std::string& key) {
  if (count_++ < kNamed) named_ += (named_.empty() ? "'" : ", '") + key + "'";
}

std::string DroppedReadings::Warning(const std::string& what, const std::string& why) const {
  std::string more =
      count_ > kNamed ? " and " + std::to_string(count_ - kNamed) + " more" : std::string();
  return std::to_string(count_) + " reading(s) " + what + " (" + named_ + more + "): " + why;
}

void DropOversizedReadings(std::vector<Reading>& readings, std::vector<std::string>& warnings) {
  DroppedReadings dropped;
  auto kept = std::remove_if(readings.begin(), readings.end(), [&](const Reading& r) {
    if (!Oversized(r)) return false;
    dropped.Add(r.key);
    return true;
  });
  if (dropped.empty()) return;
  readings.erase(kept, readings.end());
  warnings.push_back(dropped.Warning("not stored", "a text value may hold at most " +
                                                       std::to_string(kMaxReadingTextBytes) +
                                                       " bytes; the message keeps it as sent"));
}

}  // namespace bysans::pipeline
