// Erasure on every backend (SeriesStore::DeleteReadings, DeleteSeries, EraseRawMessages): the
// data gone from every answer, other series and devices untouched (ids, payloads), work beside
// ingest that keeps every reading it committed, reruns that find nothing more. That the bytes
// leave the files is backend-specific: tests/unit/store/series_delete_test.cc and
// raw_erase_test.cc (SQLite), postgres_only_test.cc (PostgreSQL).
#include <atomic>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "unit/store_postgres/series_backend_fixture.h"

namespace bysans::testing {
namespace {

class EraseBackendTest : public SeriesBackendTest {};

TEST_P(EraseBackendTest, DeleteReadingsAndSeries) {
  std::vector<Reading> rs;
  for (int i = 0; i < 12; ++i) rs.push_back(R(1, "v", kT0 + i * 10 * kMin, 1.0 * i));
  rs.push_back(R(1, "w", kT0, 7.0));
  Put(rs);
  const int64_t v = SeriesId(1, "v"), w = SeriesId(1, "w");
  // Remove 00:30..01:10 and the newest: the aggregate, the readings and the latest follow.
  ASSERT_TRUE(s().DeleteReadings(v, kT0 + 30 * kMin, kT0 + 70 * kMin).ok());
  ASSERT_TRUE(s().DeleteReadings(v, kT0 + 110 * kMin, kT0 + 110 * kMin).ok());
  auto check = [&](const std::string& phase) {
    std::vector<TimeMs> want = {
        kT0, kT0 + 10 * kMin, kT0 + 20 * kMin, kT0 + 80 * kMin, kT0 + 90 * kMin, kT0 + 100 * kMin};
    std::vector<TimeMs> got;
    for (const Reading& r : All(1, "v")) got.insert(got.begin(), r.ts);
    EXPECT_EQ(got, want) << phase;
    auto agg = s().Aggregate({1, "v", kT0, kT0 + 2 * kHourMs - 1, kHourMs});
    ASSERT_TRUE(agg.ok());
    ASSERT_EQ(agg->size(), 2u) << phase;
    EXPECT_EQ(agg->at(0).count, 3);
    EXPECT_DOUBLE_EQ(agg->at(0).sum, 0 + 1 + 2);
    EXPECT_EQ(agg->at(1).count, 3);
    EXPECT_DOUBLE_EQ(agg->at(1).max, 10);
    EXPECT_EQ(s().GetSeries(v)->latest->ts, kT0 + 100 * kMin) << phase;
  };
  check("open");
  Reopen();
  check("reopened");
  EXPECT_EQ(s().DeleteReadings(987654, 0, 1).code(), Code::kNotFound);

  ASSERT_TRUE(s().DeleteSeries(w).ok());
  EXPECT_EQ(s().GetSeries(w).status().code(), Code::kNotFound);
  EXPECT_TRUE(All(1, "w").empty());
  EXPECT_EQ(s().DeleteSeries(w).code(), Code::kNotFound);
  Put({R(1, "w", kT0 + 1, 8.0)});  // a new series, never the old id
  const int64_t w2 = SeriesId(1, "w");
  EXPECT_NE(w2, 0);
  EXPECT_NE(w2, w);
  EXPECT_EQ(All(1, "w").size(), 1u);
  EXPECT_EQ(s().Aggregate({1, "w", kT0, kT0 + kHourMs, kHourMs})->at(0).count, 1);
}

TEST_P(EraseBackendTest, DeleteReadingsRemovesTheRange) {
  seal_points_ = 50;  // SQLite: several seals, chunks and the open segment both hold the series
  Reopen();
  for (int i = 0; i < 120; ++i) Put({R(1, "t", kT0 + i * kMin, double(i)), R(1, "h", kT0, 1.0)});
  const int64_t sid = SeriesId(1, "t");
  ASSERT_EQ(Times(1, "t").size(), 120u);
  // The middle (across chunks), then the newest (the latest value changes).
  ASSERT_TRUE(s().DeleteReadings(sid, kT0 + 30 * kMin, kT0 + 79 * kMin).ok());
  ASSERT_TRUE(s().DeleteReadings(sid, kT0 + 110 * kMin, INT64_MAX).ok());
  auto check = [&] {
    std::vector<TimeMs> want;
    for (int i = 0; i < 120; ++i)
      if (i < 30 || (i >= 80 && i < 110)) want.push_back(kT0 + i * kMin);
    EXPECT_EQ(Times(1, "t"), want);
    auto x = s().GetSeries(sid);
    ASSERT_TRUE(x.ok());
    ASSERT_TRUE(x->latest.has_value());
    EXPECT_EQ(x->latest->ts, kT0 + 109 * kMin);
    auto buckets = s().Aggregate({1, "t", kT0, kT0 + 200 * kMin, kHourMs});
    ASSERT_TRUE(buckets.ok());
    int64_t n = 0;
    for (const Bucket& b : *buckets) n += b.count;
    EXPECT_EQ(n, 60);                     // the hour summaries follow the readings
    EXPECT_EQ(Times(1, "h").size(), 1u);  // other series untouched
  };
  check();
  Reopen();
  check();
  // Readings after the deletion go in as usual.
  Put({R(1, "t", kT0 + 50 * kMin, 5.0)});
  EXPECT_EQ(Times(1, "t").size(), 61u);
}

TEST_P(EraseBackendTest, DeleteSeriesRemovesItAndNeverReusesItsId) {
  seal_points_ = 20;
  Reopen();
  for (int i = 0; i < 50; ++i) Put({R(2, "k", kT0, 1.0), R(2, "t", kT0 + i * kMin, double(i))});
  const int64_t sid = SeriesId(2, "t");
  const int64_t other = SeriesId(2, "k");
  ASSERT_GT(sid, other);  // the newest id: reuse after a reopen would show
  ASSERT_TRUE(s().DeleteSeries(sid).ok());
  EXPECT_EQ(s().GetSeries(sid).status().code(), Code::kNotFound);
  EXPECT_TRUE(Times(2, "t").empty());
  EXPECT_EQ(*s().Keys(2), std::vector<std::string>{"k"});
  Reopen();
  EXPECT_EQ(s().GetSeries(sid).status().code(), Code::kNotFound);
  EXPECT_TRUE(Times(2, "t").empty());
  Put({R(2, "t", kT0, 7.0)});
  const int64_t again = SeriesId(2, "t");
  EXPECT_GT(again, sid);
  EXPECT_EQ(Times(2, "t").size(), 1u);
  EXPECT_EQ(Times(2, "k").size(), 1u);
}

// The same series deleted by several callers at once (a SensorThings DELETE of a Thing cascading
// to its Datastreams while its device is deleted, or two DELETEs racing): one succeeds, the others
// answer 404, and the store goes on. On SQLite two drops of one series in one group commit took
// the writer down (SIGSEGV publishing the second).
TEST_P(EraseBackendTest, ConcurrentDeletesOfOneSeriesOneSucceeds) {
  constexpr int kCallers = 4;
  for (int round = 0; round < 15; ++round) {
    const std::string key = "c" + std::to_string(round);
    Put({R(6, key, kT0, 1.0), R(6, key, kT0 + kMin, 2.0)});
    const int64_t sid = SeriesId(6, key);
    ASSERT_NE(sid, 0);
    std::atomic<int> ready{0};
    std::vector<std::future<Status>> calls;
    for (int i = 0; i < kCallers; ++i)
      calls.push_back(std::async(std::launch::async, [&] {
        ready.fetch_add(1);
        while (ready.load() < kCallers) std::this_thread::yield();
        return s().DeleteSeries(sid);
      }));
    int ok = 0;
    for (auto& c : calls) {
      const Status st = c.get();
      if (st.ok()) {
        ++ok;
      } else {
        EXPECT_EQ(st.code(), Code::kNotFound) << st.message();
      }
    }
    EXPECT_EQ(ok, 1) << "round " << round;
    EXPECT_EQ(s().GetSeries(sid).status().code(), Code::kNotFound);
  }
  Put({R(6, "after", kT0, 3.0)});  // the store still takes readings
  EXPECT_EQ(Times(6, "after").size(), 1u);
}

// Readings of the series committed while a deletion runs: each is either deleted or kept whole,
// and another series' readings committed meanwhile are all kept (the same after a reopen).
TEST_P(EraseBackendTest, DeletionBesideTheWriter) {
  seal_points_ = 200;
  Reopen();
  for (int i = 0; i < 500; ++i) Put({R(4, "t", kT0 + i, double(i))});
  const int64_t sid = SeriesId(4, "t");
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 500; !stop.load() && i < 5000; ++i) {
      IngestBatch b;
      b.readings.push_back(R(4, "t", kT0 + i, double(i)));
      b.readings.push_back(R(4, "u", kT0 + i, double(i)));
      if (s().Append(std::move(b)).ok()) ++written;
    }
  });
  while (written.load() < 50) std::this_thread::yield();
  Status st = s().DeleteReadings(sid, INT64_MIN, INT64_MAX);
  stop = true;
  writer.join();
  ASSERT_TRUE(st.ok()) << st.message();
  const std::vector<TimeMs> before = Times(4, "t");
  // Everything written before the call started is gone.
  for (TimeMs t : before) EXPECT_GE(t, kT0 + 500 + 50);
  EXPECT_EQ(Times(4, "u").size(), static_cast<size_t>(written.load()));
  Reopen();
  EXPECT_EQ(Times(4, "t"), before);
  EXPECT_EQ(Times(4, "u").size(), static_cast<size_t>(written.load()));
}

