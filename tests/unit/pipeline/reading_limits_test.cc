// pipeline/reading_limits.h: readings with a text over the limit are dropped with one warning
// naming them; the rest keep their order.
#include "pipeline/reading_limits.h"

#include <gtest/gtest.h>

namespace bysans::pipeline {
namespace {

Reading Text(std::string key, size_t bytes) {
  return Reading{1, std::move(key), 0, std::string(bytes, 'x'), "", Quality::kOk};
}

TEST(ReadingLimitsTest, TextsOverTheLimitAreDroppedWithOneWarning) {
  std::vector<Reading> rs = {Text("small", 10), Text("big", kMaxReadingTextBytes + 1),
                             Reading{1, "n", 0, 2.5, "", Quality::kOk},
                             Text("edge", kMaxReadingTextBytes)};
  std::vector<std::string> warnings = {"earlier"};
  DropOversizedReadings(rs, warnings);
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(rs[0].key, "small");
  EXPECT_EQ(rs[1].key, "n");
  EXPECT_EQ(rs[2].key, "edge");  // exactly the limit is kept
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[1].rfind("1 reading(s) not stored ('big'): a text value may hold at most ", 0),
            0u)
      << warnings[1];
}

TEST(ReadingLimitsTest, ManyDroppedAreCountedNotAllNamed) {
  std::vector<Reading> rs;
  for (int i = 0; i < 8; ++i) rs.push_back(Text("k" + std::to_string(i), kMaxReadingTextBytes * 2));
  std::vector<std::string> warnings;
  DropOversizedReadings(rs, warnings);
  EXPECT_TRUE(rs.empty());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("8 reading(s) not stored ('k0', 'k1', 'k2', 'k3', 'k4' and 3 more)"),
            std::string::npos)
      << warnings[0];
}

TEST(ReadingLimitsTest, NothingOverTheLimitChangesNothing) {
  std::vector<Reading> rs = {Text("a", 1), Text("b", 2)};
  std::vector<std::string> warnings;
  DropOversizedReadings(rs, warnings);
  EXPECT_EQ(rs.size(), 2u);
  EXPECT_TRUE(warnings.empty());
}

}  // namespace
}  // namespace bysans::pipeline
