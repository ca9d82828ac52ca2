// SeriesStore behaviour that every backend must share (appends, reads, aggregates, latest values,
// series ids, back-pressure), run against SQLite and against a real PostgreSQL 15
// (series_backend_fixture.h). Erasure: erase_backends_test.cc; retention:
// retention_backends_test.cc; PostgreSQL only: postgres_only_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "unit/store_postgres/series_backend_fixture.h"

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

namespace bysans::testing {
namespace {

TEST_P(SeriesBackendTest, ReadingsRoundTripAllKinds) {
  Put({R(1, "temp", kT0, 21.5, "°C"), R(1, "door", kT0 + 1000, true),
       R(1, "status", kT0 + 2000, std::string("o\"k\\ {x}, y"), "", Quality::kStuck),
       R(1, "temp", kT0 + 3000, -3.25, "°C", Quality::kSpike), R(2, "temp", kT0, 9.0)});
  auto check = [&] {
    auto rs = All(1);
    ASSERT_EQ(rs.size(), 4u);
    EXPECT_EQ(rs[0].ts, kT0 + 3000);  // newest first
    EXPECT_EQ(std::get<double>(rs[0].value), -3.25);
    EXPECT_EQ(rs[0].unit, "°C");
    EXPECT_EQ(rs[0].quality, Quality::kSpike);
    EXPECT_EQ(std::get<std::string>(rs[1].value), "o\"k\\ {x}, y");
    EXPECT_EQ(rs[1].quality, Quality::kStuck);
    EXPECT_EQ(std::get<bool>(rs[2].value), true);
    EXPECT_EQ(rs[2].key, "door");
    EXPECT_EQ(rs[3].device_id, 1);
    EXPECT_EQ(All(1, "temp").size(), 2u);
    ReadingQuery q;
    q.device_id = 1;
    q.limit = 2;
    auto lim = s().QueryReadings(q);
    ASSERT_EQ(lim->size(), 2u);
    EXPECT_EQ(lim->at(1).ts, kT0 + 2000);
    q.limit = 100;
    q.quality = Quality::kSpike;
    EXPECT_EQ(s().QueryReadings(q)->size(), 1u);
    q.quality.reset();
    q.from = kT0 + 1000;
    q.to = kT0 + 2000;
    EXPECT_EQ(s().QueryReadings(q)->size(), 2u);
    q.oldest_first = true;
    q.limit = 1;
    EXPECT_EQ(s().QueryReadings(q)->at(0).ts, kT0 + 1000);
    EXPECT_EQ(*s().Keys(1), (std::vector<std::string>{"door", "status", "temp"}));
    auto qc = s().CountQuality(1);
    ASSERT_TRUE(qc.ok()) << qc.status().message();
    EXPECT_EQ(qc->at(Quality::kOk), 2);
    EXPECT_EQ(qc->at(Quality::kStuck), 1);
    EXPECT_EQ(qc->at(Quality::kSpike), 1);
    EXPECT_TRUE(All(3).empty());
  };
  check();
  Reopen();
  check();
}

TEST_P(SeriesBackendTest, MessagesNewestFirstDedupAndReopen) {
  for (int i = 0; i < 5; ++i) {
    IngestBatch b;
    RawMessage m = testing::JsonMessage(i < 4 ? 7 : 8, kT0 + i * 1000, "");
    m.content_type = "application/octet-stream";
    m.payload = std::string("\x00\x01\xff", 3) + std::to_string(i);
    m.decode_status = i == 2 ? DecodeStatus::kError : DecodeStatus::kOk;
    m.decode_error = i == 2 ? "boom" : "";
    if (i == 2) m.decode_errors = {"bad byte 3", "x\"y"};
    if (i == 3) m.decode_warnings = {"clamped"};
    m.dedup_key = "k" + std::to_string(i);
    b.messages.push_back(m);
    b.readings.push_back(R(m.device_id, "v", m.received_ms, 1.0 * i));
    ASSERT_TRUE(s().Append(std::move(b)).ok());
  }
  // A redelivery of message 1 (same dedup key): dropped with its readings.
  IngestBatch dup;
  dup.messages.push_back(testing::JsonMessage(7, kT0 + 9000, "again", "k1"));
  dup.readings.push_back(R(7, "v", kT0 + 9000, 99.0));
  auto done = std::make_shared<std::promise<size_t>>();
  auto shared = std::make_shared<const IngestBatch>(std::move(dup));
  s().AppendShared(shared, [done, shared](Status st) {
    EXPECT_TRUE(st.ok()) << st.message();
    done->set_value(shared->duplicates);
  });
  EXPECT_EQ(done->get_future().get(), 1u);
  auto check = [&] {
    MessageQuery q;
    q.device_id = 7;
    auto ms = s().QueryMessages(q);
    ASSERT_TRUE(ms.ok()) << ms.status().message();
    ASSERT_EQ(ms->size(), 4u);
    EXPECT_EQ(ms->at(0).received_ms, kT0 + 3000);
    EXPECT_GT(ms->at(0).id, ms->at(1).id);
    EXPECT_EQ(ms->at(0).decode_warnings, std::vector<std::string>{"clamped"});
    EXPECT_EQ(ms->at(1).decode_status, DecodeStatus::kError);
    EXPECT_EQ(ms->at(1).decode_error, "boom");
    EXPECT_EQ(ms->at(1).decode_errors, (std::vector<std::string>{"bad byte 3", "x\"y"}));
    EXPECT_EQ(ms->at(1).payload, std::string("\x00\x01\xff", 3) + "2");
    EXPECT_EQ(ms->at(1).transport, Transport::kMqtt);
    q.from = kT0 + 1000;
    q.to = kT0 + 2000;
    EXPECT_EQ(s().QueryMessages(q)->size(), 2u);
    q.from = INT64_MIN;
    q.to = INT64_MAX;
    q.limit = 1;
    EXPECT_EQ(s().QueryMessages(q)->size(), 1u);
    EXPECT_EQ(All(7).size(), 4u) << "the duplicate's reading is not stored";
  };
  check();
  Reopen();
  check();
}

// PostgreSQL writes messages with COPY's text format: every byte of a payload and the escapes
// of that format (backslash, tab, newline, carriage return) in the text fields come back as sent.
TEST_P(SeriesBackendTest, MessageBytesAndTextFieldsComeBackAsSent) {
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte += static_cast<char>(b);
  const std::string odd = "a\\b\tc\nd\re \\N \\x00 æøå \"q\"";
  IngestBatch b;
  RawMessage m = testing::JsonMessage(9, kT0, "");
  m.content_type = "text/" + odd;
  m.payload = every_byte;
  m.decode_status = DecodeStatus::kError;
  m.decode_error = odd;
  m.decode_errors = {odd};
  m.dedup_key = "key " + odd;
  b.messages.push_back(m);
  b.readings.push_back(R(9, "v", kT0, 1.0));
  ASSERT_TRUE(s().Append(std::move(b)).ok());
  // The same key again in one batch with a new one: the batch is a duplicate, nothing added.
  IngestBatch again;
  again.messages.push_back(testing::JsonMessage(9, kT0 + 1000, "x", "new key"));
  again.messages.push_back(testing::JsonMessage(9, kT0 + 2000, "y", "key " + odd));
  again.readings.push_back(R(9, "v", kT0 + 1000, 2.0));
  auto shared = std::make_shared<const IngestBatch>(std::move(again));
  auto done = std::make_shared<std::promise<size_t>>();
  s().AppendShared(shared, [done, shared](Status st) {
    EXPECT_TRUE(st.ok()) << st.message();
    done->set_value(shared->duplicates);
  });
  EXPECT_EQ(done->get_future().get(), 1u);
  MessageQuery q;
  q.device_id = 9;
  auto ms = s().QueryMessages(q);
  ASSERT_TRUE(ms.ok()) << ms.status().message();
  ASSERT_EQ(ms->size(), 2u) << "the new message of the batch is kept";
  const RawMessage& got = ms->at(1);
  EXPECT_EQ(got.payload, every_byte);
  EXPECT_EQ(got.content_type, "text/" + odd);
  EXPECT_EQ(got.decode_error, odd);
  EXPECT_EQ(got.decode_errors, std::vector<std::string>{odd});
  EXPECT_EQ(got.dedup_key, "key " + odd);
  EXPECT_EQ(ms->at(0).dedup_key, "new key");
  EXPECT_EQ(All(9).size(), 1u) << "the duplicate batch's reading is not stored";
}

// Batches appended without waiting, as the MQTT and HTTP paths do: each device's batches are
// committed in the order given (PostgreSQL commits with several writers in parallel, a device's
// batches always on the same one), so the last write of a (series, time) wins for every device,
// in the readings and in the latest values.
TEST_P(SeriesBackendTest, EachDevicesBatchesKeepTheirOrderWhenAppendedWithoutWaiting) {
  constexpr int kDevices = 25, kRounds = 40;
  std::mutex mu;
  std::condition_variable cv;
  int left = kDevices * kRounds;
  for (int round = 0; round < kRounds; ++round)
    for (Id d = 1; d <= kDevices; ++d) {
      IngestBatch b;
      b.messages.push_back(testing::JsonMessage(d, kT0 + round, "m"));
      b.readings.push_back(R(d, "v", kT0, static_cast<double>(round)));
      s().AppendAsync(std::move(b), [&](Status st) {
        EXPECT_TRUE(st.ok()) << st.message();
        std::lock_guard lk(mu);
        if (--left == 0) cv.notify_all();
      });
    }
  {
    std::unique_lock lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(60), [&] { return left == 0; }));
  }
  std::vector<Id> devices;
  for (Id d = 1; d <= kDevices; ++d) {
    devices.push_back(d);
    auto rs = All(d);
    ASSERT_EQ(rs.size(), 1u) << "device " << d;
    EXPECT_EQ(std::get<double>(rs[0].value), kRounds - 1) << "device " << d;
  }
  auto latest = s().Latest(devices);
  ASSERT_TRUE(latest.ok()) << latest.status().message();
  ASSERT_EQ(latest->size(), static_cast<size_t>(kDevices));
  for (const Reading& r : *latest) EXPECT_EQ(std::get<double>(r.value), kRounds - 1);
}

