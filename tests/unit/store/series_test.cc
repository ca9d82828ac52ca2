#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>

#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using testing::StoreTest;

constexpr TimeMs kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
constexpr TimeMs kMin = 60'000;
constexpr TimeMs kHourMs = 3'600'000;

Reading R(Id dev, std::string key, TimeMs ts, Value v, std::string unit = "",
          Quality q = Quality::kOk) {
  return Reading{dev, std::move(key), ts, std::move(v), std::move(unit), q};
}

class SeriesTest : public StoreTest {
 protected:
  void Put(std::vector<Reading> rs) {
    IngestBatch b;
    b.readings = std::move(rs);
    Status s = store_->Append(std::move(b));
    ASSERT_TRUE(s.ok()) << s.message();
  }
  std::vector<Reading> All(Id dev, const std::string& key = "") {
    ReadingQuery q;
    q.device_id = dev;
    q.key = key;
    q.limit = 10'000'000;
    auto r = store_->QueryReadings(q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r.value() : std::vector<Reading>{};
  }
};

TEST_F(SeriesTest, ReadingsRoundTripAllKinds) {
  Put({R(1, "temp", kT0, 21.5, "°C"), R(1, "door", kT0 + 1000, true),
       R(1, "status", kT0 + 2000, std::string("ok"), "", Quality::kStuck),
       R(1, "temp", kT0 + 3000, -3.25, "°C", Quality::kSpike), R(2, "temp", kT0, 9.0)});
  auto check = [&] {
    auto rs = All(1);
    ASSERT_EQ(rs.size(), 4u);
    EXPECT_EQ(rs[0].ts, kT0 + 3000);  // newest first
    EXPECT_EQ(std::get<double>(rs[0].value), -3.25);
    EXPECT_EQ(rs[0].unit, "°C");
    EXPECT_EQ(rs[0].quality, Quality::kSpike);
    EXPECT_EQ(std::get<std::string>(rs[1].value), "ok");
    EXPECT_EQ(rs[1].quality, Quality::kStuck);
    EXPECT_EQ(std::get<bool>(rs[2].value), true);
    EXPECT_EQ(rs[2].key, "door");
    EXPECT_EQ(rs[3].device_id, 1);

    EXPECT_EQ(All(1, "temp").size(), 2u);
    ReadingQuery q;
    q.device_id = 1;
    q.limit = 2;
    auto lim = store_->QueryReadings(q);
    ASSERT_EQ(lim->size(), 2u);
    EXPECT_EQ(lim->at(1).ts, kT0 + 2000);
    q.limit = 100;
    q.quality = Quality::kSpike;
    EXPECT_EQ(store_->QueryReadings(q)->size(), 1u);
    q.quality.reset();
    q.from = kT0 + 1000;
    q.to = kT0 + 2000;
    EXPECT_EQ(store_->QueryReadings(q)->size(), 2u);
    EXPECT_EQ(*store_->Keys(1), (std::vector<std::string>{"door", "status", "temp"}));
    auto qc = store_->CountQuality(1);
    EXPECT_EQ(qc->at(Quality::kOk), 2);
    EXPECT_EQ(qc->at(Quality::kStuck), 1);
    EXPECT_EQ(qc->at(Quality::kSpike), 1);
    EXPECT_TRUE(All(3).empty());
  };
  check();
  Reopen();  // Close seals the open segment into chunks.
  check();
}

TEST_F(SeriesTest, MessagesNewestFirstAndReopen) {
  for (int i = 0; i < 5; ++i) {
    IngestBatch b;
    RawMessage m;
    m.device_id = i < 4 ? 7 : 8;
    m.received_ms = kT0 + i * 1000;
    m.transport = Transport::kMqtt;
    m.content_type = "application/octet-stream";
    m.payload = std::string("\x00\x01\xff", 3) + std::to_string(i);
    m.decode_status = i == 2 ? DecodeStatus::kError : DecodeStatus::kOk;
    m.decode_error = i == 2 ? "boom" : "";
    b.messages.push_back(m);
    ASSERT_TRUE(store_->Append(std::move(b)).ok());
  }
  auto check = [&] {
    MessageQuery q;
    q.device_id = 7;
    auto ms = store_->QueryMessages(q);
    ASSERT_TRUE(ms.ok());
    ASSERT_EQ(ms->size(), 4u);
    EXPECT_EQ(ms->at(0).received_ms, kT0 + 3000);
    EXPECT_GT(ms->at(0).id, ms->at(1).id);
    EXPECT_EQ(ms->at(1).decode_status, DecodeStatus::kError);
    EXPECT_EQ(ms->at(1).decode_error, "boom");
    EXPECT_EQ(ms->at(1).payload, std::string("\x00\x01\xff", 3) + "2");
    EXPECT_EQ(ms->at(1).transport, Transport::kMqtt);
    q.from = kT0 + 1000;
    q.to = kT0 + 2000;
    EXPECT_EQ(store_->QueryMessages(q)->size(), 2u);
    q.from = INT64_MIN;
    q.to = INT64_MAX;
    q.limit = 1;
    EXPECT_EQ(store_->QueryMessages(q)->size(), 1u);
  };
  check();
  Reopen();
  check();
}

TEST_F(SeriesTest, OutOfOrderAndDuplicatesLastWriteWins) {
  seal_points_ = 4;
  Reopen();
  Put({R(1, "v", kT0 + 3000, 3.0), R(1, "v", kT0 + 1000, 1.0)});
  Put({R(1, "v", kT0 + 3000, 30.0), R(1, "v", kT0 + 2000, 2.0)});  // seals after this
  Put({R(1, "v", kT0 + 1000, 10.0)});                              // late duplicate, unsealed
  auto rs = All(1, "v");
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(std::get<double>(rs[0].value), 30.0);
  EXPECT_EQ(std::get<double>(rs[2].value), 10.0);
  AggregateQuery aq{1, "v", kT0, kT0 + kHourMs - 1, kHourMs};
  auto agg = store_->Aggregate(aq);
  ASSERT_EQ(agg->size(), 1u);
  EXPECT_EQ(agg->at(0).count, 3);
  EXPECT_DOUBLE_EQ(agg->at(0).sum, 42.0);
  Reopen();  // seals the late duplicate: merged into the old chunk
  rs = All(1, "v");
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(std::get<double>(rs[2].value), 10.0);
  agg = store_->Aggregate(aq);
  ASSERT_EQ(agg->size(), 1u);
  EXPECT_EQ(agg->at(0).count, 3);
  EXPECT_DOUBLE_EQ(agg->at(0).sum, 42.0);
  EXPECT_DOUBLE_EQ(agg->at(0).min, 2.0);
  EXPECT_DOUBLE_EQ(agg->at(0).max, 30.0);
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

TEST_F(SeriesTest, AggregateMatchesBruteForceSealedAndUnsealed) {
  seal_points_ = 700;
  Reopen();
  std::mt19937_64 rng(42);
  Brute brute;
  // ~3 days of 5-minute readings with jitter, some out of order, some duplicates,
  // a few strings and bools (excluded from aggregates).
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
        auto got = store_->Aggregate({1, "x", from, to, bucket});
        ASSERT_TRUE(got.ok()) << got.status().message();
        ExpectSame(*got, brute.Agg(from, to, bucket),
                   phase + " bucket=" + std::to_string(bucket) + " from=" + std::to_string(from));
      }
    }
    auto rs = All(1, "x");
    ASSERT_EQ(rs.size(), brute.pts.size()) << phase;
  };
  compare("mixed");
  Reopen();
  compare("sealed");
}

