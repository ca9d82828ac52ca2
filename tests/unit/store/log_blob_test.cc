// The open segment's write-ahead log: one points_blob row per group commit
// (store/sqlite/log_codec.h), read back at open; rows of the older per-reading
// points_log are still recovered and emptied by the next seal.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "store/sqlite/db.h"
#include "store/sqlite/log_codec.h"
#include "store/sqlite/store_impl.h"
#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using sqlite::Db;
using sqlite::Kind;
using sqlite::Point;
using sqlite::SeriesPoints;
using testing::StoreTest;

constexpr TimeMs kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z

Point Num(TimeMs ts, double v, Quality q = Quality::kOk) {
  Point p;
  p.ts = ts;
  p.num = v;
  p.quality = q;
  return p;
}

// The writer's per-commit grouping: series in first-seen order, points in commit order, and
// nothing of one commit left in the next (slots are reused, not reallocated).
TEST(CommitPointsTest, GroupsBySeriesPerCommitAndForgetsThePreviousCommit) {
  sqlite::CommitPoints cp;
  cp.Clear();
  cp.Add(7, Num(kT0 + 2, 2));
  cp.Add(3, Num(kT0 + 1, 1));
  cp.Add(7, Num(kT0 + 1, 3));
  ASSERT_EQ(cp.points(), 3u);
  auto first = cp.groups();
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].series_id, 7);
  ASSERT_EQ(first[0].pts.size(), 2u);
  EXPECT_EQ(first[0].pts[0].num, 2);
  EXPECT_EQ(first[0].pts[1].num, 3);
  EXPECT_EQ(first[1].series_id, 3);
  ASSERT_EQ(first[1].pts.size(), 1u);

  cp.Clear();
  EXPECT_EQ(cp.points(), 0u);
  EXPECT_TRUE(cp.groups().empty());
  cp.Add(3, Num(kT0 + 5, 5));
  cp.Add(1'000, Num(kT0 + 6, 6));  // beyond every id seen so far
  auto second = cp.groups();
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0].series_id, 3);
  ASSERT_EQ(second[0].pts.size(), 1u);  // not the previous commit's point of series 3
  EXPECT_EQ(second[0].pts[0].num, 5);
  EXPECT_EQ(second[1].series_id, 1'000);
  ASSERT_EQ(second[1].pts.size(), 1u);
  EXPECT_EQ(cp.points(), 2u);
}

