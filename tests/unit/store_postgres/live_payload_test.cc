// The live relay's payloads (src/store/postgres/live_payload.h): every payload stays below
// PostgreSQL's NOTIFY limit, and every reading comes back out of the records, also for a message
// too big for one payload (split by readings); a reading bigger than a payload is left out and
// counted.
#include "store/postgres/live_payload.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store/postgres/sql_text.h"
#include "store/rule_feed.h"

namespace bysans::pg {
namespace {

Device Dev() {
  Device d;
  d.id = 42;
  d.org_id = 3;
  d.app_id = 7;
  d.name = "Måler i kælderen";
  return d;
}

// (key, ts) of every reading in the payloads, with the device each record named.
std::vector<std::pair<std::string, TimeMs>> Unpack(const std::vector<std::string>& payloads,
                                                   const std::string& node) {
  std::vector<std::pair<std::string, TimeMs>> out;
  for (const std::string& p : payloads) {
    EXPECT_LE(p.size(), kMaxLivePayload);
    EXPECT_EQ(p.substr(0, node.size() + 1), node + " ");
    std::string_view body = std::string_view(p).substr(node.size() + 1);
    while (!body.empty()) {
      const size_t comma = body.find(',');
      auto e = DecodeRuleFeedRecord(FromByteaHex(body.substr(0, comma)));
      EXPECT_TRUE(e.ok()) << e.status().message();
      if (!e.ok()) return out;
      EXPECT_EQ(e->device->id, 42);
      EXPECT_EQ(e->device->org_id, 3);
      EXPECT_EQ(e->device->app_id, 7);
      for (const Reading& r : e->readings) out.emplace_back(r.key, r.ts);
      body = comma == std::string_view::npos ? std::string_view() : body.substr(comma + 1);
    }
  }
  return out;
}

TEST(LivePayloadTest, SmallMessagesShareAPayloadAndBigOnesAreSplitByReadings) {
  const std::string node = "node-a";
  std::vector<Reading> small = {{42, "co2", 1000, 612.0, "ppm", Quality::kOk},
                                {42, "temp", 1000, 21.5, "°C", Quality::kOk}};
  std::vector<Reading> big;
  for (int i = 0; i < 400; ++i)
    big.push_back({42, "k" + std::to_string(i), 2000 + i, std::string(40, 'x'), "", Quality::kOk});
  size_t left_out = 0;
  std::vector<std::string> records = LiveRecords(Dev(), small, node.size(), &left_out);
  ASSERT_EQ(records.size(), 1u);
  for (std::string& r : LiveRecords(Dev(), big, node.size(), &left_out))
    records.push_back(std::move(r));
  EXPECT_GT(records.size(), 3u);  // 400 readings of ~60 bytes do not fit one payload
  EXPECT_EQ(left_out, 0u);
  const std::vector<std::string> payloads = LivePayloads(node, records);
  EXPECT_LT(payloads.size(), records.size());  // records share payloads
  auto got = Unpack(payloads, node);
  std::set<std::pair<std::string, TimeMs>> want = {{"co2", 1000}, {"temp", 1000}};
  for (const Reading& r : big) want.emplace(r.key, r.ts);
  const std::set<std::pair<std::string, TimeMs>> got_set(got.begin(), got.end());
  EXPECT_EQ(got_set, want);
  EXPECT_EQ(got.size(), want.size());  // each once
}

TEST(LivePayloadTest, AReadingBiggerThanAPayloadIsLeftOutAndCounted) {
  std::vector<Reading> rs = {{42, "note", 1, std::string(5000, 'y'), "", Quality::kOk},
                             {42, "co2", 1, 500.0, "ppm", Quality::kOk}};
  size_t left_out = 0;
  auto records = LiveRecords(Dev(), rs, 6, &left_out);
  EXPECT_EQ(left_out, 1u);
  auto got = Unpack(LivePayloads("node-a", records), "node-a");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].first, "co2");
  EXPECT_TRUE(LivePayloads("node-a", {}).empty());
}

}  // namespace
}  // namespace bysans::pg