// A batch with a reading no store keeps (no key, a time outside ReadingTimeInRange, text that is
// not UTF-8 or holds U+0000) is refused alone, with the reason; the batches appended around it,
// which the store may commit in the same group, are stored. (PostgreSQL refuses such text in a
// COPY, which failed every batch of the group.)
TEST_P(SeriesBackendTest, ABatchWithAReadingNoStoreKeepsIsRefusedAlone) {
  std::mutex mu;
  std::condition_variable cv;
  std::map<int, Status> done;
  const std::vector<std::pair<std::string, TimeMs>> readings = {{"v", kT0},
                                                                {"v", kReadingTimeLimitMs + 1},
                                                                {"v", kT0 + 1},
                                                                {"", kT0 + 2},
                                                                {"v", -kReadingTimeLimitMs - 1},
                                                                {"v", kReadingTimeLimitMs},
                                                                {"v\xff", kT0 + 3},
                                                                {"v", kT0 + 4},
                                                                {"v", kT0 + 5}};
  for (size_t i = 0; i < readings.size(); ++i) {
    IngestBatch b;
    b.messages.push_back(testing::JsonMessage(1, kT0 + int64_t(i), "m"));
    b.readings.push_back(R(1, readings[i].first, readings[i].second, double(i)));
    if (i == 7) b.readings.back().value = std::string("a\0b", 3);
    if (i == 8) b.messages.back().content_type = "text/\xC3";
    b.paced = true;  // may wait for more batches to commit with
    s().AppendAsync(std::move(b), [&, i](Status st) {
      std::lock_guard lk(mu);
      done[int(i)] = st;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lk(mu);
    ASSERT_TRUE(
        cv.wait_for(lk, std::chrono::seconds(60), [&] { return done.size() == readings.size(); }));
  }
  for (int i : {0, 2, 5}) EXPECT_TRUE(done[i].ok()) << i << ": " << done[i].message();
  for (int i : {1, 3, 4, 6, 7, 8}) {
    EXPECT_EQ(done[i].code(), Code::kInvalidArgument) << i;
    const char* why = i == 3 ? "without key" : i >= 6 ? "is not UTF-8 text" : "outside the range";
    EXPECT_NE(done[i].message().find(why), std::string::npos) << done[i].message();
  }
  EXPECT_EQ(Times(1, "v"), (std::vector<TimeMs>{kT0, kT0 + 1, kReadingTimeLimitMs}));
  EXPECT_EQ(Messages(1).size(), 3u);
}

TEST_P(SeriesBackendTest, OutOfOrderAndDuplicatesLastWriteWins) {
  Put({R(1, "v", kT0 + 3000, 3.0), R(1, "v", kT0 + 1000, 1.0)});
  Put({R(1, "v", kT0 + 3000, 30.0), R(1, "v", kT0 + 2000, 2.0)});
  Put({R(1, "v", kT0 + 1000, 10.0), R(1, "v", kT0 + 1000, 11.0)});  // twice in one batch
  auto check = [&] {
    auto rs = All(1, "v");
    ASSERT_EQ(rs.size(), 3u);
    EXPECT_EQ(std::get<double>(rs[0].value), 30.0);
    EXPECT_EQ(std::get<double>(rs[2].value), 11.0);
    AggregateQuery aq{1, "v", kT0, kT0 + kHourMs - 1, kHourMs};
    auto agg = s().Aggregate(aq);
    ASSERT_TRUE(agg.ok()) << agg.status().message();
    ASSERT_EQ(agg->size(), 1u);
    EXPECT_EQ(agg->at(0).count, 3);
    EXPECT_DOUBLE_EQ(agg->at(0).sum, 43.0);
    EXPECT_DOUBLE_EQ(agg->at(0).min, 2.0);
    EXPECT_DOUBLE_EQ(agg->at(0).max, 30.0);
  };
  check();
  Reopen();
  check();
}

struct Brute {
  std::map<TimeMs, std::pair<bool, double>> pts;  // ts → (numeric, value)
  std::vector<Bucket> Agg(TimeMs from, TimeMs to, TimeMs bucket) const {
    std::map<TimeMs, Bucket> acc;
    for (auto it = pts.lower_bound(from); it != pts.end() && it->first <= to; ++it) {
      if (!it->second.first) continue;
      TimeMs start = it->first / bucket * bucket;  // positive times only
      Bucket& b = acc[start];
      double v = it->second.second;
      b.start = start;
      b.min = b.count ? std::min(b.min, v) : v;
      b.max = b.count ? std::max(b.max, v) : v;
      b.sum += v;
      ++b.count;
    }
    std::vector<Bucket> out;
    for (auto& [s, b] : acc) out.push_back(b);
    return out;
  }
};

void ExpectSame(const std::vector<Bucket>& got, const std::vector<Bucket>& want,
                const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].start, want[i].start) << what;
    EXPECT_EQ(got[i].count, want[i].count) << what;
    EXPECT_DOUBLE_EQ(got[i].min, want[i].min) << what;
    EXPECT_DOUBLE_EQ(got[i].max, want[i].max) << what;
    EXPECT_NEAR(got[i].sum, want[i].sum, 1e-6 * (1 + std::abs(want[i].sum))) << what;
  }
}

