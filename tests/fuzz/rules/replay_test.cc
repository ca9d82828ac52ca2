// Replays the seed corpus and 20,000 deterministic mutations of it through
// the expression parser (gtest, runs with every compiler).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "expr_fuzz_check.h"

namespace bysans::rules::fuzz {
namespace {

// splitmix64: a small deterministic generator, so every run tests the same inputs.
class Mixer {
 public:
  explicit Mixer(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(Next() % n); }

 private:
  uint64_t s_;
};

std::vector<std::string> LoadCorpus() {
  std::vector<std::string> out;
  std::filesystem::path dir = std::filesystem::path(BYSANS_SOURCE_DIR) / "tests/fuzz/rules/corpus";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

const char* const kDictionary[] = {" and ",
                                   " or ",
                                   "not ",
                                   " between ",
                                   "(",
                                   ")",
                                   "\"",
                                   "`",
                                   "key(\"",
                                   "\")",
                                   "-",
                                   "+",
                                   "*",
                                   "/",
                                   ">",
                                   ">=",
                                   "<",
                                   "<=",
                                   "==",
                                   "!=",
                                   "true",
                                   "false",
                                   "1e3",
                                   ".",
                                   "0.5",
                                   "co2",
                                   "\\",
                                   "\n",
                                   "\x00",
                                   "\xff",
                                   "9999999999999999999999",
                                   "1e-400",
                                   "a.b",
                                   "=",
                                   "!",
                                   "&",
                                   "|"};

std::string Mutate(const std::string& base, const std::vector<std::string>& corpus, Mixer& rng) {
  std::string s = base;
  int steps = 1 + static_cast<int>(rng.Below(4));
  for (int i = 0; i < steps; ++i) {
    switch (rng.Below(7)) {
      case 0:  // flip a byte
        if (!s.empty()) s[rng.Below(s.size())] = static_cast<char>(rng.Next());
        break;
      case 1: {  // insert a dictionary token
        const char* tok = kDictionary[rng.Below(std::size(kDictionary))];
        std::string t = tok[0] == '\0' ? std::string(1, '\0') : std::string(tok);
        s.insert(rng.Below(s.size() + 1), t);
        break;
      }
      case 2:  // delete a range
        if (!s.empty()) {
          size_t at = rng.Below(s.size());
          s.erase(at, 1 + rng.Below(std::min<size_t>(8, s.size() - at)));
        }
        break;
      case 3:  // duplicate a range
        if (!s.empty()) {
          size_t at = rng.Below(s.size());
          std::string piece = s.substr(at, 1 + rng.Below(16));
          s.insert(rng.Below(s.size() + 1), piece);
        }
        break;
      case 4:  // splice another corpus entry
        s += corpus[rng.Below(corpus.size())];
        break;
      case 5:  // deep nesting
        s = std::string(rng.Below(80), '(') + s + std::string(rng.Below(80), ')');
        break;
      default:  // repeat to approach the length limit
        while (!s.empty() && s.size() < 4000 + rng.Below(200)) s += s.substr(0, 64);
        break;
    }
  }
  return s;
}

TEST(RulesFuzzReplay, CorpusAndMutations) {
  auto corpus = LoadCorpus();
  ASSERT_GE(corpus.size(), 10u);
  for (const auto& c : corpus) EXPECT_EQ(CheckExpression(c), "") << c;
  Mixer rng(20261125);
  int failures = 0;
  for (int i = 0; i < 20000 && failures < 10; ++i) {
    std::string input = Mutate(corpus[rng.Below(corpus.size())], corpus, rng);
    std::string problem = CheckExpression(input);
    if (!problem.empty()) {
      ++failures;
      ADD_FAILURE() << "mutation " << i << ": " << problem << "\ninput: " << input;
    }
  }
}

}  // namespace
}  // namespace bysans::rules::fuzz
