// Helpers shared by the decode tests.
#pragma once

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "model/model.h"

namespace bysans::decode::testing {

inline std::string HexToBytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::string SourcePath(const std::string& rel) {
  return std::string(BYSANS_SOURCE_DIR) + "/" + rel;
}

inline const Reading* Find(const std::vector<Reading>& readings, const std::string& key) {
  for (const auto& r : readings) {
    if (r.key == key) return &r;
  }
  return nullptr;
}

inline std::optional<double> Number(const std::vector<Reading>& readings, const std::string& key) {
  const Reading* r = Find(readings, key);
  if (r == nullptr || !std::holds_alternative<double>(r->value)) return std::nullopt;
  return std::get<double>(r->value);
}

}  // namespace bysans::decode::testing
