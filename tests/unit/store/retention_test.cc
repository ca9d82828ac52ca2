// SeriesStore::ApplyRetention (store/sqlite/retention.cc) on a real SQLite store: expired
// readings gone while hourly aggregates answer the same, the newest reading of a series kept
// whatever its age, summaries past their own retention removed, raw messages removed (rows
// deleted whole or rewritten; rows known from the index to be all expired deleted unread), other
// devices untouched, everything true across a reopen; a deleted device's memo entries go.
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
constexpr TimeMs kHourMs = 3'600'000;
constexpr TimeMs kDay = 86'400'000;

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
  std::vector<TimeMs> Times(Id dev, TimeMs from = INT64_MIN, TimeMs to = INT64_MAX) {
    return testing::ReadingTimes(*store_, dev, "t", from, to);
  }
  std::vector<Bucket> Hourly(Id dev, TimeMs from, TimeMs to, TimeMs bucket = kHourMs) {
    auto r = store_->Aggregate(AggregateQuery{dev, "t", from, to, bucket});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : std::vector<Bucket>{};
  }
  std::vector<RawMessage> Messages(Id dev) {
    MessageQuery q;
    q.device_id = dev;
    q.limit = 1'000'000;
    auto r = store_->QueryMessages(q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : std::vector<RawMessage>{};
  }
  RetentionCounts Apply(std::vector<Id> devices, RetentionCutoffs c) {
    auto r = store_->ApplyRetention(devices, c);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : RetentionCounts{};
  }
  // Ten days of one reading a minute for devices 1 and 2 (integer values: sums are exact).
  void TenDays() {
    std::vector<Reading> batch;
    for (int i = 0; i < 10 * 1440; ++i) {
      batch.push_back(R(1, kT0 + i * kMin, i % 97));
      batch.push_back(R(2, kT0 + i * kMin, i % 89));
      if (batch.size() == 200) Put(std::exchange(batch, {}));
    }
    Put(std::move(batch));
  }
};

void ExpectSameBuckets(const std::vector<Bucket>& a, const std::vector<Bucket>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].start, b[i].start);
    EXPECT_EQ(a[i].count, b[i].count) << "bucket " << i;
    EXPECT_EQ(a[i].min, b[i].min);
    EXPECT_EQ(a[i].max, b[i].max);
    EXPECT_EQ(a[i].sum, b[i].sum);
  }
}

TEST_F(RetentionTest, ExpiredReadingsGoWhileHourlyAggregatesAnswerTheSame) {
  TenDays();
  const TimeMs end = kT0 + 10 * kDay - 1;
  const auto hourly = Hourly(1, kT0, end);
  const auto daily = Hourly(1, kT0, end, kDay);
  ASSERT_EQ(hourly.size(), 240u);
  // Cut in the middle of an hour: a chunk and an hour are split.
  const TimeMs cut = kT0 + 6 * kDay + 30 * kMin;
  const RetentionCounts got = Apply({1}, RetentionCutoffs{std::nullopt, cut, std::nullopt});
  EXPECT_EQ(got.readings, 6 * 1440 + 30);
  EXPECT_TRUE(Times(1, INT64_MIN, cut - 1).empty());
  EXPECT_EQ(Times(1).size(), size_t{4 * 1440 - 30});
  EXPECT_EQ(Times(2).size(), size_t{10 * 1440});  // another device: untouched
  ExpectSameBuckets(Hourly(1, kT0, end), hourly);
  ExpectSameBuckets(Hourly(1, kT0, end, kDay), daily);
  // Again: nothing more to do.
  EXPECT_EQ(Apply({1}, RetentionCutoffs{std::nullopt, cut, std::nullopt}).readings, 0);
  Reopen();
  EXPECT_EQ(Times(1).size(), size_t{4 * 1440 - 30});
  ExpectSameBuckets(Hourly(1, kT0, end), hourly);
  // New readings after the cleanup join as before.
  Put({R(1, kT0 + 10 * kDay, 5)});
  EXPECT_EQ(Times(1).size(), size_t{4 * 1440 - 30 + 1});
}

TEST_F(RetentionTest, AggregatesPastTheirRetentionAreRemoved) {
  TenDays();
  const TimeMs end = kT0 + 10 * kDay - 1;
  const auto hourly = Hourly(1, kT0, end);
  Apply({1}, RetentionCutoffs{std::nullopt, kT0 + 8 * kDay, std::nullopt});
  const RetentionCounts got =
      Apply({1}, RetentionCutoffs{std::nullopt, kT0 + 8 * kDay, kT0 + 4 * kDay});
  EXPECT_GT(got.aggregate_chunks, 0);
  const auto after = Hourly(1, kT0, end);
  ASSERT_FALSE(after.empty());
  // Every hour before the cutoff's hour goes, every later one stays whole (a straddling
  // summaries row keeps its later hours).
  EXPECT_EQ(after.front().start, kT0 + 4 * kDay);
  const std::vector<Bucket> tail(hourly.end() - static_cast<ptrdiff_t>(after.size()), hourly.end());
  ExpectSameBuckets(after, tail);
  EXPECT_EQ(Hourly(2, kT0, end).size(), 240u);  // another device: untouched
}