TEST_F(SeriesTest, LatestAcrossSealedAndUnsealed) {
  seal_points_ = 3;
  Reopen();
  Put({R(1, "a", kT0 + 10, 1.0, "m"), R(1, "b", kT0 + 10, std::string("x")),
       R(2, "a", kT0 + 5, 5.0)});  // sealed after this batch
  Put({R(1, "a", kT0 + 20, 2.0, "m"), R(1, "b", kT0 + 5, std::string("older"))});
  auto check = [&](const std::string& phase) {
    auto l = store_->Latest({1, 2, 99});
    ASSERT_TRUE(l.ok());
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
  };
  check("mixed");
  Reopen();
  check("reopened");
}

TEST_F(SeriesTest, BackPressureAnswersUnavailable) {
  store_->Close();
  store_.reset();
  auto o = Options();
  o.max_queue_batches = 1;
  auto r = OpenSqliteStore(o);
  ASSERT_TRUE(r.ok());
  store_ = std::move(r).value();
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  IngestBatch b0;
  b0.readings.push_back(R(1, "k", kT0, 1.0));
  // The first batch's callback holds the writer thread until released.
  store_->AppendAsync(std::move(b0), [&](Status) {
    std::unique_lock lk(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lk, [&] { return release; });
  });
  {
    std::unique_lock lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(60), [&] { return entered; }));
  }
  int queued_ok = 0;
  IngestBatch b1;
  b1.readings.push_back(R(1, "k", kT0 + 1, 2.0));
  store_->AppendAsync(std::move(b1), [&](Status s) {
    std::lock_guard lk(mu);
    queued_ok = s.ok() ? 1 : -1;
    cv.notify_all();
  });
  Status third;
  IngestBatch b2;
  b2.readings.push_back(R(1, "k", kT0 + 2, 3.0));
  store_->AppendAsync(std::move(b2), [&](Status s) { third = s; });
  EXPECT_EQ(third.code(), Code::kUnavailable);
  {
    std::lock_guard lk(mu);
    release = true;
  }
  cv.notify_all();
  {
    // The queued batch is committed once the writer is free again.
    std::unique_lock lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(60), [&] { return queued_ok != 0; }));
    EXPECT_EQ(queued_ok, 1);
  }
  IngestBatch b3;
  b3.readings.push_back(R(1, "k", kT0 + 3, 4.0));
  ASSERT_TRUE(store_->Append(std::move(b3)).ok());
  EXPECT_EQ(All(1).size(), 3u);
  store_->Close();
  IngestBatch late;
  EXPECT_EQ(store_->Append(std::move(late)).code(), Code::kUnavailable);
}

