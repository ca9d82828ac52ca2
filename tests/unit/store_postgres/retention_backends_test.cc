// SeriesStore::ApplyRetention on every backend: expired readings gone while hourly aggregates
// answer the same, the newest reading of a series kept whatever its age, summaries past their
// own retention removed, raw messages removed, other devices untouched, true across a reopen;
// data committed after a pass goes at the next one; ingest beside a pass keeps every reading it
// committed. SQLite's own (raw_log rows, the memo): tests/unit/store/retention_test.cc.
#include <atomic>
#include <chrono>
#include <thread>

#include "unit/store_postgres/series_backend_fixture.h"

namespace bysans::testing {
namespace {

class RetentionBackendTest : public SeriesBackendTest {
 protected:
  void SetUp() override {
    seal_points_ = 500;  // SQLite: many seals, many chunks, one split at each cutoff
    SeriesBackendTest::SetUp();
  }
  static Reading R(Id dev, TimeMs ts, double v) {
    return Reading{dev, "t", ts, Value(v), "", Quality::kOk};
  }
  std::vector<TimeMs> Times(Id dev, TimeMs from = INT64_MIN, TimeMs to = INT64_MAX) {
    return SeriesBackendTest::Times(dev, "t", from, to);
  }
  std::vector<Bucket> Hourly(Id dev, TimeMs from, TimeMs to, TimeMs bucket = kHourMs) {
    auto r = s().Aggregate(AggregateQuery{dev, "t", from, to, bucket});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : std::vector<Bucket>{};
  }
  RetentionCounts Apply(std::vector<Id> devices, RetentionCutoffs c) {
    auto r = s().ApplyRetention(devices, c);
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

TEST_P(RetentionBackendTest, ExpiredReadingsGoWhileHourlyAggregatesAnswerTheSame) {
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

TEST_P(RetentionBackendTest, AggregatesPastTheirRetentionAreRemoved) {
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

TEST_P(RetentionBackendTest, TheNewestReadingStaysWhateverItsAge) {
  for (int i = 0; i < 2000; ++i) Put({R(3, kT0 + i * kMin, i)});
  Put({Reading{3, "s", kT0, Value(std::string("only")), "", Quality::kOk}});
  Reopen();                            // everything sealed
  const TimeMs cut = kT0 + 30 * kDay;  // everything is older
  const RetentionCounts got = Apply({3}, RetentionCutoffs{std::nullopt, cut, cut});
  EXPECT_EQ(got.readings, 1999);
  EXPECT_EQ(Times(3), (std::vector<TimeMs>{kT0 + 1999 * kMin}));
  Reopen();
  EXPECT_EQ(Times(3), (std::vector<TimeMs>{kT0 + 1999 * kMin}));
  auto latest = s().Latest({3});
  ASSERT_TRUE(latest.ok());
  ASSERT_EQ(latest->size(), 2u);
  for (const Reading& r : *latest) EXPECT_TRUE(r.key == "s" || r.ts == kT0 + 1999 * kMin);
}

TEST_P(RetentionBackendTest, ExpiredRawMessagesLeaveTheirRowsOrTheRowsGo) {
  // Commits of device 4 alone (rows deleted whole) and of devices 4 and 5 together (rewritten).
  for (int i = 0; i < 300; ++i) {
    std::vector<RawMessage> ms{JsonMessage(4, kT0 + i * kMin, "{\"a\":1}")};
    if (i % 2 == 0) ms.push_back(JsonMessage(5, kT0 + i * kMin, "{\"b\":2}"));
    Put({}, std::move(ms));
  }
  const auto five = Messages(5);
  ASSERT_EQ(five.size(), 150u);
  ASSERT_EQ(Messages(4).size(), 300u);
  const TimeMs cut = kT0 + 200 * kMin;
  const RetentionCounts got = Apply({4}, RetentionCutoffs{cut, std::nullopt, std::nullopt});
  EXPECT_EQ(got.raw_messages, 200);
  if (!postgres()) {  // SQLite's raw_log rows (several messages each)
    EXPECT_GT(got.raw_rows, 0);
    EXPECT_LT(got.raw_rows, 200);  // rows that also hold device 5's messages are rewritten
  }
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
  Put({}, {JsonMessage(4, kT0 + 400 * kMin, "{\"a\":2}")});
  left = Messages(4);
  ASSERT_EQ(left.size(), 101u);
  EXPECT_GT(left.front().id, five.front().id);
}

TEST_P(RetentionBackendTest, LateReadingsSealedAfterAPassGoAtTheNextPassWithTheSameCutoff) {
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

TEST_P(RetentionBackendTest, OldRawMessagesCommittedAfterAPassGoAtTheNextPassWithTheSameCutoff) {
  for (int i = 0; i < 100; ++i) Put({}, {JsonMessage(4, kT0 + i * kMin, "{\"a\":1}")});
  const TimeMs cut = kT0 + 50 * kMin;
  const RetentionCutoffs c{cut, std::nullopt, std::nullopt};
  EXPECT_EQ(Apply({4}, c).raw_messages, 50);
  EXPECT_EQ(Apply({4}, c).raw_messages, 0);
  // A message received before the cutoff arrives after the pass (an import, a clock set back).
  Put({}, {JsonMessage(4, kT0 + 10 * kMin, "{\"a\":2}")});
  EXPECT_EQ(Apply({4}, c).raw_messages, 1);
  for (const RawMessage& m : Messages(4)) EXPECT_GE(m.received_ms, cut);
  EXPECT_EQ(Messages(4).size(), 50u);
}

// A pass cut short (here: one that got as far as an earlier cutoff) is finished by the next:
// it removes the rest, and the hourly aggregates answer the same throughout.
TEST_P(RetentionBackendTest, APassCutShortIsFinishedByTheNext) {
  TenDays();
  const TimeMs end = kT0 + 10 * kDay - 1;
  const auto hourly = Hourly(1, kT0, end);
  EXPECT_EQ(
      Apply({1}, RetentionCutoffs{std::nullopt, kT0 + 2 * kDay + 7 * kMin, std::nullopt}).readings,
      2 * 1440 + 7);
  ExpectSameBuckets(Hourly(1, kT0, end), hourly);
  EXPECT_EQ(Apply({1}, RetentionCutoffs{std::nullopt, kT0 + 6 * kDay, std::nullopt}).readings,
            4 * 1440 - 7);
  EXPECT_EQ(Times(1).size(), size_t{4 * 1440});
  EXPECT_EQ(Times(1).front(), kT0 + 6 * kDay);
  ExpectSameBuckets(Hourly(1, kT0, end), hourly);
}

// A pass of more than one step (PostgreSQL: 10,000 rows a step) while another thread ingests new
// readings of the same series and raw messages: every committed reading and message stays, the
// expired ones go, the newest reading of each series stays.
TEST_P(RetentionBackendTest, RetentionBesideIngestKeepsWhatIngestCommitted) {
  TenDays();
  for (int i = 0; i < 30; ++i) {
    std::vector<RawMessage> ms;
    for (int j = 0; j < 100; ++j) ms.push_back(JsonMessage(1, kT0 + (i * 100 + j) * kMin, "{}"));
    Put({}, std::move(ms));
  }
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread ingest([&] {
    for (int i = 0; !stop.load() && i < 20'000; ++i) {
      IngestBatch b;
      b.readings.push_back(R(1, kT0 + 20 * kDay + i, 1));
      b.readings.push_back(R(2, kT0 + 20 * kDay + i, 2));
      b.messages.push_back(JsonMessage(1, kT0 + 20 * kDay + i, "{}"));
      if (s().Append(std::move(b)).ok()) ++written;
    }
  });
  while (written.load() < 20) std::this_thread::yield();
  const TimeMs cut = kT0 + 9 * kDay;
  const int before = written.load();
  auto got = s().ApplyRetention({1, 2}, RetentionCutoffs{cut, cut, std::nullopt});
  RecordProperty("commits_during_retention", written.load() - before);  // the overlap
  stop = true;
  ingest.join();
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->readings, 2 * 9 * 1440);
  EXPECT_EQ(got->raw_messages, 3000);
  const size_t n = static_cast<size_t>(written.load());
  for (Id dev : {1, 2}) {
    EXPECT_TRUE(Times(dev, INT64_MIN, cut - 1).empty());
    EXPECT_EQ(Times(dev, cut, kT0 + 10 * kDay).size(), 1440u) << dev;
    EXPECT_EQ(Times(dev, kT0 + 20 * kDay).size(), n) << dev;
  }
  EXPECT_EQ(Messages(1).size(), n);
  Reopen();
  EXPECT_EQ(Times(1).size(), 1440 + n);
}

BYSANS_ON_BOTH_BACKENDS(RetentionBackendTest);

}  // namespace
}  // namespace bysans::testing