class RawEraseBackendTest : public SeriesBackendTest {
 protected:
  // `n` messages of each of devices 1 and 2 from t0, a millisecond apart, `per_commit` of each in
  // a commit; device 1's with a dedup key and decode results.
  void Ingest(int n, TimeMs t0, int per_commit = 1) {
    for (int i = 0; i < n; i += per_commit) {
      std::vector<RawMessage> ms;
      for (int j = i; j < std::min(n, i + per_commit); ++j) {
        RawMessage m = JsonMessage(1, t0 + j, "{\"fall\":" + std::to_string(j) + "}",
                                   "citizen-" + std::to_string(t0 + j));
        m.decode_status = DecodeStatus::kError;
        m.decode_error = "bad " + std::to_string(j);
        m.decode_errors = {"e" + std::to_string(j)};
        ms.push_back(std::move(m));
        ms.push_back(JsonMessage(2, t0 + j, "{\"co2\":" + std::to_string(400 + j) + "}"));
      }
      Put({}, std::move(ms));
    }
  }
};

TEST_P(RawEraseBackendTest, ATimeRangeIsErasedAndOthersKeepTheirIds) {
  Ingest(300, kT0);
  const std::vector<RawMessage> school = Messages(2);
  ASSERT_EQ(school.size(), 300u);
  auto erased = s().EraseRawMessages(1, kT0 + 100, kT0 + 249);
  ASSERT_TRUE(erased.ok()) << erased.status().message();
  EXPECT_EQ(*erased, 150);
  auto check = [&] {
    const auto left = Messages(1);
    ASSERT_EQ(left.size(), 150u);
    for (const RawMessage& m : left)
      EXPECT_TRUE(m.received_ms < kT0 + 100 || m.received_ms > kT0 + 249) << m.received_ms;
    EXPECT_TRUE(Messages(1, kT0 + 100, kT0 + 249).empty());
    const auto after = Messages(2);
    ASSERT_EQ(after.size(), school.size());
    for (size_t i = 0; i < after.size(); ++i) {
      EXPECT_EQ(after[i].id, school[i].id);
      EXPECT_EQ(after[i].payload, school[i].payload);
    }
  };
  check();
  Reopen();
  check();
  // The dedup keys went with the messages: a redelivery of an erased message is stored again
  // (one that was not erased is still a duplicate).
  IngestBatch again;
  again.messages.push_back(JsonMessage(1, kT0 + 120, "{}", "citizen-" + std::to_string(kT0 + 120)));
  again.messages.push_back(JsonMessage(1, kT0 + 20, "{}", "citizen-" + std::to_string(kT0 + 20)));
  auto shared = std::make_shared<const IngestBatch>(std::move(again));
  std::promise<size_t> dups;
  s().AppendShared(shared, [&](Status st) {
    EXPECT_TRUE(st.ok()) << st.message();
    dups.set_value(shared->duplicates);
  });
  EXPECT_EQ(dups.get_future().get(), 1u);
  // Again: nothing more in the range but the redelivered one; then everything.
  EXPECT_EQ(*s().EraseRawMessages(1, kT0 + 100, kT0 + 249), 1);
  EXPECT_EQ(*s().EraseRawMessages(1, kT0 + 100, kT0 + 249), 0);
  EXPECT_EQ(*s().EraseRawMessages(1, INT64_MIN, INT64_MAX), 150);
  EXPECT_TRUE(Messages(1).empty());
  EXPECT_EQ(Messages(2).size(), 300u);
  EXPECT_EQ(*s().EraseRawMessages(3, INT64_MIN, INT64_MAX), 0);  // a device without messages
}