TEST(LogCodecTest, RoundTripsGroupsInCommitOrder) {
  Point s;
  s.ts = kT0 + 5;
  s.kind = Kind::kString;
  s.str.assign("open");
  Point b;
  b.ts = kT0 - 7;
  b.kind = Kind::kBool;
  b.num = 1;
  std::vector<SeriesPoints> in = {
      {3, {Num(kT0 + 2000, 21.5), Num(kT0 + 1000, -4.25, Quality::kSpike), Num(kT0 + 1000, 9)}},
      {1'000'000'007, {s, b}},
      {4, {}},  // empty groups are skipped
  };
  std::string blob;
  sqlite::EncodeLogBlob(in, &blob);
  std::vector<SeriesPoints> out;
  ASSERT_TRUE(sqlite::DecodeLogBlob(blob, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].series_id, 3);
  ASSERT_EQ(out[0].pts.size(), 3u);
  EXPECT_EQ(out[0].pts[1].ts, kT0 + 1000);  // order kept, not sorted
  EXPECT_EQ(out[0].pts[1].num, -4.25);
  EXPECT_EQ(out[0].pts[1].quality, Quality::kSpike);
  EXPECT_EQ(out[0].pts[2].num, 9);
  EXPECT_EQ(out[1].series_id, 1'000'000'007);
  ASSERT_EQ(out[1].pts.size(), 2u);
  EXPECT_EQ(out[1].pts[0].str.view(), "open");
  EXPECT_EQ(out[1].pts[1].kind, Kind::kBool);
  EXPECT_EQ(out[1].pts[1].ts, kT0 - 7);

  // A cut inside a group is an error; a cut between groups just holds fewer groups.
  for (size_t cut = 1; cut < blob.size(); ++cut) {
    std::vector<SeriesPoints> partial;
    bool ok = sqlite::DecodeLogBlob(std::string_view(blob).substr(0, cut), &partial).ok();
    EXPECT_TRUE(!ok || partial.size() < out.size()) << "truncated at " << cut;
  }
}

// Every double comes back bit for bit; short decimals take a few bytes instead of 8.
TEST(ChunkCodecTest, NumbersComeBackBitForBitAndShortDecimalsAreSmall) {
  const std::vector<double> values = {21.13,
                                      54.8,
                                      435,
                                      2.64,
                                      -17.5,
                                      0.1,
                                      0.0,
                                      -0.0,
                                      1.0 / 3,
                                      123456.789,
                                      9007199254740993.0,
                                      1e300,
                                      -1e-310,
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity(),
                                      std::numeric_limits<double>::quiet_NaN(),
                                      4.35e-3,
                                      999999999.999};
  std::vector<Point> pts;
  for (size_t i = 0; i < values.size(); ++i)
    pts.push_back(Num(kT0 + static_cast<TimeMs>(i), values[i]));
  std::string blob;
  sqlite::EncodeChunk(pts, &blob);
  std::vector<Point> back;
  ASSERT_TRUE(sqlite::DecodeChunk(blob, &back).ok());
  ASSERT_EQ(back.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(back[i].kind, Kind::kNumber);
    EXPECT_EQ(std::memcmp(&back[i].num, &values[i], sizeof(double)), 0) << values[i];
  }
  // A room sensor's six values: well under 8 bytes each.
  std::vector<Point> room = {Num(kT0, 21.13), Num(kT0, 54.8), Num(kT0, 435),
                             Num(kT0, 104),   Num(kT0, 2.64), Num(kT0, 1)};
  std::string small;
  sqlite::EncodeChunk(room, &small);
  EXPECT_LE(small.size(), 1 + 6 * (2 + 3) + 5u);
}

// Blobs an older version left (format 1: per series id, length, chunk) are still read.
TEST(LogCodecTest, ReadsFormatOneBlobs) {
  std::string blob, chunk;
  sqlite::EncodeChunk({Num(kT0, 7.5), Num(kT0 + 1, 1e300)}, &chunk);
  sqlite::PutVarint(42, &blob);
  sqlite::PutVarint(chunk.size(), &blob);
  blob += chunk;
  std::vector<SeriesPoints> out;
  ASSERT_TRUE(sqlite::DecodeLogBlob(blob, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].series_id, 42);
  ASSERT_EQ(out[0].pts.size(), 2u);
  EXPECT_EQ(out[0].pts[1].num, 1e300);
  EXPECT_EQ(out[0].pts[1].ts, kT0 + 1);
}

class LogBlobStoreTest : public StoreTest {
 protected:
  std::unique_ptr<Db> Raw() {
    auto db = Db::Open(dir_.path() + "/bysans.db", 2048);
    EXPECT_TRUE(db.ok()) << db.status().message();
    return db.ok() ? std::move(db).value() : nullptr;
  }
  int64_t Count(Db& db, const std::string& table) {
    auto st = db.Prepare("SELECT count(*) FROM " + table);
    EXPECT_TRUE(st.ok());
    if (!st.ok() || !(*st)->Step()) return -1;
    return (*st)->Int(0);
  }
  std::vector<Reading> All(Id dev) {
    ReadingQuery q;
    q.device_id = dev;
    q.limit = 1000;
    auto r = store_->QueryReadings(q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r.value() : std::vector<Reading>{};
  }
};

TEST_F(LogBlobStoreTest, OneLogRowPerCommitAndNoneAfterSeal) {
  IngestBatch batch;
  for (int i = 0; i < 6; ++i)
    batch.readings.push_back(Reading{5, "k" + std::to_string(i), kT0, double(i), "", {}});
  ASSERT_TRUE(store_->Append(std::move(batch)).ok());
  {
    auto db = Raw();
    ASSERT_NE(db, nullptr);
    EXPECT_EQ(Count(*db, "points_blob"), 1);
    EXPECT_EQ(Count(*db, "points_log"), 0);
  }
  Reopen();  // Close seals
  auto db = Raw();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Count(*db, "points_blob"), 0);
  EXPECT_EQ(All(5).size(), 6u);
}

// A crash image: blobs of commits that were never sealed, next to an older
// points_log row (a database written before points_blob existed).
TEST_F(LogBlobStoreTest, RecoversUnsealedLogRowsAndBlobs) {
  ASSERT_TRUE(store_->Append(IngestBatch{{}, {Reading{9, "temp", kT0, 1.0, "C", {}}}}).ok());
  store_->Close();
  store_.reset();  // sealed: series 1 = (9, temp) has one chunk
  {
    auto db = Raw();
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Exec("INSERT INTO series(id, device_id, key, unit) VALUES(2, 9, 'hum', '%');"
                         "INSERT INTO points_log(series_id, ts, kind, num, str, quality) VALUES"
                         "(1, " +
                         std::to_string(kT0 + 1000) +
                         ", 0, 2.0, NULL, 0),"
                         "(2, " +
                         std::to_string(kT0 + 1000) + ", 0, 40.0, NULL, 0);")
                    .ok());
    std::string blob;
    // Newer than the log row; the second write of kT0 + 1000 for temp wins.
    sqlite::EncodeLogBlob(
        std::vector<SeriesPoints>{{1, {Num(kT0 + 1000, 3.0), Num(kT0 + 2000, 4.0)}}}, &blob);
    auto st = db->Prepare("INSERT INTO points_blob(data) VALUES(?)");
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE((*st)->BindBlob(1, blob.data(), blob.size()).Run().ok());
  }
  Open();
  auto check = [&] {
    auto rs = All(9);
    ASSERT_EQ(rs.size(), 4u);
    EXPECT_EQ(rs[0].ts, kT0 + 2000);
    EXPECT_EQ(std::get<double>(rs[0].value), 4.0);
    EXPECT_EQ(rs[1].key, "hum");
    EXPECT_EQ(std::get<double>(rs[1].value), 40.0);
    EXPECT_EQ(rs[2].key, "temp");
    EXPECT_EQ(rs[2].ts, kT0 + 1000);
    EXPECT_EQ(std::get<double>(rs[2].value), 3.0);
    EXPECT_EQ(std::get<double>(rs[3].value), 1.0);
    auto latest = store_->Latest({9});
    ASSERT_TRUE(latest.ok());
    ASSERT_EQ(latest->size(), 2u);
  };
  check();
  Reopen();  // seals the recovered rows and empties both logs
  check();
  auto db = Raw();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Count(*db, "points_log"), 0);
  EXPECT_EQ(Count(*db, "points_blob"), 0);
}

}  // namespace
}  // namespace bysans
