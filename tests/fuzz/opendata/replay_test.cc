// Replays the seed corpus and hostile cursors through the cursor fuzz target, so gcc builds (no
// libFuzzer) exercise it too. An abort fails the test.
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

TEST(OpendataCursorFuzzReplay, SeedCorpus) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(CURSOR_CORPUS_DIR)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    Feed(ss.str());
    ++n;
  }
  EXPECT_GE(n, 3);
}

TEST(OpendataCursorFuzzReplay, HostileShapes) {
  for (const std::string& s :
       {std::string(), std::string("="), std::string("===="), std::string(5000, 'A'),
        std::string("OTIyMzM3MjAzNjg1NDc3NTgwODo5MjIzMzcyMDM2ODU0Nzc1ODA4Og"),  // overflows
        std::string("LTE6LTk6"), std::string("MTo6"), std::string("OjE6eA"),
        std::string("MTox\0OngK", 9), std::string("\xff\xfe")}) {
    Feed(s);
  }
}

}  // namespace