// Late readings, duplicates (a number replaced by a text and back), text and bools, random ranges
// with partial hours at both ends: the hourly rollups must agree with a brute-force aggregate.
TEST_P(SeriesBackendTest, AggregateMatchesBruteForce) {
  std::mt19937_64 rng(42);
  Brute brute;
  std::vector<Reading> batch;
  const int n = 900;
  for (int i = 0; i < n; ++i) {
    TimeMs ts = kT0 + i * 5 * kMin + static_cast<TimeMs>(rng() % 1000);
    if (rng() % 10 == 0) ts -= static_cast<TimeMs>(rng() % (6 * kHourMs));      // late
    if (rng() % 15 == 0 && !brute.pts.empty()) ts = brute.pts.rbegin()->first;  // duplicate
    Value v = std::uniform_real_distribution<double>(-20, 40)(rng);
    bool numeric = true;
    if (rng() % 40 == 0) {
      v = std::string("text");
      numeric = false;
    } else if (rng() % 40 == 0) {
      v = true;
      numeric = false;
    }
    brute.pts[ts] = {numeric, numeric ? std::get<double>(v) : 0};
    batch.push_back(R(1, "x", ts, v));
    batch.push_back(R(2, "x", ts, 1.0));  // noise in another series
    if (batch.size() >= 1 + rng() % 60) Put(std::exchange(batch, {}));
  }
  Put(std::exchange(batch, {}));
  auto compare = [&](const std::string& phase) {
    const TimeMs buckets[] = {kHourMs, 24 * kHourMs, 10 * kMin, 2 * kHourMs};
    const TimeMs span = static_cast<TimeMs>(n) * 5 * kMin;
    for (TimeMs bucket : buckets) {
      for (int k = 0; k < 6; ++k) {
        TimeMs from = kT0 - kHourMs + static_cast<TimeMs>(rng() % static_cast<uint64_t>(span));
        TimeMs to = from + static_cast<TimeMs>(rng() % static_cast<uint64_t>(span));
        if (k == 0) {
          from = kT0 - 10 * kHourMs;
          to = kT0 + span + kHourMs;
        }
        auto got = s().Aggregate({1, "x", from, to, bucket});
        ASSERT_TRUE(got.ok()) << got.status().message();
        ExpectSame(*got, brute.Agg(from, to, bucket),
                   phase + " bucket=" + std::to_string(bucket) + " from=" + std::to_string(from));
      }
    }
    ASSERT_EQ(All(1, "x").size(), brute.pts.size()) << phase;
  };
  compare("open");
  Reopen();
  compare("reopened");
}

