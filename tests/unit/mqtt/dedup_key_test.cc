#include "mqtt/dedup_key.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace bysans::mqtt {
namespace {

TEST(DedupKeyTest, Fnv1aMatchesTheReferenceVectors) {
  EXPECT_EQ(Fnv1a(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(Fnv1a("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(Fnv1a("foobar"), 0x85944171f73967e8ull);
}

// The keys already stored were written with fmt::format("mqtt:{}:{}:{}", ...): same strings.
TEST(DedupKeyTest, SameStringsAsTheFormatWrittenBefore) {
  const std::string payload = R"({"ts":1767225600123,"temperature":21.5})";
  const struct {
    TimeMs ts;
    Id device;
  } cases[] = {{1767225600123, 42},
               {0, 0},
               {-1, 7},
               {std::numeric_limits<TimeMs>::min(), std::numeric_limits<Id>::max()},
               {std::numeric_limits<TimeMs>::max(), std::numeric_limits<Id>::min()}};
  for (const auto& c : cases) {
    EXPECT_EQ(DeviceMessageDedupKey(c.ts, c.device, payload),
              fmt::format("mqtt:{}:{}:{}", c.ts, c.device, Fnv1a(payload)));
  }
  EXPECT_EQ(DeviceMessageDedupKey(1767225600123, 42, "foobar"),
            "mqtt:1767225600123:42:9625390261332436968");
}

}  // namespace
}  // namespace bysans::mqtt
