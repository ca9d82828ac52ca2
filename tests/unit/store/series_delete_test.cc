// SeriesStore::DeleteReadings / DeleteSeries: readings physically removed (log, chunks, memory),
// the freed bytes gone from the database file and its WAL, correct beside the writer.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using testing::StoreTest;

constexpr TimeMs kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
constexpr TimeMs kMin = 60'000;
constexpr const char* kMarker = "MARKER-7f3a9c1e-erase-me";

class SeriesDeleteTest : public StoreTest {
 protected:
  void Put(std::vector<Reading> rs) {
    IngestBatch b;
    b.readings = std::move(rs);
    Status s = store_->Append(std::move(b));
    ASSERT_TRUE(s.ok()) << s.message();
  }
  static Reading R(Id dev, std::string key, TimeMs ts, Value v) {
    return Reading{dev, std::move(key), ts, std::move(v), "", Quality::kOk};
  }
  std::vector<TimeMs> Times(Id dev, const std::string& key) {
    return testing::ReadingTimes(*store_, dev, key);
  }
  int64_t SeriesId(Id dev, const std::string& key) {
    auto list = store_->ListSeries({dev});
    EXPECT_TRUE(list.ok());
    for (const SeriesRef& s : *list)
      if (s.key == key) return s.id;
    return 0;
  }
  // Whether the marker's bytes are anywhere in the database file or its WAL.
  bool MarkerInFiles() {
    for (const std::string suffix : {"", "-wal"}) {
      std::ifstream f(dir_.path() + "/bysans.db" + suffix, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      if (bytes.find(kMarker) != std::string::npos) return true;
    }
    return false;
  }
};

TEST_F(SeriesDeleteTest, DeleteReadingsRemovesTheRangeFromChunksAndMemory) {
  seal_points_ = 50;  // several seals: chunks and the open segment both hold the series
  Reopen();
  for (int i = 0; i < 120; ++i) Put({R(1, "t", kT0 + i * kMin, double(i)), R(1, "h", kT0, 1.0)});
  const int64_t sid = SeriesId(1, "t");
  ASSERT_EQ(Times(1, "t").size(), 120u);
  // The middle (across chunks), then the newest (the latest value changes).
  ASSERT_TRUE(store_->DeleteReadings(sid, kT0 + 30 * kMin, kT0 + 79 * kMin).ok());
  ASSERT_TRUE(store_->DeleteReadings(sid, kT0 + 110 * kMin, INT64_MAX).ok());
  auto check = [&] {
    std::vector<TimeMs> want;
    for (int i = 0; i < 120; ++i)
      if (i < 30 || (i >= 80 && i < 110)) want.push_back(kT0 + i * kMin);
    EXPECT_EQ(Times(1, "t"), want);
    auto s = store_->GetSeries(sid);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(s->latest.has_value());
    EXPECT_EQ(s->latest->ts, kT0 + 109 * kMin);
    AggregateQuery a{1, "t", kT0, kT0 + 200 * kMin, 3'600'000};
    auto buckets = store_->Aggregate(a);
    ASSERT_TRUE(buckets.ok());
    int64_t n = 0;
    for (const Bucket& b : *buckets) n += b.count;
    EXPECT_EQ(n, 60);                     // the hour summaries were rewritten with the chunks
    EXPECT_EQ(Times(1, "h").size(), 1u);  // other series untouched
  };
  check();
  Reopen();
  check();
  // Readings after the deletion go in as usual.
  Put({R(1, "t", kT0 + 50 * kMin, 5.0)});
  EXPECT_EQ(Times(1, "t").size(), 61u);
  EXPECT_EQ(store_->DeleteReadings(999, 0, 1).code(), Code::kNotFound);
}

TEST_F(SeriesDeleteTest, DeleteSeriesRemovesItAndNeverReusesItsId) {
  seal_points_ = 20;
  Reopen();
  for (int i = 0; i < 50; ++i) Put({R(2, "k", kT0, 1.0), R(2, "t", kT0 + i * kMin, double(i))});
  const int64_t sid = SeriesId(2, "t");
  const int64_t other = SeriesId(2, "k");
  ASSERT_GT(sid, other);  // the newest id: reuse after a reopen would show
  ASSERT_TRUE(store_->DeleteSeries(sid).ok());
  EXPECT_EQ(store_->GetSeries(sid).status().code(), Code::kNotFound);
  EXPECT_TRUE(Times(2, "t").empty());
  EXPECT_EQ(*store_->Keys(2), std::vector<std::string>{"k"});
  EXPECT_EQ(store_->DeleteSeries(sid).code(), Code::kNotFound);
  Reopen();
  EXPECT_EQ(store_->GetSeries(sid).status().code(), Code::kNotFound);
  EXPECT_TRUE(Times(2, "t").empty());
  Put({R(2, "t", kT0, 7.0)});
  const int64_t again = SeriesId(2, "t");
  EXPECT_GT(again, sid);
  EXPECT_EQ(Times(2, "t").size(), 1u);
  EXPECT_EQ(Times(2, "k").size(), 1u);
}

// A distinctive string reading, sealed (Close) and then another unsealed: after DeleteReadings
// its bytes are in neither the database file nor the WAL.
TEST_F(SeriesDeleteTest, DeletedValuesAreGoneFromTheFiles) {
  Put({R(3, "status", kT0, std::string(kMarker) + "-sealed"), R(3, "temp", kT0, 20.0)});
  Reopen();  // Close seals the log into chunks
  Put({R(3, "status", kT0 + kMin, std::string(kMarker) + "-open")});
  ASSERT_TRUE(MarkerInFiles());  // the search can find it
  const int64_t sid = SeriesId(3, "status");
  ASSERT_TRUE(store_->DeleteReadings(sid, kT0, kT0 + kMin).ok());
  EXPECT_TRUE(Times(3, "status").empty());
  EXPECT_FALSE(MarkerInFiles());
  EXPECT_EQ(Times(3, "temp").size(), 1u);
  // DeleteSeries likewise.
  Put({R(3, "status", kT0 + 2 * kMin, std::string(kMarker) + "-again")});
  ASSERT_TRUE(MarkerInFiles());
  ASSERT_TRUE(store_->DeleteSeries(sid).ok());
  EXPECT_FALSE(MarkerInFiles());
}

// Readings of the series committed while a deletion runs: each is either deleted or kept whole,
// and what memory shows is what the database holds (the same after a reopen).
TEST_F(SeriesDeleteTest, DeletionBesideTheWriter) {
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
      if (store_->Append(std::move(b)).ok()) ++written;
    }
  });
  while (written.load() < 50) std::this_thread::yield();
  Status s = store_->DeleteReadings(sid, INT64_MIN, INT64_MAX);
  stop = true;
  writer.join();
  ASSERT_TRUE(s.ok()) << s.message();
  const std::vector<TimeMs> before = Times(4, "t");
  // Everything written before the call started is gone.
  for (TimeMs t : before) EXPECT_GE(t, kT0 + 500 + 50);
  EXPECT_EQ(Times(4, "u").size(), static_cast<size_t>(written.load()));
  Reopen();
  EXPECT_EQ(Times(4, "t"), before);
  EXPECT_EQ(Times(4, "u").size(), static_cast<size_t>(written.load()));
}

}  // namespace
}  // namespace bysans
