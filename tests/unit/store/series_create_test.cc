// SeriesStore::CreateSeries / SetSeriesUnit: series before their first reading (SensorThings
// Datastreams created by POST), serialised with the writer's commits.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using testing::StoreTest;

constexpr TimeMs kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z

class SeriesCreateTest : public StoreTest {
 protected:
  Status Put(Id dev, const std::string& key, TimeMs ts, Value v, std::string unit = "") {
    IngestBatch b;
    b.readings.push_back(Reading{dev, key, ts, std::move(v), std::move(unit), Quality::kOk});
    return store_->Append(std::move(b));
  }
};

TEST_F(SeriesCreateTest, CreatesASeriesWithoutReadingsThatSurvivesAReopen) {
  bool created = false;
  auto s = store_->CreateSeries(7, "air.no2", "ug/m3", &created);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_TRUE(created);
  EXPECT_GT(s->id, 0);
  EXPECT_EQ(s->device_id, 7);
  EXPECT_EQ(s->key, "air.no2");
  EXPECT_EQ(s->unit, "ug/m3");
  EXPECT_FALSE(s->latest.has_value());
  auto keys = store_->Keys(7);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, std::vector<std::string>{"air.no2"});

  Reopen();
  auto again = store_->GetSeries(s->id);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->key, "air.no2");
  EXPECT_EQ(again->unit, "ug/m3");
  EXPECT_FALSE(again->latest.has_value());
  // Its first reading goes into it, and a new series gets a new id.
  ASSERT_TRUE(Put(7, "air.no2", kT0, 12.5).ok());
  auto list = store_->ListSeries({7});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, s->id);
  ASSERT_TRUE((*list)[0].latest.has_value());
  bool created2 = false;
  auto other = store_->CreateSeries(7, "air.o3", "", &created2);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(created2);
  EXPECT_GT(other->id, s->id);
}

TEST_F(SeriesCreateTest, ExistingSeriesIsReturnedUnchanged) {
  ASSERT_TRUE(Put(3, "temp", kT0, 20.0, "Cel").ok());
  auto first = store_->GetSeries(1);
  ASSERT_TRUE(first.ok());
  bool created = true;
  auto s = store_->CreateSeries(3, "temp", "K", &created);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(s->id, first->id);
  EXPECT_EQ(s->unit, "Cel");  // unchanged
  EXPECT_EQ(store_->CreateSeries(3, "", "", nullptr).status().code(), Code::kInvalidArgument);
}

TEST_F(SeriesCreateTest, SetSeriesUnit) {
  auto s = store_->CreateSeries(4, "level", "", nullptr);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(store_->SetSeriesUnit(s->id, "cm").ok());
  EXPECT_EQ(store_->GetSeries(s->id)->unit, "cm");
  ASSERT_TRUE(Put(4, "level", kT0, 3.0).ok());  // a reading without a unit keeps it
  EXPECT_EQ(store_->GetSeries(s->id)->unit, "cm");
  Reopen();
  EXPECT_EQ(store_->GetSeries(s->id)->unit, "cm");
  EXPECT_EQ(store_->SetSeriesUnit(999, "cm").code(), Code::kNotFound);
}

// A CreateSeries and a reading of the same (device, key) at the same moment: one series, one
// id, whichever commits first (same commit or not), and the reading is in it.
TEST_F(SeriesCreateTest, CreateRacingAReadingEndsAsOneSeries) {
  constexpr int kRounds = 200;
  for (int i = 0; i < kRounds; ++i) {
    const std::string key = "k" + std::to_string(i);
    std::atomic<int> ready{0};
    Result<SeriesRef> made = NotFound("not run");
    Status put;
    std::thread creator([&] {
      ++ready;
      while (ready.load() < 2) {
      }
      made = store_->CreateSeries(9, key, "u", nullptr);
    });
    std::thread writer([&] {
      ++ready;
      while (ready.load() < 2) {
      }
      put = Put(9, key, kT0 + i, static_cast<double>(i));
    });
    creator.join();
    writer.join();
    ASSERT_TRUE(made.ok()) << made.status().message();
    ASSERT_TRUE(put.ok()) << put.message();
    auto list = store_->ListSeries({9});
    ASSERT_TRUE(list.ok());
    int64_t matching = 0;
    for (const SeriesRef& s : *list) {
      if (s.key != key) continue;
      ++matching;
      EXPECT_EQ(s.id, made->id) << key;
      ASSERT_TRUE(s.latest.has_value()) << key;
      EXPECT_EQ(s.latest->ts, kT0 + i);
    }
    EXPECT_EQ(matching, 1) << key;
  }
  // And the same after a reopen (the database agrees with memory).
  Reopen();
  auto list = store_->ListSeries({9});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), static_cast<size_t>(kRounds));
}

}  // namespace
}  // namespace bysans
