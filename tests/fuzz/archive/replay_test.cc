// Replays the seed corpus and hand-made hostile inputs through the archive fuzz target, so gcc
// builds (no libFuzzer) exercise it too. An abort fails the test.
#include <gtest/gtest.h>

#include <string>

#include "fuzz/replay_feed.h"

namespace {

using bysans::fuzz::Feed;

TEST(ArchiveFuzzReplay, SeedCorpus) { EXPECT_GE(bysans::fuzz::FeedCorpus(ARCHIVE_CORPUS_DIR), 3); }

TEST(ArchiveFuzzReplay, HostileShapes) {
  Feed("");
  Feed(std::string(512, '\0'));
  Feed(std::string(1024, 'x'));
  Feed(R"({"device":1,"key":"k","time":"2026-01-01T00:00:00Z","value":1e999})");
  Feed(R"({"device":1,"key":"k","time":"2026-01-01T00:00:00Z","value":"\ud800"})");
  Feed(R"({"device":1,"key":"k","time":"2026-01-01T00:00:00Z","value":"\ud83d\ude00"})");
  Feed(R"({"device":99999999999999999999,"key":"k","time":"0","value":-0})");
  Feed("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + std::string(100, '\xff'));
}

}  // namespace