// More messages than one transaction erases (PostgreSQL: batches of 1,000), while another thread
// ingests readings and messages of both devices: every committed reading and every message
// outside the range stays; a second run erases what was committed in the range meanwhile.
TEST_P(RawEraseBackendTest, ErasureBesideIngestKeepsWhatIngestCommitted) {
  Ingest(2500, kT0, 100);
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread ingest([&] {
    for (int i = 0; !stop.load() && i < 20'000; ++i) {
      IngestBatch b;
      b.messages.push_back(JsonMessage(2, kT0 + 10'000 + i, "{}"));
      b.messages.push_back(JsonMessage(1, kT0 + 10'000 + i, "{}"));  // after the range
      b.readings.push_back(R(1, "v", kT0 + 10'000 + i, double(i)));
      b.readings.push_back(R(2, "v", kT0 + 10'000 + i, double(i)));
      if (s().Append(std::move(b)).ok()) ++written;
    }
  });
  while (written.load() < 20) std::this_thread::yield();
  const int before = written.load();
  auto erased = s().EraseRawMessages(1, kT0, kT0 + 2499);
  const int during = written.load() - before;
  stop = true;
  ingest.join();
  ASSERT_TRUE(erased.ok()) << erased.status().message();
  EXPECT_EQ(*erased, 2500);
  RecordProperty("commits_during_erasure", during);  // how much the two overlapped
  const size_t n = static_cast<size_t>(written.load());
  EXPECT_TRUE(Messages(1, kT0, kT0 + 2499).empty());
  EXPECT_EQ(Messages(1).size(), n);
  EXPECT_EQ(Messages(2).size(), 2500 + n);
  EXPECT_EQ(Times(1, "v").size(), n);
  EXPECT_EQ(Times(2, "v").size(), n);
  EXPECT_EQ(*s().EraseRawMessages(1, kT0, kT0 + 2499), 0);
}

BYSANS_ON_BOTH_BACKENDS(EraseBackendTest);
BYSANS_ON_BOTH_BACKENDS(RawEraseBackendTest);

}  // namespace
}  // namespace bysans::testing
