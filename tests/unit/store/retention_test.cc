// SeriesStore::ApplyRetention (store/sqlite/retention.cc), what only SQLite has: expired raw
// messages leave raw_log rows (rows deleted whole, unread where the index shows them all expired,
// or rewritten), and a deleted device's memo entries go. The behaviour every backend shares
// (readings, summaries, the newest reading, raw messages, later passes):
// tests/unit/store_postgres/retention_backends_test.cc.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/store_impl.h"
#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using testing::StoreTest;

constexpr TimeMs kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
constexpr TimeMs kMin = 60'000;

class RetentionTest : public StoreTest {
 protected:
  void SetUp() override {
    seal_points_ = 500;         // many seals: many chunks, one split at each cutoff
    message_index_batch_ = 64;  // index batches written: indexed and unindexed rows both occur
    StoreTest::SetUp();
  }
  void Put(std::vector<Reading> rs, std::vector<RawMessage> ms = {}) {
    IngestBatch b;
    b.readings = std::move(rs);
    b.messages = std::move(ms);
    Status s = store_->Append(std::move(b));
    ASSERT_TRUE(s.ok()) << s.message();
  }
  static Reading R(Id dev, TimeMs ts, double v) {
    return Reading{dev, "t", ts, Value(v), "", Quality::kOk};
  }
  std::vector<RawMessage> Messages(Id dev) { return testing::MessagesOf(*store_, dev); }
  RetentionCounts Apply(std::vector<Id> devices, RetentionCutoffs c) {
    auto r = store_->ApplyRetention(devices, c);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : RetentionCounts{};
  }
};

// Retention's fast path (store/sqlite/raw_erase.cc DeleteIfWhollyExpired): a raw_log row whose
// messages the index shows to be all the pass's devices' and all older than the cutoff goes
// without being read; the index and the reads stay right (a run naming a missing row would
// fail the queries), across a reopen.
TEST_F(RetentionTest, RowsWhoseMessagesAllExpiredGoWithoutBeingRead) {
  for (int i = 0; i < 300; ++i) {
    Put({}, {testing::JsonMessage(4, kT0 + i * kMin, "{\"a\":1}"),
             testing::JsonMessage(5, kT0 + i * kMin + 1, "{\"b\":2}")});
  }
  const TimeMs cut = kT0 + 200 * kMin;
  const RetentionCutoffs c{cut, std::nullopt, std::nullopt};
  const RetentionCounts got = Apply({4, 5}, c);
  EXPECT_EQ(got.raw_messages, 400);
  // Index batches of 64 messages (32 rows): rows 1..288 are indexed, so each of the 200 expired
  // rows goes whole, none of them read.
  EXPECT_EQ(got.raw_rows, 200);
  EXPECT_EQ(got.raw_rows_unread, 200);
  for (Id dev : {4, 5}) {
    const auto left = Messages(dev);
    EXPECT_EQ(left.size(), 100u);
    for (const RawMessage& m : left) EXPECT_GE(m.received_ms, cut);
  }
  EXPECT_EQ(Apply({4, 5}, c).raw_messages, 0);
  Reopen();
  EXPECT_EQ(Messages(4).size(), 100u);
  EXPECT_EQ(Messages(5).size(), 100u);
  Put({}, {testing::JsonMessage(4, kT0 + 400 * kMin, "{\"a\":2}")});
  EXPECT_EQ(Messages(4).size(), 101u);
}

// A row holding one message younger than the cutoff is never deleted whole: it is read and
// rewritten, and that message keeps its id and payload.
TEST_F(RetentionTest, ARowWithOneYoungMessageIsKeptWithIt) {
  const TimeMs cut = kT0 + 300 * kMin;
  for (int i = 0; i < 200; ++i) {
    // In every tenth row device 5's message is younger than the cutoff.
    const TimeMs five_at = i % 10 == 0 ? cut + i * kMin : kT0 + i * kMin + 1;
    Put({}, {testing::JsonMessage(4, kT0 + i * kMin, "{\"a\":1}"),
             testing::JsonMessage(5, five_at, "{\"young\":" + std::to_string(i) + "}")});
  }
  std::vector<RawMessage> young;
  for (RawMessage& m : Messages(5))
    if (m.received_ms >= cut) young.push_back(std::move(m));
  ASSERT_EQ(young.size(), 20u);
  const RetentionCounts got = Apply({4, 5}, RetentionCutoffs{cut, std::nullopt, std::nullopt});
  EXPECT_EQ(got.raw_messages, 400 - 20);
  // Rows 1..192 are indexed; the 20 with a young message are read and kept.
  EXPECT_EQ(got.raw_rows_unread, 192 - 20);
  EXPECT_EQ(got.raw_rows, got.raw_rows_unread);
  EXPECT_TRUE(Messages(4).empty());
  const auto five = Messages(5);
  ASSERT_EQ(five.size(), young.size());
  for (size_t i = 0; i < young.size(); ++i) {
    EXPECT_EQ(five[i].id, young[i].id);
    EXPECT_EQ(five[i].payload, young[i].payload);
  }
}

