// store/newest_first_pages.h over a store call played by a table: every row once, newest first,
// whatever runs of rows of one time, windows and page boundaries meet; a cursor resumes exactly
// after the rows it passed; no call holds more than a page beyond the run of rows it skips.
#include "store/newest_first_pages.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace bysans {
namespace {

// A device's readings as a store keeps them, answered like SeriesStore::QueryReadings: rows of
// [from, to] newest first (equal times by key), at most `limit`.
class Table {
 public:
  void Add(TimeMs ts, int keys) {
    for (int k = 0; k < keys; ++k) rows_.push_back(Reading{1, "k" + std::to_string(1000 + k), ts});
  }
  // In the store's order, once every row is added.
  void Sort() {
    std::sort(rows_.begin(), rows_.end(), [](const Reading& a, const Reading& b) {
      return a.ts != b.ts ? a.ts > b.ts : a.key < b.key;
    });
  }
  NewestFirstPages<Reading>::Read Reader() {
    return [this](TimeMs from, TimeMs to, int64_t limit) -> Result<std::vector<Reading>> {
      std::vector<Reading> out;
      for (const Reading& r : rows_) {
        if (r.ts < from || r.ts > to) continue;
        if (static_cast<int64_t>(out.size()) == limit) break;
        out.push_back(r);
      }
      ++calls_;
      largest_answer_ = std::max(largest_answer_, out.size());
      return out;
    };
  }
  const std::vector<Reading>& rows() const { return rows_; }
  int calls() const { return calls_; }
  size_t largest_answer() const { return largest_answer_; }

 private:
  std::vector<Reading> rows_;
  int calls_ = 0;
  size_t largest_answer_ = 0;
};

std::vector<Reading> ReadAll(NewestFirstPages<Reading>& pages) {
  std::vector<Reading> out;
  for (;;) {
    auto rows = pages.Next();
    EXPECT_TRUE(rows.ok()) << rows.status().message();
    if (!rows.ok() || rows->empty()) return out;
    out.insert(out.end(), rows->begin(), rows->end());
  }
}

void ExpectSameRows(const std::vector<Reading>& got, const std::vector<Reading>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].ts, want[i].ts) << "row " << i;
    EXPECT_EQ(got[i].key, want[i].key) << "row " << i;
  }
}

constexpr TimeMs kDay = 86'400'000;
constexpr size_t kPage = static_cast<size_t>(kStorePageRows);

// Sparse and dense stretches, and runs of one time longer than a page.
Table MixedTable() {
  Table t;
  for (int i = 0; i < 50; ++i) t.Add(i * kDay, 1);          // a day apart
  for (int i = 0; i < 3000; ++i) t.Add(100 * kDay + i, 3);  // 3 keys a millisecond
  t.Add(200 * kDay, 2 * static_cast<int>(kPage) + 5);
  t.Add(200 * kDay + 1, 1);
  t.Sort();
  return t;
}

TEST(NewestFirstPagesTest, GivesEveryRowOnceNewestFirstInWindowsOrNot) {
  for (std::optional<TimeMs> window : {std::optional<TimeMs>(3'600'000), std::optional<TimeMs>()}) {
    Table t = MixedTable();
    NewestFirstPages<Reading> pages(t.Reader(), -kReadingTimeLimitMs, {INT64_MAX, 0}, window);
    ExpectSameRows(ReadAll(pages), t.rows());
  }
}

TEST(NewestFirstPagesTest, ACursorResumesRightAfterTheRowsItPassed) {
  Table t = MixedTable();
  const std::vector<Reading>& all = t.rows();
  // Cut after every row of a stretch holding runs of one time of 1, 3 and 133 rows.
  for (size_t cut = 0; cut < 300; ++cut) {
    NewestFirstCursor at;
    for (size_t i = 0; i < cut; ++i) at.Pass(all[i].ts);
    NewestFirstPages<Reading> pages(t.Reader(), -kReadingTimeLimitMs, at, 3'600'000);
    std::vector<Reading> rest(all.begin() + static_cast<std::ptrdiff_t>(cut), all.end());
    ExpectSameRows(ReadAll(pages), rest);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "resuming after " << cut << " rows";
      return;
    }
  }
}

TEST(NewestFirstPagesTest, AStartFromAndToBoundTheRows) {
  Table t = MixedTable();
  const TimeMs from = 100 * kDay + 1000, to = 100 * kDay + 1999;
  NewestFirstPages<Reading> pages(t.Reader(), from, {to, 0}, 3'600'000);
  std::vector<Reading> want;
  for (const Reading& r : t.rows())
    if (r.ts >= from && r.ts <= to) want.push_back(r);
  ExpectSameRows(ReadAll(pages), want);
}

TEST(NewestFirstPagesTest, NoCallHoldsMoreThanThePageAndTheRunItSkips) {
  Table t = MixedTable();
  // A skip far beyond the run at `to` (three rows) reads that run, not a skip's worth of rows;
  // the other calls hold at most a page and the rows they skip (a page at most).
  NewestFirstPages<Reading> pages(t.Reader(), -kReadingTimeLimitMs, {100 * kDay, 100'000},
                                  3'600'000);
  ReadAll(pages);
  EXPECT_LE(t.largest_answer(), 2 * kPage);
  EXPECT_GT(t.calls(), 1);
}

TEST(NewestFirstCursorTest, CountsRowsOfOneTime) {
  NewestFirstCursor c;
  c.Pass(10);
  c.Pass(10);
  EXPECT_EQ(c.to, 10);
  EXPECT_EQ(c.skip, 2);
  c.Pass(7);
  EXPECT_EQ(c.to, 7);
  EXPECT_EQ(c.skip, 1);
}

}  // namespace
}  // namespace bysans
