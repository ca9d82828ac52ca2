// pipeline/device_key_limit.h: a device adds keys up to the limit; then only its known keys are
// kept, with one warning per message naming the dropped ones; devices count alone.
#include "pipeline/device_key_limit.h"

#include <gtest/gtest.h>

namespace bysans::pipeline {
namespace {

std::vector<Reading> Keys(Id device, std::initializer_list<const char*> keys) {
  std::vector<Reading> out;
  for (const char* k : keys) out.push_back(Reading{device, k, 0, 1.0, "", Quality::kOk});
  return out;
}

std::vector<std::string> KeysOf(const std::vector<Reading>& rs) {
  std::vector<std::string> out;
  for (const Reading& r : rs) out.push_back(r.key);
  return out;
}

TEST(DeviceKeyLimitTest, NewKeysPastTheLimitAreDroppedKnownOnesKept) {
  DeviceKeyLimit limit(3);
  std::vector<std::string> warnings;
  auto first = Keys(1, {"a", "b", "a"});
  limit.Apply(1, first, warnings);
  EXPECT_EQ(KeysOf(first), (std::vector<std::string>{"a", "b", "a"}));
  EXPECT_TRUE(warnings.empty());
  auto second = Keys(1, {"c", "d", "a", "e"});
  limit.Apply(1, second, warnings);
  EXPECT_EQ(KeysOf(second), (std::vector<std::string>{"c", "a"}));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rfind("2 reading(s) of new keys not stored ('d', 'e'): a device may have "
                              "at most 3 keys",
                              0),
            0u)
      << warnings[0];
  // Another device counts alone; the first keeps its three.
  auto other = Keys(2, {"d", "e", "f"});
  limit.Apply(2, other, warnings);
  EXPECT_EQ(other.size(), 3u);
  auto again = Keys(1, {"b", "c"});
  limit.Apply(1, again, warnings);
  EXPECT_EQ(again.size(), 2u);
  EXPECT_EQ(warnings.size(), 1u);
}

TEST(DeviceKeyLimitTest, AMessageOfManyNewKeysNamesAFewAndCountsTheRest) {
  DeviceKeyLimit limit(1);
  std::vector<std::string> warnings;
  auto rs = Keys(7, {"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"});
  limit.Apply(7, rs, warnings);
  EXPECT_EQ(KeysOf(rs), std::vector<std::string>{"k0"});
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("7 reading(s) of new keys not stored ('k1', 'k2', 'k3', 'k4', 'k5' "
                             "and 2 more)"),
            std::string::npos)
      << warnings[0];
}

// The keys a device had before this process started count from its first message: a restart does
// not let a device at its limit add as many again. A failed read is tried again at the next one.
TEST(DeviceKeyLimitTest, TheStoredKeysCountFromTheFirstMessage) {
  int reads = 0;
  bool fail = true;
  DeviceKeyLimit limit(3, [&](Id device) -> Result<std::vector<std::string>> {
    ++reads;
    if (fail) return Unavailable("the store is busy");
    if (device == 1) return std::vector<std::string>{"a", "b", "c"};
    return std::vector<std::string>{};
  });
  std::vector<std::string> warnings;
  auto while_failing = Keys(1, {"a"});
  limit.Apply(1, while_failing, warnings);
  EXPECT_EQ(while_failing.size(), 1u);
  EXPECT_EQ(reads, 1);
  fail = false;
  auto first = Keys(1, {"a", "x", "c"});
  limit.Apply(1, first, warnings);
  EXPECT_EQ(KeysOf(first), (std::vector<std::string>{"a", "c"})) << "x is a fourth key";
  EXPECT_EQ(reads, 2);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("('x')"), std::string::npos) << warnings[0];
  auto later = Keys(1, {"b", "y"});
  limit.Apply(1, later, warnings);
  EXPECT_EQ(KeysOf(later), std::vector<std::string>{"b"});
  EXPECT_EQ(reads, 2) << "the store is read once per device";
  auto other = Keys(2, {"x", "y", "z"});
  limit.Apply(2, other, warnings);
  EXPECT_EQ(other.size(), 3u);
  EXPECT_EQ(reads, 3);
}

}  // namespace
}  // namespace bysans::pipeline