TEST_P(SeriesBackendTest, LatestSeriesIdsAndUnits) {
  seal_points_ = 3;  // SQLite: sealed after the first batch, the second one unsealed
  Reopen();
  Put({R(1, "a", kT0 + 10, 1.0, "m"), R(1, "b", kT0 + 10, std::string("x")),
       R(2, "a", kT0 + 5, 5.0)});
  Put({R(1, "a", kT0 + 20, 2.0, "m"), R(1, "b", kT0 + 5, std::string("older"))});
  auto check = [&](const std::string& phase) {
    auto l = s().Latest({1, 2, 99});
    ASSERT_TRUE(l.ok()) << l.status().message();
    std::map<std::pair<Id, std::string>, Reading> by;
    for (auto& r : *l) by[{r.device_id, r.key}] = r;
    ASSERT_EQ(by.size(), 3u) << phase;
    const Reading& a1 = by[{1, "a"}];
    const Reading& b1 = by[{1, "b"}];
    const Reading& a2 = by[{2, "a"}];
    EXPECT_EQ(std::get<double>(a1.value), 2.0) << phase;
    EXPECT_EQ(a1.unit, "m") << phase;
    EXPECT_EQ(std::get<std::string>(b1.value), "x") << phase;
    EXPECT_EQ(a2.ts, kT0 + 5) << phase;
    auto listed = s().ListSeries({1, 2, 99});
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(listed->size(), 3u);
    EXPECT_LT(listed->at(0).id, listed->at(1).id);
    EXPECT_LT(listed->at(1).id, listed->at(2).id);
    auto one = s().GetSeries(SeriesId(1, "a"));
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(one->unit, "m");
    ASSERT_TRUE(one->latest.has_value());
    EXPECT_EQ(one->latest->ts, kT0 + 20);
    EXPECT_EQ(s().GetSeries(987654).status().code(), Code::kNotFound);
  };
  check("open");
  const int64_t a1 = SeriesId(1, "a");
  Reopen();
  check("reopened");
  EXPECT_EQ(SeriesId(1, "a"), a1);
  // A unit set on the series, then a reading with another unit changes it again.
  ASSERT_TRUE(s().SetSeriesUnit(a1, "cm").ok());
  EXPECT_EQ(s().GetSeries(a1)->unit, "cm");
  Put({R(1, "a", kT0 + 30, 3.0, "m")});
  EXPECT_EQ(s().GetSeries(a1)->unit, "m");
  EXPECT_EQ(s().SetSeriesUnit(987654, "x").code(), Code::kNotFound);
}

