// Small text helpers shared by the ChirpStack event and gateway event parsers: EUI checks,
// ASCII lower-casing, topic levels.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace bysans::lorawan {

// 16 hexadecimal characters (a DevEUI or gateway id).
inline bool IsHexEui(std::string_view s) {
  return s.size() == 16 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

inline std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The levels of an MQTT topic; stops after `max_levels` + 1 (enough to tell "too many").
inline std::vector<std::string_view> TopicLevels(std::string_view topic, size_t max_levels) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = topic.find('/', start);
    parts.push_back(topic.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos || parts.size() > max_levels) break;
    start = slash + 1;
  }
  return parts;
}

}  // namespace bysans::lorawan