TEST_F(RetentionTest, TheNewestReadingStaysWhateverItsAge) {
  for (int i = 0; i < 2000; ++i) Put({R(3, kT0 + i * kMin, i)});
  Put({Reading{3, "s", kT0, Value(std::string("only")), "", Quality::kOk}});
  Reopen();                            // everything sealed
  const TimeMs cut = kT0 + 30 * kDay;  // everything is older
  const RetentionCounts got = Apply({3}, RetentionCutoffs{std::nullopt, cut, cut});
  EXPECT_EQ(got.readings, 1999);
  EXPECT_EQ(Times(3), (std::vector<TimeMs>{kT0 + 1999 * kMin}));
  Reopen();
  EXPECT_EQ(Times(3), (std::vector<TimeMs>{kT0 + 1999 * kMin}));
  auto latest = store_->Latest({3});
  ASSERT_TRUE(latest.ok());
  ASSERT_EQ(latest->size(), 2u);
  for (const Reading& r : *latest) EXPECT_TRUE(r.key == "s" || r.ts == kT0 + 1999 * kMin);
}

TEST_F(RetentionTest, ExpiredRawMessagesLeaveTheirRowsOrTheRowsGo) {
  // Commits of device 4 alone (rows deleted whole) and of devices 4 and 5 together (rewritten).
  for (int i = 0; i < 300; ++i) {
    std::vector<RawMessage> ms{testing::JsonMessage(4, kT0 + i * kMin, "{\"a\":1}")};
    if (i % 2 == 0) ms.push_back(testing::JsonMessage(5, kT0 + i * kMin, "{\"b\":2}"));
    Put({}, std::move(ms));
  }
  const auto five = Messages(5);
  ASSERT_EQ(five.size(), 150u);
  ASSERT_EQ(Messages(4).size(), 300u);
  const TimeMs cut = kT0 + 200 * kMin;
  const RetentionCounts got = Apply({4}, RetentionCutoffs{cut, std::nullopt, std::nullopt});
  EXPECT_EQ(got.raw_messages, 200);
  EXPECT_GT(got.raw_rows, 0);
  EXPECT_LT(got.raw_rows, 200);  // rows that also hold device 5's messages are rewritten
  auto left = Messages(4);
  ASSERT_EQ(left.size(), 100u);
  for (const RawMessage& m : left) EXPECT_GE(m.received_ms, cut);
  auto five_after = Messages(5);
  ASSERT_EQ(five_after.size(), five.size());
  for (size_t i = 0; i < five.size(); ++i) {
    EXPECT_EQ(five_after[i].id, five[i].id);
    EXPECT_EQ(five_after[i].payload, five[i].payload);
  }
  EXPECT_EQ(Apply({4}, RetentionCutoffs{cut, std::nullopt, std::nullopt}).raw_messages, 0);
  Reopen();
  EXPECT_EQ(Messages(4).size(), 100u);
  EXPECT_EQ(Messages(5).size(), 150u);
  // Ids go on after the reopen; new messages are found.
  Put({}, {testing::JsonMessage(4, kT0 + 400 * kMin, "{\"a\":2}")});
  left = Messages(4);
  ASSERT_EQ(left.size(), 101u);
  EXPECT_GT(left.front().id, five.front().id);
}

TEST_F(RetentionTest, LateReadingsSealedAfterAPassGoAtTheNextPassWithTheSameCutoff) {
  TenDays();
  Reopen();  // everything sealed
  const TimeMs cut = kT0 + 6 * kDay;
  const RetentionCutoffs c{std::nullopt, cut, std::nullopt};
  EXPECT_EQ(Apply({1}, c).readings, 6 * 1440);
  EXPECT_EQ(Apply({1}, c).readings, 0);  // done: the pass remembers it
  // Late readings older than the cutoff, then enough new ones for a seal (seal_points_ 500).
  std::vector<Reading> late;
  for (int i = 0; i < 100; ++i) late.push_back(R(1, kT0 + kDay + i * kMin, 1));
  Put(std::move(late));
  for (int i = 0; i < 6; ++i) {
    std::vector<Reading> fresh;
    for (int j = 0; j < 100; ++j) fresh.push_back(R(2, kT0 + 11 * kDay + (i * 100 + j) * kMin, 1));
    Put(std::move(fresh));
  }
  // Once the seal has committed them, the same cutoff removes them.
  int64_t removed = 0;
  for (int i = 0; i < 500 && removed < 100; ++i) {
    removed += Apply({1}, c).readings;
    if (removed < 100) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(removed, 100);
  EXPECT_TRUE(Times(1, INT64_MIN, cut - 1).empty());
}

TEST_F(RetentionTest, OldRawMessagesCommittedAfterAPassGoAtTheNextPassWithTheSameCutoff) {
  for (int i = 0; i < 100; ++i) Put({}, {testing::JsonMessage(4, kT0 + i * kMin, "{\"a\":1}")});
  const TimeMs cut = kT0 + 50 * kMin;
  const RetentionCutoffs c{cut, std::nullopt, std::nullopt};
  EXPECT_EQ(Apply({4}, c).raw_messages, 50);
  EXPECT_EQ(Apply({4}, c).raw_messages, 0);
  // A message received before the cutoff arrives after the pass (an import, a clock set back).
  Put({}, {testing::JsonMessage(4, kT0 + 10 * kMin, "{\"a\":2}")});
  EXPECT_EQ(Apply({4}, c).raw_messages, 1);
  for (const RawMessage& m : Messages(4)) EXPECT_GE(m.received_ms, cut);
  EXPECT_EQ(Messages(4).size(), 50u);
}

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
