#include "pipeline/reading_limits.h"

#include <algorithm>

namespace bysans::pipeline {
namespace {

constexpr size_t kKeysNamed = 5;

bool Oversized(const Reading& r) {
  const auto* text = std::get_if<std::string>(&r.value);
  return text && text->size() > kMaxReadingTextBytes;
}

}  // namespace

void DropOversizedReadings(std::vector<Reading>& readings, std::vector<std::string>& warnings) {
  size_t dropped = 0;
  std::string named;
  auto kept = std::remove_if(readings.begin(), readings.end(), [&](const Reading& r) {
    if (!Oversized(r)) return false;
    if (dropped++ < kKeysNamed) named += (named.empty() ? "'" : ", '") + r.key + "'";
    return true;
  });
  if (dropped == 0) return;
  readings.erase(kept, readings.end());
  std::string more = dropped > kKeysNamed ? " and " + std::to_string(dropped - kKeysNamed) + " more"
                                          : std::string();
  warnings.push_back(std::to_string(dropped) + " reading(s) not stored (" + named + more +
                     "): a text value may hold at most " + std::to_string(kMaxReadingTextBytes) +
                     " bytes; the message keeps it as sent");
}

}  // namespace bysans::pipeline