// Text values with the characters COPY's text format escapes, and extreme numbers, come back
// unchanged (PostgreSQL writes new readings with COPY).
TEST_P(SeriesBackendTest, TextAndNumbersRoundTrip) {
  const std::string odd = "tab\there\nnew line\\back\\slash\r\"quote\" \\N æøå";
  Put({R(8, "t", kT0, odd), R(8, "t", kT0 + 1, std::string("\\N")),
       R(8, "t", kT0 + 2, std::string()), R(8, "n", kT0, 0.1 + 0.2),
       R(8, "n", kT0 + 1, -1.7976931348623157e308), R(8, "n", kT0 + 2, 4.9e-324),
       R(8, "b", kT0, true)});
  auto check = [&] {
    auto t = All(8, "t");
    ASSERT_EQ(t.size(), 3u);
    EXPECT_EQ(std::get<std::string>(t[2].value), odd);
    EXPECT_EQ(std::get<std::string>(t[1].value), "\\N");
    EXPECT_EQ(std::get<std::string>(t[0].value), "");
    auto n = All(8, "n");
    ASSERT_EQ(n.size(), 3u);
    EXPECT_EQ(std::get<double>(n[2].value), 0.1 + 0.2);
    EXPECT_EQ(std::get<double>(n[1].value), -1.7976931348623157e308);
    EXPECT_EQ(std::get<double>(n[0].value), 4.9e-324);
    auto b = All(8, "b");
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(std::get<bool>(b[0].value), true);
  };
  check();
  Reopen();
  check();
}