// Rows mix devices of applications with different retentions: a pass for one application's
// devices leaves the other device's messages in the shared rows (rewritten, not deleted); that
// device's own pass later removes them and the rows.
TEST_F(RetentionTest, ARowSharedWithADeviceOfALongerRetentionKeepsThatDevicesMessages) {
  for (int i = 0; i < 200; ++i) {
    Put({}, {testing::JsonMessage(4, kT0 + i * kMin, "{\"a\":1}"),
             testing::JsonMessage(5, kT0 + i * kMin + 1, "{\"b\":" + std::to_string(i) + "}")});
  }
  const auto five = Messages(5);
  ASSERT_EQ(five.size(), 200u);
  // Device 4's application keeps raw messages for less time: all of them have expired; device
  // 5's (older than that cutoff too) are not this pass's.
  const RetentionCutoffs c{kT0 + 300 * kMin, std::nullopt, std::nullopt};
  RetentionCounts got = Apply({4}, c);
  EXPECT_EQ(got.raw_messages, 200);
  EXPECT_EQ(got.raw_rows, 0);
  EXPECT_EQ(got.raw_rows_unread, 0);
  EXPECT_TRUE(Messages(4).empty());
  auto five_after = Messages(5);
  ASSERT_EQ(five_after.size(), five.size());
  for (size_t i = 0; i < five.size(); ++i) {
    EXPECT_EQ(five_after[i].id, five[i].id);
    EXPECT_EQ(five_after[i].payload, five[i].payload);
  }
  // Device 5's pass: the rows now hold its messages and tombstones, so they are read (a
  // tombstone is not counted by the index) and go.
  got = Apply({5}, c);
  EXPECT_EQ(got.raw_messages, 200);
  EXPECT_EQ(got.raw_rows, 192);
  EXPECT_EQ(got.raw_rows_unread, 0);
  Reopen();
  EXPECT_TRUE(Messages(4).empty());
  EXPECT_TRUE(Messages(5).empty());
}

// What retention remembers of a device and its series (retention_memo.h) goes once the device
// is deleted and the eraser has worked its data off (before: kept for ever).
TEST_F(RetentionTest, TheMemoForgetsADeletedDevice) {
  auto org = store_->CreateOrganization({0, "Kommune", 0});
  ASSERT_TRUE(org.ok());
  auto app = store_->CreateApplication({0, org->id, "app", "", 0});
  ASSERT_TRUE(app.ok());
  Device d;
  d.app_id = app->id;
  d.name = "d";
  auto dev = store_->CreateDevice(d, "");
  ASSERT_TRUE(dev.ok());
  for (int i = 0; i < 100; ++i)
    Put({R(dev->id, kT0 + i * kMin, i)}, {testing::JsonMessage(dev->id, kT0 + i * kMin, "{}")});
  Reopen();  // sealed
  const TimeMs cut = kT0 + 50 * kMin;
  Apply({dev->id}, RetentionCutoffs{cut, cut, std::nullopt});
  auto* sqlite = dynamic_cast<sqlite::SqliteStore*>(store_.get());
  ASSERT_NE(sqlite, nullptr);
  const sqlite::RetentionMemo& memo = sqlite->retention_memo();
  EXPECT_EQ(memo.size(), 2u);  // its series, its raw messages
  ASSERT_TRUE(store_->DeleteDevice(dev->id).ok());
  for (int i = 0; i < 1000 && memo.size() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(memo.size(), 0u);
}

}  // namespace
}  // namespace bysans
