// The history distribution's paging (opendata/history.h) over a real SQLite store: every
// reading of the query's devices and keys exactly once, page by page, never another's.
#include "opendata/history.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "model/reading_bytes.h"
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

TEST_F(HistoryTest, ABytesBudgetEndsPagesAndTheRestFollowsOnce) {
  Device d;
  d.org_id = store_->GetDevice(devices_[0]).value().org_id;
  d.app_id = store_->GetDevice(devices_[0]).value().app_id;
  d.name = "texts";
  const Id dev = store_->CreateDevice(d, "hash-texts").value().id;
  IngestBatch b;
  for (const char* key : {"note", "status"}) {
    for (int t = 1; t <= 40; ++t) {
      std::string text = std::string(key) + std::to_string(t) + ":";
      text.resize(1000, 'x');
      b.readings.push_back(Reading{dev, key, t * 1000, text, "", Quality::kOk});
    }
  }
  ASSERT_TRUE(store_->Append(std::move(b)).ok());
  const size_t row = ReadingBytes(Reading{dev, "note", 0, std::string(1000, 'x')});

  HistoryQuery q;
  q.device_ids = {dev};
  q.from = 0;
  q.to = 100'000;
  q.limit = 10'000;
  q.max_bytes = 7 * row;  // seven note rows (status rows are two bytes longer)
  auto first = opendata::ReadHistory(*store_, q);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->rows.size(), 7u);  // note is first by key
  size_t bytes = 0;
  for (const Reading& r : first->rows) bytes += ReadingBytes(r);
  EXPECT_LE(bytes, q.max_bytes);
  ASSERT_TRUE(first->next);

  int pages = 0;
  std::vector<Reading> all = AllPages(q, &pages);
  EXPECT_EQ(all.size(), 80u);
  std::set<Row> rows = Rows(all);
  EXPECT_EQ(rows.size(), 80u) << "a reading came twice";
  EXPECT_GE(pages, 12);  // 80 rows of which at most 7 per page
  for (const Reading& r : all) {
    EXPECT_EQ(std::get<std::string>(r.value).rfind(r.key + std::to_string(r.ts / 1000) + ":", 0),
              0u);
  }

  // A budget below one row still gives one row a page, so paging gets on.
  q.max_bytes = 1;
  auto one = opendata::ReadHistory(*store_, q);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->rows.size(), 1u);
  EXPECT_TRUE(one->next);
}

TEST_F(HistoryTest, AYearOfReadingsPagesExactlyAcrossStorePages) {
  Device d = store_->GetDevice(devices_[0]).value();
  d.id = 0;
  d.name = "dense";
  const Id dev = store_->CreateDevice(d, "hash-dense").value().id;
  constexpr int kReadings = 30'000;
  constexpr TimeMs kStep = 17 * 60'000;  // about a year
  IngestBatch b;
  for (int i = 0; i < kReadings; ++i)
    b.readings.push_back(Reading{dev, "t", i * kStep, double(i), "C", Quality::kOk});
  ASSERT_TRUE(store_->Append(std::move(b)).ok());
  HistoryQuery q;
  q.device_ids = {dev};
  q.from = 0;
  q.to = kReadings * kStep;
  q.limit = 10'000;
  int pages = 0;
  std::vector<Reading> all = AllPages(q, &pages);
  ASSERT_EQ(all.size(), size_t{kReadings});
  EXPECT_EQ(pages, 3);
  for (int i = 0; i < kReadings; ++i) {  // newest first, none missing or twice
    EXPECT_EQ(all[i].ts, (kReadings - 1 - i) * kStep) << i;
    if (all[i].ts != (kReadings - 1 - i) * kStep) break;
  }
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
