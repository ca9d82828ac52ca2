// The history distribution's paging (opendata/history.h) over a real SQLite store: every
// reading of the query's devices and keys exactly once, page by page, never another's.
#include "opendata/history.h"

#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include "unit/store/temp_store.h"

namespace bysans::testing {
namespace {

using opendata::HistoryCursor;
using opendata::HistoryPage;
using opendata::HistoryQuery;

class HistoryTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    Id org = store_->CreateOrganization({0, "o", 0, 100}).value().id;
    Id app = store_->CreateApplication({0, org, "a", "", 0}).value().id;
    for (int i = 0; i < 3; ++i) {
      Device d;
      d.org_id = org;
      d.app_id = app;
      d.name = "d" + std::to_string(i);
      devices_.push_back(store_->CreateDevice(d, "hash" + std::to_string(i)).value().id);
    }
    IngestBatch b;
    for (Id dev : devices_) {
      for (const char* key : {"no2", "pm10"}) {
        for (int t = 1; t <= 5; ++t) {
          b.readings.push_back(Reading{dev, key, t * 1000, double(t), "ug/m3", Quality::kOk});
        }
      }
    }
    b.readings.back().quality = Quality::kSpike;
    ASSERT_TRUE(store_->Append(std::move(b)).ok());
  }

  // Every page of `q` in turn (at most 100).
  std::vector<Reading> AllPages(HistoryQuery q, int* pages = nullptr) {
    std::vector<Reading> out;
    for (int n = 1; n <= 100; ++n) {
      auto page = opendata::ReadHistory(*store_, q);
      EXPECT_TRUE(page.ok()) << page.status().message();
      if (!page.ok()) break;
      EXPECT_LE(page->rows.size(), static_cast<size_t>(q.limit));
      for (Reading& r : page->rows) out.push_back(std::move(r));
      if (pages) *pages = n;
      if (!page->next) break;
      // The cursor travels as text in the next link.
      auto again = opendata::DecodeCursor(opendata::EncodeCursor(*page->next));
      EXPECT_TRUE(again.ok());
      q.after = again.value();
    }
    return out;
  }

  std::vector<Id> devices_;
};

using Row = std::tuple<Id, std::string, TimeMs>;

std::set<Row> Rows(const std::vector<Reading>& rs) {
  std::set<Row> out;
  for (const Reading& r : rs) out.emplace(r.device_id, r.key, r.ts);
  return out;
}

TEST_F(HistoryTest, PagesCoverEveryReadingOnceInSeriesOrder) {
  HistoryQuery q;
  q.device_ids = {devices_[2], devices_[0], devices_[1]};
  q.from = 0;
  q.to = 10'000;
  q.limit = 4;
  int pages = 0;
  std::vector<Reading> all = AllPages(q, &pages);
  ASSERT_EQ(all.size(), 30u);
  EXPECT_EQ(Rows(all).size(), 30u);  // no reading twice
  EXPECT_GE(pages, 8);
  // Device by device, key by key, newest first.
  EXPECT_EQ(all[0].device_id, devices_[0]);
  EXPECT_EQ(all[0].key, "no2");
  EXPECT_EQ(all[0].ts, 5000);
  EXPECT_EQ(all[4].ts, 1000);
  EXPECT_EQ(all[5].key, "pm10");
  EXPECT_EQ(all[29].device_id, devices_[2]);
  EXPECT_EQ(all[29].unit, "ug/m3");
  EXPECT_EQ(all[25].quality, Quality::kSpike);  // the last appended reading, pm10 ts 5000
}

TEST_F(HistoryTest, TimeRangeKeysAndDevicesNarrowIt) {
  HistoryQuery q;
  q.device_ids = {devices_[1]};
  q.keys = {"pm10"};
  q.from = 2000;
  q.to = 4000;
  q.limit = 2;
  std::vector<Reading> all = AllPages(q);
  EXPECT_EQ(Rows(all), (std::set<Row>{{devices_[1], "pm10", 2000},
                                      {devices_[1], "pm10", 3000},
                                      {devices_[1], "pm10", 4000}}));
}

TEST_F(HistoryTest, AForgedCursorStaysInsideTheQuery) {
  HistoryQuery q;
  q.device_ids = {devices_[1]};
  q.keys = {"no2"};
  q.from = 0;
  q.to = 10'000;
  q.limit = 100;
  // A cursor naming another device (before and after) or key reads only device 1's no2.
  for (HistoryCursor c :
       {HistoryCursor{devices_[0], "pm10", 99'999}, HistoryCursor{devices_[0] - 1, "", 10'000},
        HistoryCursor{devices_[1], "a", 99'999}}) {
    q.after = c;
    auto page = opendata::ReadHistory(*store_, q);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->rows.size(), 5u);
    for (const Reading& r : page->rows) {
      EXPECT_EQ(r.device_id, devices_[1]);
      EXPECT_EQ(r.key, "no2");
    }
  }
  q.after = HistoryCursor{devices_[2], "", 10'000};  // past the query's devices
  auto page = opendata::ReadHistory(*store_, q);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->rows.empty());
  EXPECT_FALSE(page->next);
}

TEST_F(HistoryTest, DevicesPerPageAreBounded) {
  HistoryQuery q;
  q.device_ids = devices_;
  q.from = 0;
  q.to = 10'000;
  q.limit = 1000;
  q.max_devices = 1;
  auto page = opendata::ReadHistory(*store_, q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->rows.size(), 10u);
  ASSERT_TRUE(page->next);
  EXPECT_EQ(page->next->device_id, devices_[1]);
  int pages = 0;
  EXPECT_EQ(AllPages(q, &pages).size(), 30u);
  EXPECT_EQ(pages, 3);
}

TEST(HistoryCursorTest, RoundTripsAndRefusesGarbage) {
  HistoryCursor c{42, "air.no2:x", -5};
  std::string text = opendata::EncodeCursor(c);
  EXPECT_EQ(text.find_first_of("+/=&?"), std::string::npos) << text;
  auto back = opendata::DecodeCursor(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->device_id, 42);
  EXPECT_EQ(back->key, "air.no2:x");
  EXPECT_EQ(back->to, -5);
  for (const char* bad : {"", "!!!", "MTIz", "YTpiOmM"}) {  // "123", "a:b:c"
    EXPECT_EQ(opendata::DecodeCursor(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace bysans::testing
