// Replays the seed corpus and 20,000 deterministic mutations of it (tokens of
// the query language inserted, bytes changed, ranges cut or repeated, deep
// parentheses) through the SensorThings query parsers (gtest, any compiler).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "query_fuzz_check.h"
#include "sta/query/query.h"

namespace bysans::sta::fuzz {
namespace {

std::vector<std::string> Corpus() {
  std::filesystem::path dir =
      std::filesystem::path(BYSANS_SOURCE_DIR) / "tests/fuzz/sta_query/corpus";
  std::vector<std::filesystem::path> files(std::filesystem::directory_iterator(dir), {});
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

constexpr const char* kTokens[] = {"$filter=",
                                   "$expand=",
                                   "Datastreams(",
                                   "Observations/",
                                   ";$top=1",
                                   ")",
                                   "(",
                                   "'",
                                   "''",
                                   "%20",
                                   "%2",
                                   "+",
                                   " eq ",
                                   " and ",
                                   " or ",
                                   "not ",
                                   "-",
                                   " add ",
                                   " div 0",
                                   "geo.distance(",
                                   "st_within(",
                                   "geography'POINT(1 2)'",
                                   "geography'POLYGON((0 0,1 0,1 1,0 0))'",
                                   ",",
                                   "2020-01-01T00:00:00Z",
                                   "duration'P1D'",
                                   "07:00:00",
                                   "&",
                                   "=",
                                   "/$ref",
                                   "/$value",
                                   "(1)",
                                   "9999999999999999999999",
                                   "1e999",
                                   "\xff",
                                   "\x01",
                                   "id"};

std::string Mutate(std::string s, const std::vector<std::string>& corpus, std::mt19937_64& rng) {
  auto below = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  for (int step = 0, steps = 1 + static_cast<int>(below(4)); step < steps; ++step) {
    switch (below(6)) {
      case 0:
        if (!s.empty()) s[below(s.size())] = static_cast<char>(rng());
        break;
      case 1:
        s.insert(below(s.size() + 1), kTokens[below(std::size(kTokens))]);
        break;
      case 2:
        if (!s.empty()) s.erase(below(s.size()), 1 + below(8));
        break;
      case 3:
        if (!s.empty()) s.insert(below(s.size() + 1), s.substr(below(s.size()), 1 + below(24)));
        break;
      case 4:
        s += "&" + corpus[below(corpus.size())];
        break;
      default: {
        size_t depth = below(120);
        size_t at = s.find('=');
        at = at == std::string::npos ? 0 : at + 1;
        s.insert(at, std::string(depth, '('));
        s += std::string(below(120), ')');
      }
    }
  }
  return s;
}

TEST(StaQueryFuzzReplay, CorpusAndMutations) {
  auto corpus = Corpus();
  ASSERT_GE(corpus.size(), 8u);
  for (const auto& c : corpus) EXPECT_EQ(CheckQuery(c), "") << c;
  std::mt19937_64 rng(20261203);
  int failures = 0, parsed = 0;
  for (int i = 0; i < 20000 && failures < 10; ++i) {
    std::string input = Mutate(corpus[rng() % corpus.size()], corpus, rng);
    parsed += ParseQueryOptions(input).ok();
    std::string problem = CheckQuery(input);
    if (!problem.empty()) {
      ++failures;
      ADD_FAILURE() << "mutation " << i << ": " << problem << "\ninput: " << input;
    }
  }
  // the mutations reach the evaluator, not only the parser's errors
  EXPECT_GT(parsed, 2000);
  std::printf("%d of 20000 mutations parsed\n", parsed);
}

}  // namespace
}  // namespace bysans::sta::fuzz