// Latest of a dense list of device ids (read as one index range on PostgreSQL) and of a sparse one
// (one lookup per device) give the readings of exactly the listed devices, whatever the list's
// order (the order of the result is not part of the contract: compared sorted).
TEST_P(SeriesBackendTest, LatestDenseAndSparseDeviceLists) {
  std::vector<Reading> rs;
  for (Id d = 1; d <= 40; ++d)
    for (const char* k : {"b", "a"}) rs.push_back(R(d, k, kT0 + d, static_cast<double>(d)));
  rs.push_back(R(1'000'000, "a", kT0, 7.0));
  Put(rs);
  auto keys = [](const std::vector<Reading>& l) {
    std::vector<std::pair<Id, std::string>> out;
    for (const auto& r : l) out.emplace_back(r.device_id, r.key);
    std::sort(out.begin(), out.end());
    return out;
  };
  auto dense = s().Latest({12, 10, 11, 13});  // 10..13: dense
  ASSERT_TRUE(dense.ok()) << dense.status().message();
  EXPECT_EQ(
      keys(*dense),
      (std::vector<std::pair<Id, std::string>>{
          {10, "a"}, {10, "b"}, {11, "a"}, {11, "b"}, {12, "a"}, {12, "b"}, {13, "a"}, {13, "b"}}));
  for (const auto& r : *dense)
    EXPECT_EQ(std::get<double>(r.value), static_cast<double>(r.device_id));
  auto sparse = s().Latest({1'000'000, 3});
  ASSERT_TRUE(sparse.ok()) << sparse.status().message();
  EXPECT_EQ(keys(*sparse),
            (std::vector<std::pair<Id, std::string>>{{3, "a"}, {3, "b"}, {1'000'000, "a"}}));
  std::vector<Id> every;
  for (Id d = 40; d >= 2; d -= 2) every.push_back(d);  // every other device: still dense
  auto half = s().Latest(every);
  ASSERT_TRUE(half.ok());
  ASSERT_EQ(half->size(), 40u);
  for (const auto& r : *half) EXPECT_EQ(r.device_id % 2, 0) << r.device_id;
  EXPECT_TRUE(s().Latest({})->empty());
}

TEST_P(SeriesBackendTest, CreateSeriesBeforeReadings) {
  bool created = false;
  auto made = s().CreateSeries(5, "flow", "l/s", &created);
  ASSERT_TRUE(made.ok()) << made.status().message();
  EXPECT_TRUE(created);
  EXPECT_FALSE(made->latest.has_value());
  auto again = s().CreateSeries(5, "flow", "other", &created);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(again->id, made->id);
  EXPECT_EQ(again->unit, "l/s");
  Put({R(5, "flow", kT0, 2.5)});
  EXPECT_EQ(SeriesId(5, "flow"), made->id);
  EXPECT_EQ(s().GetSeries(made->id)->latest->ts, kT0);
}

