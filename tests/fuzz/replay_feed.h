// For replay tests of fuzz targets under gcc (no libFuzzer): hands inputs to the target's
// LLVMFuzzerTestOneInput, one by one or every file of a seed corpus folder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace bysans::fuzz {

inline int Feed(const std::string& s) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Feeds every file of `dir`; returns how many.
inline int FeedCorpus(const std::filesystem::path& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    Feed(ss.str());
    ++n;
  }
  return n;
}

}  // namespace bysans::fuzz
