// Replays the seed corpus and hand-made hostile inputs (deep nesting hidden in
// strings, escapes, broken documents) through the API JSON fuzz target, so gcc
// builds (no libFuzzer) exercise it too. An abort fails the test.
#include <gtest/gtest.h>

#include <string>

#include "fuzz/replay_feed.h"

namespace {

using bysans::fuzz::Feed;

TEST(ApiJsonFuzzReplay, SeedCorpus) { EXPECT_GT(bysans::fuzz::FeedCorpus(API_CORPUS_DIR), 3); }

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
