// Replays the seed corpus and hostile cursors through the cursor fuzz target, so gcc builds (no
// libFuzzer) exercise it too. An abort fails the test.
#include <gtest/gtest.h>

#include <string>

#include "fuzz/replay_feed.h"

namespace {

using bysans::fuzz::Feed;

TEST(OpendataCursorFuzzReplay, SeedCorpus) {
  EXPECT_GE(bysans::fuzz::FeedCorpus(CURSOR_CORPUS_DIR), 3);
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
