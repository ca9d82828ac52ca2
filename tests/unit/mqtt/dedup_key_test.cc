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

// A ChirpStack event's key names the event type and the device bysans resolved, so the same id
// sent for two devices (two organisations' ChirpStacks) gives two keys; a long id is hashed.
TEST(DedupKeyTest, LorawanKeysAreScopedToTheDeviceAndBounded) {
  const std::string uuid = "3ac7e3c4-4401-4b8d-9386-a5c902f9202d";
  EXPECT_EQ(LorawanEventDedupKey("up", 42, uuid), "lorawan:up:42:" + uuid);
  EXPECT_NE(LorawanEventDedupKey("up", 42, uuid), LorawanEventDedupKey("up", 43, uuid));
  EXPECT_NE(LorawanEventDedupKey("up", 42, uuid), LorawanEventDedupKey("status", 42, uuid));
  EXPECT_EQ(LorawanEventDedupKey("up", 42, "-:1780000000000"), "lorawan:up:42:-:1780000000000");
  const std::string id100(100, 'x'), id101(101, 'x'), huge(10'000, 'y');
  EXPECT_EQ(LorawanEventDedupKey("up", 1, id100), "lorawan:up:1:" + id100);
  EXPECT_EQ(LorawanEventDedupKey("up", 1, id101), fmt::format("lorawan:up:1:#{}", Fnv1a(id101)));
  EXPECT_LE(LorawanEventDedupKey("up", 1, huge).size(), 60u);
  EXPECT_NE(LorawanEventDedupKey("up", 1, huge), LorawanEventDedupKey("up", 1, huge + "z"));
}

}  // namespace
}  // namespace bysans::mqtt