TEST_F(SeriesTest, ConcurrentAppendAndQuery) {
  seal_points_ = 500;
  Reopen();
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
    store_->AppendAsync(std::move(batch), [&](Status s) {
      EXPECT_TRUE(s.ok());
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

// SensorThings Datastream ids are the store's series ids: listed per device, looked up by id,
// unchanged after a reopen; readings can also come oldest first.
TEST_F(SeriesTest, SeriesIdsAreListedAndStableAcrossReopen) {
  Put({R(1, "temp", kT0, 21.5, "C"), R(1, "door", kT0 + 1000, true), R(2, "temp", kT0, 9.0),
       R(1, "temp", kT0 + 2000, 22.0, "C")});
  auto listed = store_->ListSeries({1, 2, 99});
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_LT(listed->at(0).id, listed->at(1).id);
  EXPECT_LT(listed->at(1).id, listed->at(2).id);
  std::map<std::pair<Id, std::string>, int64_t> ids;
  for (const SeriesRef& s : *listed) ids[{s.device_id, s.key}] = s.id;
  const int64_t temp1 = ids.at({1, "temp"});
  auto one = store_->GetSeries(temp1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->device_id, 1);
  EXPECT_EQ(one->key, "temp");
  EXPECT_EQ(one->unit, "C");
  ASSERT_TRUE(one->latest.has_value());
  EXPECT_EQ(one->latest->ts, kT0 + 2000);
  EXPECT_EQ(std::get<double>(one->latest->value), 22.0);
  EXPECT_EQ(store_->GetSeries(987654).status().code(), Code::kNotFound);

  ReadingQuery q;
  q.device_id = 1;
  q.key = "temp";
  q.limit = 1;
  q.oldest_first = true;
  auto oldest = store_->QueryReadings(q);
  ASSERT_EQ(oldest->size(), 1u);
  EXPECT_EQ(oldest->at(0).ts, kT0);

  Reopen();
  auto again = store_->ListSeries({1, 2});
  ASSERT_TRUE(again.ok());
  std::map<std::pair<Id, std::string>, int64_t> after;
  for (const SeriesRef& s : *again) after[{s.device_id, s.key}] = s.id;
  EXPECT_EQ(after, ids);
  EXPECT_EQ(store_->GetSeries(temp1)->latest->ts, kT0 + 2000);
}

}  // namespace
}  // namespace bysans
