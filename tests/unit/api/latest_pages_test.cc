// api/latest_pages.h over a real SQLite store: latest values of many devices in pages within a
// byte budget, every (device, key) exactly once in device order and key order, a device split
// across pages, a filter, and cursors that are refused unless they name a device of the list.
#include "api/latest_pages.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "model/reading_bytes.h"
#include "unit/store/temp_store.h"

namespace bysans::testing {
namespace {

using api::LatestPage;
using bysans::LatestPosition;

class LatestPagesTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    Id org = store_->CreateOrganization({0, "o", 0, 100}).value().id;
    Id app = store_->CreateApplication({0, org, "a", "", 0}).value().id;
    IngestBatch b;
    for (int i = 0; i < 5; ++i) {
      Device d;
      d.org_id = org;
      d.app_id = app;
      d.name = "d" + std::to_string(i);
      const Id id = store_->CreateDevice(d, "hash" + std::to_string(i)).value().id;
      devices_.push_back(id);
      for (int k = 0; k < 4; ++k) {  // device 2 has none: it still counts as read
        if (i == 2) break;
        std::string text = "k" + std::to_string(k) + ":";
        text.resize(500, 'x');
        b.readings.push_back(Reading{id, "k" + std::to_string(k), 1000, text, "", Quality::kOk});
      }
    }
    ASSERT_TRUE(store_->Append(std::move(b)).ok());
    row_ = ReadingBytes(Reading{0, "k0", 0, std::string(500, 'x')});
  }

  // Every page from the start, the cursor travelling as text; the pages' (device, key) rows.
  std::vector<std::pair<Id, std::string>> AllPages(
      size_t max_bytes, int* pages, const std::function<bool(const Reading&)>& shown = nullptr) {
    std::vector<std::pair<Id, std::string>> rows;
    std::optional<LatestPosition> at;
    for (*pages = 1; *pages <= 100; ++*pages) {
      auto page = api::ReadLatestPage(*store_, devices_, at, max_bytes, shown);
      EXPECT_TRUE(page.ok()) << page.status().message();
      if (!page.ok()) break;
      size_t bytes = 0;
      for (const Reading& r : page->rows) {
        rows.emplace_back(r.device_id, r.key);
        bytes += ReadingBytes(r);
      }
      if (page->rows.size() > 1) {
        EXPECT_LE(bytes, max_bytes);
      }
      EXPECT_LE(page->first, page->end);
      if (!page->next) break;
      auto again = api::DecodeLatestCursor(api::EncodeLatestCursor(*page->next));
      EXPECT_TRUE(again.ok());
      at = again.value();
    }
    return rows;
  }

  std::vector<Id> devices_;
  size_t row_ = 0;
};

TEST_F(LatestPagesTest, PagesGiveEveryKeyOnceInDeviceAndKeyOrder) {
  std::vector<std::pair<Id, std::string>> want;
  for (int i = 0; i < 5; ++i) {
    if (i == 2) continue;
    for (int k = 0; k < 4; ++k) want.emplace_back(devices_[i], "k" + std::to_string(k));
  }
  int pages = 0;
  EXPECT_EQ(AllPages(SIZE_MAX, &pages), want);
  EXPECT_EQ(pages, 1);
  // Three rows a page: devices split across pages, each key once.
  EXPECT_EQ(AllPages(3 * row_, &pages), want);
  EXPECT_EQ(pages, 6);
  // A budget below one row still gets on, a row a page.
  EXPECT_EQ(AllPages(1, &pages), want);
  EXPECT_EQ(pages, 16);
}

TEST_F(LatestPagesTest, AFilterLeavesKeysOutAndDevicesWithoutRowsAreCounted) {
  int pages = 0;
  auto rows = AllPages(SIZE_MAX, &pages, [](const Reading& r) { return r.key == "k1"; });
  EXPECT_EQ(rows.size(), 4u);
  for (const auto& [dev, key] : rows) EXPECT_EQ(key, "k1");
  auto page = api::ReadLatestPage(*store_, devices_, std::nullopt, SIZE_MAX);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->first, 0u);
  EXPECT_EQ(page->end, devices_.size());  // device 2 has no readings and is still on the page
  // A page that ends inside device 1 covers devices 0 and 1; the next starts at device 1.
  auto cut = api::ReadLatestPage(*store_, devices_, std::nullopt, 6 * row_);
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->rows.size(), 6u);
  EXPECT_EQ(cut->end, 2u);
  ASSERT_TRUE(cut->next);
  EXPECT_EQ(cut->next->device_id, devices_[1]);
  EXPECT_EQ(cut->next->after_key, "k1");
  auto rest = api::ReadLatestPage(*store_, devices_, cut->next, SIZE_MAX);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->first, 1u);
  EXPECT_EQ(rest->rows.front().key, "k2");
}

TEST_F(LatestPagesTest, ACursorMustNameADeviceOfTheList) {
  auto other =
      api::ReadLatestPage(*store_, devices_, LatestPosition{devices_.back() + 1, ""}, SIZE_MAX);
  EXPECT_EQ(other.status().code(), Code::kInvalidArgument);
  for (const std::string& bad :
       std::vector<std::string>{"", "zz", "!!", api::EncodeLatestCursor({0, "k"})}) {
    EXPECT_FALSE(api::DecodeLatestCursor(bad).ok()) << bad;
  }
  auto back = api::DecodeLatestCursor(api::EncodeLatestCursor({42, "air.no2:x"}));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->device_id, 42);
  EXPECT_EQ(back->after_key, "air.no2:x");
}

}  // namespace
}  // namespace bysans::testing
