// Replays the corpus (and some generated mutations) through the ChirpStack parser.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "chirpstack_fuzz.h"

namespace {

TEST(ChirpstackFuzzReplay, CorpusAndTruncationsDoNotCrash) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CHIRPSTACK_CORPUS_DIR)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    for (size_t n = 0; n <= s.size(); ++n)
      bysans::lorawan::FuzzChirpstackEvent(reinterpret_cast<const uint8_t*>(s.data()), n);
    ++files;
  }
  EXPECT_GT(files, 0);
}

}  // namespace