TEST_P(SeriesBackendTest, ConcurrentAppendAndQuery) {
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) {
      auto rs = All(1, "c");
      // Timestamps are unique and written in order: any snapshot is a prefix.
      for (size_t i = 0; i < rs.size(); ++i)
        ASSERT_EQ(rs[i].ts, kT0 + static_cast<TimeMs>(rs.size() - 1 - i));
    }
  });
  int pending = 0;
  std::mutex mu;
  std::condition_variable cv;
  for (int b = 0; b < 100; ++b) {
    IngestBatch batch;
    for (int j = 0; j < 37; ++j) batch.readings.push_back(R(1, "c", kT0 + b * 37 + j, 1.0 * j));
    {
      std::unique_lock lk(mu);
      ++pending;
    }
    s().AppendAsync(std::move(batch), [&, b](Status st) {
      EXPECT_TRUE(st.ok()) << st.message();
      // Called after the commit: this batch's readings are visible.
      if (b == 99 && postgres()) {
        EXPECT_EQ(All(1, "c").size(), 3700u);
      }
      std::lock_guard lk(mu);
      --pending;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return pending == 0; });
  }
  done = true;
  reader.join();
  EXPECT_EQ(All(1, "c").size(), 3700u);
}

TEST_P(SeriesBackendTest, BackPressureAnswersUnavailable) {
  max_queue_batches_ = 1;
  Reopen();
  std::mutex mu;
  std::condition_variable cv;
  WriterHold hold(s(), R(1, "k", kT0, 1.0));
  ASSERT_TRUE(hold.Held());
  int queued_ok = 0;
  IngestBatch b1;
  b1.readings.push_back(R(1, "k", kT0 + 1, 2.0));
  s().AppendAsync(std::move(b1), [&](Status st) {
    std::lock_guard lk(mu);
    queued_ok = st.ok() ? 1 : -1;
    cv.notify_all();
  });
  Status third;
  IngestBatch b2;
  b2.readings.push_back(R(1, "k", kT0 + 2, 3.0));
  s().AppendAsync(std::move(b2), [&](Status st) { third = st; });
  EXPECT_EQ(third.code(), Code::kUnavailable);
  hold.Release();
  {
    std::unique_lock lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(60), [&] { return queued_ok != 0; }));
    EXPECT_EQ(queued_ok, 1);
  }
  IngestBatch b3;
  b3.readings.push_back(R(1, "k", kT0 + 3, 4.0));
  ASSERT_TRUE(s().Append(std::move(b3)).ok());
  EXPECT_EQ(All(1).size(), 3u);
  if (pg_) pg_->Close();
  if (sqlite_) sqlite_->Close();
  IngestBatch late;
  EXPECT_EQ(s().Append(std::move(late)).code(), Code::kUnavailable);
}

// SensorThings Datastream ids are the store's series ids: listed per device, looked up by id,
// unchanged after a reopen; readings can also come oldest first.
TEST_P(SeriesBackendTest, SeriesIdsAreListedAndStableAcrossReopen) {
  Put({R(1, "temp", kT0, 21.5, "C"), R(1, "door", kT0 + 1000, true), R(2, "temp", kT0, 9.0),
       R(1, "temp", kT0 + 2000, 22.0, "C")});
  auto listed = s().ListSeries({1, 2, 99});
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->size(), 3u);
  std::map<std::pair<Id, std::string>, int64_t> ids;
  for (const SeriesRef& x : *listed) ids[{x.device_id, x.key}] = x.id;
  const int64_t temp1 = ids.at({1, "temp"});
  auto one = s().GetSeries(temp1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->device_id, 1);
  EXPECT_EQ(one->key, "temp");
  EXPECT_EQ(one->unit, "C");
  ASSERT_TRUE(one->latest.has_value());
  EXPECT_EQ(one->latest->ts, kT0 + 2000);
  EXPECT_EQ(std::get<double>(one->latest->value), 22.0);
  EXPECT_EQ(Times(1, "temp"), (std::vector<TimeMs>{kT0, kT0 + 2000}));
  Reopen();
  auto again = s().ListSeries({1, 2});
  ASSERT_TRUE(again.ok());
  std::map<std::pair<Id, std::string>, int64_t> after;
  for (const SeriesRef& x : *again) after[{x.device_id, x.key}] = x.id;
  EXPECT_EQ(after, ids);
  EXPECT_EQ(s().GetSeries(temp1)->latest->ts, kT0 + 2000);
}

BYSANS_ON_BOTH_BACKENDS(SeriesBackendTest);

}  // namespace
}  // namespace bysans::testing
