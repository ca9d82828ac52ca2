// Replays the seed corpus and 20,000 deterministic mutations of it through
// the fuzz target, so gcc builds (no libFuzzer) still exercise the parsers
// with hostile input. A crash or abort fails the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<std::string> LoadCorpus() {
  std::vector<std::string> seeds;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(INGEST_CORPUS_DIR)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());  // deterministic order
  for (const auto& p : files) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    seeds.push_back(ss.str());
  }
  return seeds;
}

int RunOne(const std::string& s) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// One random edit of the kinds that break JSON parsers: byte flips, JSON
// punctuation inserted, ranges deleted or duplicated, splices of two seeds.
void Mutate(std::string& s, const std::vector<std::string>& seeds, std::mt19937_64& rng) {
  static const std::string kTokens[] = {
      "{",      "}",      "[",    "]",        ",",       ":",      "\"",
      "\\",     "-",      "0",    "1e999",    "null",    "true",   "\"bn\":",
      "\"v\":", "\"t\":", "\xff", "\xc3\xa6", "\\u0000", "1e-400", "[[[[[[[["};
  auto pick = [&rng](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  switch (rng() % 6) {
    case 0:
      if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << (rng() % 8));
      break;
    case 1: {
      const std::string& t = kTokens[pick(std::size(kTokens))];
      s.insert(pick(s.size() + 1), t);
      break;
    }
    case 2:
      if (!s.empty()) {
        size_t at = pick(s.size());
        s.erase(at, 1 + pick(std::min<size_t>(16, s.size() - at)));
      }
      break;
    case 3:
      if (!s.empty() && s.size() < 100'000) {
        size_t at = pick(s.size());
        size_t len = 1 + pick(std::min<size_t>(64, s.size() - at));
        s.insert(pick(s.size() + 1), s.substr(at, len));
      }
      break;
    case 4: {
      const std::string& other = seeds[pick(seeds.size())];
      size_t cut = pick(s.size() + 1);
      size_t from = pick(other.size() + 1);
      s = s.substr(0, cut) + other.substr(from);
      break;
    }
    default:
      if (!s.empty()) s[pick(s.size())] = static_cast<char>(rng() & 0xff);
      break;
  }
}

TEST(IngestFuzzReplay, SeedCorpus) {
  auto seeds = LoadCorpus();
  ASSERT_GE(seeds.size(), 10u);
  for (const auto& s : seeds) EXPECT_EQ(RunOne(s), 0);
}

TEST(IngestFuzzReplay, TwentyThousandMutations) {
  auto seeds = LoadCorpus();
  ASSERT_FALSE(seeds.empty());
  std::mt19937_64 rng(20261125);
  for (int i = 0; i < 20'000; ++i) {
    std::string s = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) Mutate(s, seeds, rng);
    ASSERT_EQ(RunOne(s), 0);
  }
}

}  // namespace
