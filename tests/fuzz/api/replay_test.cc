// Replays the seed corpus and hand-made hostile inputs (deep nesting hidden in
// strings, escapes, broken documents) through the API JSON fuzz target, so gcc
// builds (no libFuzzer) exercise it too. An abort fails the test.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int Feed(const std::string& s) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(ApiJsonFuzzReplay, SeedCorpus) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(API_CORPUS_DIR)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    Feed(ss.str());
    ++n;
  }
  EXPECT_GT(n, 3);
}

TEST(ApiJsonFuzzReplay, HostileShapes) {
  for (int depth : {1, 7, 8, 9, 64, 100000}) {
    Feed(std::string(depth, '[') + std::string(depth, ']'));
    std::string obj;
    for (int i = 0; i < depth; ++i) obj += "{\"a\":";
    Feed(obj + "1" + std::string(depth, '}'));
    // Brackets inside strings do not count; escaped quotes do not end a string.
    Feed("[\"" + std::string(depth, '[') + "\\\"" + std::string(depth, '{') + "\"]");
    Feed(std::string(depth, '[') + "\"\\\\\"" + std::string(depth, ']'));
    // Unbalanced and truncated.
    Feed(std::string(depth, ']') + std::string(depth, '['));
    Feed(std::string(depth, '['));
  }
}

}  // namespace
