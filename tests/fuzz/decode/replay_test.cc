// Replays the seed corpus and deterministic mutations of it through the fuzz entry point, so
// the fuzz paths run in every gcc build.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/decode/decode_fuzz.h"

namespace bysans::decode::fuzz {
namespace {

std::vector<std::string> Corpus() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(std::string(BYSANS_SOURCE_DIR) +
                                                           "/tests/fuzz/decode/corpus")) {
    std::ifstream f(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    out.push_back(ss.str());
  }
  return out;
}

void RunInput(const std::string& s) {
  FuzzOne(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(DecodeFuzzReplay, SeedCorpus) {
  auto corpus = Corpus();
  ASSERT_GE(corpus.size(), 6u);
  for (const auto& s : corpus) RunInput(s);
}

TEST(DecodeFuzzReplay, DeterministicMutations) {
  std::mt19937 rng(20261125);  // fixed seed: the same mutations every run
  auto corpus = Corpus();
  int runs = 0;
  for (const auto& seed : corpus) {
    // Decoder code runs the engine (up to its 20 ms limit per input): fewer mutations.
    int mutations = seed[0] == 'J' || seed[0] == 'E' ? 20 : 2000;
    for (int i = 0; i < mutations; ++i) {
      std::string s = seed;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        switch (rng() % 4) {
          case 0:  // flip a byte
            if (s.size() > 1) s[1 + rng() % (s.size() - 1)] = static_cast<char>(rng());
            break;
          case 1:  // truncate
            if (s.size() > 1) s.resize(1 + rng() % (s.size() - 1));
            break;
          case 2:  // insert a byte
            s.insert(s.begin() + static_cast<long>(s.empty() ? 0 : 1 + rng() % s.size()),
                     static_cast<char>(rng()));
            break;
          default:  // duplicate a slice
            if (s.size() > 2) {
              size_t a = 1 + rng() % (s.size() - 1);
              s += s.substr(a, rng() % 16);
            }
        }
      }
      RunInput(s);
      ++runs;
    }
  }
  EXPECT_GT(runs, 10000);
}

}  // namespace
}  // namespace bysans::decode::fuzz
