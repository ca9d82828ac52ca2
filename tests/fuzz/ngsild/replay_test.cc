// Replays the corpus and every truncation of it through src/ngsild's readers of untrusted text.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ngsild_fuzz.h"

namespace {

TEST(NgsiLdFuzzReplay, CorpusAndTruncationsDoNotCrash) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(NGSILD_CORPUS_DIR)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    for (size_t n = 0; n <= s.size(); ++n)
      bysans::ngsild::FuzzNgsiLd(reinterpret_cast<const uint8_t*>(s.data()), n);
    ++files;
  }
  EXPECT_GT(files, 0);
}

}  // namespace
