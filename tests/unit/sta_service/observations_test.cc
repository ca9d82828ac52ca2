#include "sta/observations.h"

#include <gtest/gtest.h>

#include "sta/entity.h"
#include "unit/store/temp_store.h"

namespace bysans::sta {
namespace {

constexpr TimeMs kT0 = 1'767'225'600'000;  // 2026-01-01
constexpr TimeMs kHour = 3'600'000;
constexpr TimeMs kDay = 24 * kHour;

class ObservationScanTest : public bysans::testing::StoreTest {
 protected:
  void SetUp() override {
    Open();
    // Sparse series: gaps far larger than the cursor's first window, and equal times across them.
    IngestBatch b;
    for (TimeMs t : {kT0, kT0 + 10 * kDay, kT0 + 400 * kDay, kT0 + 400 * kDay + 1})
      b.readings.push_back(Reading{1, "a", t, static_cast<double>(t - kT0), "", Quality::kOk});
    for (TimeMs t : {kT0 + 5 * kHour, kT0 + 10 * kDay, kT0 + 30 * kDay})
      b.readings.push_back(Reading{2, "b", t, static_cast<double>(t - kT0), "", Quality::kOk});
    ASSERT_TRUE(store_->Append(std::move(b)).ok());
    auto listed = store_->ListSeries({1, 2});
    ASSERT_TRUE(listed.ok());
    series_ = *listed;
    ASSERT_EQ(series_.size(), 2u);
  }

  // (series id, time) of every observation the scan yields, stopping after `limit`.
  std::vector<std::pair<int64_t, TimeMs>> Run(ObservationOrder order, int64_t page,
                                              TimeMs from = INT64_MIN, TimeMs to = INT64_MAX,
                                              size_t limit = 1000) {
    ObservationScan scan;
    for (const SeriesRef& s : series_) scan.series.push_back(&s);
    scan.order = order;
    scan.page = page;
    scan.from = from;
    scan.to = to;
    std::vector<std::pair<int64_t, TimeMs>> out;
    Status st = ScanObservations(*store_, scan, [&](Entity&& e) {
      EXPECT_EQ(e.set, EntitySet::kObservations);
      out.emplace_back(e.id, e.reading.ts);
      return out.size() < limit;
    });
    EXPECT_TRUE(st.ok()) << st.message();
    return out;
  }

  std::vector<SeriesRef> series_;
};

TEST_F(ObservationScanTest, ByIdIsSeriesThenTime) {
  const int64_t a = series_[0].id, b = series_[1].id;
  std::vector<std::pair<int64_t, TimeMs>> want = {{a, kT0},
                                                  {a, kT0 + 10 * kDay},
                                                  {a, kT0 + 400 * kDay},
                                                  {a, kT0 + 400 * kDay + 1},
                                                  {b, kT0 + 5 * kHour},
                                                  {b, kT0 + 10 * kDay},
                                                  {b, kT0 + 30 * kDay}};
  for (int64_t page : {1, 2, 1000}) EXPECT_EQ(Run(ObservationOrder::kById, page), want) << page;
}

TEST_F(ObservationScanTest, MergedByTimeInBothDirectionsWithAnyPageSize) {
  const int64_t a = series_[0].id, b = series_[1].id;
  std::vector<std::pair<int64_t, TimeMs>> asc = {{a, kT0},
                                                 {b, kT0 + 5 * kHour},
                                                 {a, kT0 + 10 * kDay},
                                                 {b, kT0 + 10 * kDay},
                                                 {b, kT0 + 30 * kDay},
                                                 {a, kT0 + 400 * kDay},
                                                 {a, kT0 + 400 * kDay + 1}};
  for (int64_t page : {1, 2, 3, 1000}) {
    EXPECT_EQ(Run(ObservationOrder::kTimeAsc, page), asc) << page;
    // Descending: newest first; ties (equal times) by series id, as ascending.
    auto desc = Run(ObservationOrder::kTimeDesc, page);
    ASSERT_EQ(desc.size(), asc.size()) << page;
    for (size_t i = 0; i + 1 < desc.size(); ++i) EXPECT_GE(desc[i].second, desc[i + 1].second);
    EXPECT_EQ(desc.front(), (std::pair<int64_t, TimeMs>{a, kT0 + 400 * kDay + 1}));
    EXPECT_EQ(desc.back(), (std::pair<int64_t, TimeMs>{a, kT0}));
  }
}

TEST_F(ObservationScanTest, BoundsAreInclusiveAndTheScanStopsEarly) {
  auto got = Run(ObservationOrder::kTimeAsc, 1, kT0 + 5 * kHour, kT0 + 30 * kDay);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got.front().second, kT0 + 5 * kHour);
  EXPECT_EQ(got.back().second, kT0 + 30 * kDay);
  auto desc = Run(ObservationOrder::kTimeDesc, 2, kT0 + 5 * kHour, kT0 + 30 * kDay);
  ASSERT_EQ(desc.size(), 4u);
  EXPECT_EQ(desc.front().second, kT0 + 30 * kDay);
  EXPECT_EQ(Run(ObservationOrder::kTimeDesc, 1000, INT64_MIN, INT64_MAX, 1).size(), 1u);
  EXPECT_TRUE(Run(ObservationOrder::kTimeAsc, 10, kT0 + 31 * kDay, kT0 + 399 * kDay).empty());
}

TEST(ObservationIdTest, RoundTripsAndRejectsJunk) {
  Entity e;
  e.set = EntitySet::kObservations;
  e.id = 12;
  e.reading.ts = -5;
  EXPECT_EQ(IdText(e), "12--5");
  EXPECT_EQ(IdInUrl(e), "'12--5'");
  auto key = ParseObservationId("12--5");
  ASSERT_TRUE(key);
  EXPECT_EQ(key->series_id, 12);
  EXPECT_EQ(key->ts, -5);
  for (const char* bad : {"", "12", "-12-5", "12-", "a-5", "12-5x", "12 -5"})
    EXPECT_FALSE(ParseObservationId(bad)) << bad;
  EXPECT_EQ(ParseNumericId("42"), 42);
  EXPECT_FALSE(ParseNumericId("-1"));
  EXPECT_FALSE(ParseNumericId("4 2"));
}

}  // namespace
}  // namespace bysans::sta
