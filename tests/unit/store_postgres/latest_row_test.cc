// The packed latest values of a device (store/postgres/latest_row.h): what goes in comes out,
// whatever the strings hold, and a merge keeps each key's newest reading.
#include "store/postgres/latest_row.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace bysans::pg {
namespace {

LatestEntry E(std::string key, TimeMs ts, double num, std::string unit = "") {
  LatestEntry e;
  e.key = std::move(key);
  e.ts = ts;
  e.num = num;
  e.unit = std::move(unit);
  return e;
}

TEST(LatestRowTest, EveryFieldRoundTripsWhateverTheStringsHold) {
  LatestRow row;
  LatestEntry text = E("note", 5, 0, "");
  text.kind = 1;
  text.txt = "two\nlines 7:x \t °C\\";  // separators, length-like text, UTF-8, backslash
  row.push_back(E("a b:c\n", -12, 0.1 + 0.2, "µg/m³"));
  row.push_back(E("flag", 3, 1));
  row.back().kind = 2;
  row.back().quality = 4;
  row.push_back(E("huge", 4, 1.7976931348623157e308));
  row.push_back(E("inf", 4, -std::numeric_limits<double>::infinity()));
  row.push_back(std::move(text));
  row.push_back(E("tiny", 9, 1e-7));
  const std::string packed = EncodeLatestRow(row);
  auto back = DecodeLatestRow(packed);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->size(), row.size());
  for (size_t i = 0; i < row.size(); ++i) {
    EXPECT_EQ((*back)[i].key, row[i].key);
    EXPECT_EQ((*back)[i].ts, row[i].ts);
    EXPECT_EQ((*back)[i].kind, row[i].kind);
    EXPECT_EQ((*back)[i].num, row[i].num) << row[i].key;  // bit for bit, not approximately
    EXPECT_EQ((*back)[i].quality, row[i].quality);
    EXPECT_EQ((*back)[i].unit, row[i].unit);
    EXPECT_EQ((*back)[i].txt, row[i].txt);
  }
  std::vector<Reading> readings;
  ASSERT_TRUE(AppendLatestReadings(packed, 42, readings));
  ASSERT_EQ(readings.size(), row.size());
  EXPECT_EQ(readings[0].device_id, 42);
  EXPECT_EQ(readings[0].unit, "µg/m³");
  EXPECT_EQ(std::get<double>(readings[0].value), 0.1 + 0.2);
  EXPECT_EQ(std::get<bool>(readings[1].value), true);
  EXPECT_EQ(readings[1].quality, Quality::kLate);
  EXPECT_EQ(std::get<std::string>(readings[4].value), "two\nlines 7:x \t °C\\");
}

TEST(LatestRowTest, NotANumberRoundTrips) {
  LatestRow row{E("x", 1, std::nan(""))};
  auto back = DecodeLatestRow(EncodeLatestRow(row));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(std::isnan((*back)[0].num));
}

TEST(LatestRowTest, PostgresFloatTextIsRead) {
  // Migration 18 writes the stored numbers with PostgreSQL's float8 output.
  auto back = DecodeLatestRow(
      "1:a 1 0 Infinity 0 0: 0:\n1:b 1 0 -Infinity 0 0: 0:\n"
      "1:c 1 0 NaN 0 0: 0:\n1:d 1 0 1e+21 0 0: 0:\n");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ((*back)[0].num, std::numeric_limits<double>::infinity());
  EXPECT_EQ((*back)[1].num, -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan((*back)[2].num));
  EXPECT_EQ((*back)[3].num, 1e21);
}

TEST(LatestRowTest, MergeKeepsEachKeysNewestInKeyOrder) {
  LatestRow row;
  EXPECT_TRUE(MergeLatest(row, E("temp", 100, 20)));
  EXPECT_TRUE(MergeLatest(row, E("co2", 90, 400)));
  EXPECT_FALSE(MergeLatest(row, E("temp", 99, 19)));  // older: kept out
  EXPECT_TRUE(MergeLatest(row, E("temp", 100, 21)));  // same time: the last write wins
  EXPECT_TRUE(MergeLatest(row, E("hum", 80, 50)));
  ASSERT_EQ(row.size(), 3u);
  EXPECT_EQ(row[0].key, "co2");
  EXPECT_EQ(row[1].key, "hum");
  EXPECT_EQ(row[2].key, "temp");
  EXPECT_EQ(row[2].num, 21);
  ASSERT_NE(FindLatest(row, "hum"), nullptr);
  EXPECT_EQ(FindLatest(row, "nope"), nullptr);
  EXPECT_TRUE(RemoveLatest(row, "hum"));
  EXPECT_FALSE(RemoveLatest(row, "hum"));
  EXPECT_EQ(row.size(), 2u);
}

TEST(LatestRowTest, DamagedTextIsAnErrorAndAddsNothing) {
  const std::string good = EncodeLatestRow({E("a", 1, 2), E("b", 3, 4)});
  for (const std::string& bad :
       {good.substr(0, good.size() - 1), std::string("9:a 1 0 2 0 0: 0:\n"),
        std::string("1:a 1 7 2 0 0: 0:\n"), std::string("1:a x 0 2 0 0: 0:\n"),
        std::string("1:a 1 0 2 0 0: 5:ab\n")}) {
    EXPECT_FALSE(DecodeLatestRow(bad).ok()) << bad;
    std::vector<Reading> out(1);
    EXPECT_FALSE(AppendLatestReadings(bad, 1, out)) << bad;
    EXPECT_EQ(out.size(), 1u);
  }
  EXPECT_TRUE(DecodeLatestRow("").ok());
}

TEST(LatestRowTest, WhatFitsThePackedRowIsBoundedBySize) {
  LatestEntry e = E("k", 1, 0, "u");
  e.txt = std::string(kMaxPackedEntryBytes - 2, 'x');
  EXPECT_TRUE(FitsPacked(e));
  e.txt += 'x';
  EXPECT_FALSE(FitsPacked(e));
  EXPECT_FALSE(FitsPacked(E(std::string(kMaxPackedEntryBytes + 1, 'k'), 1, 0)));
}

// Readings kept apart merge into the packed ones by (device, key): a key of either only comes
// once, the newer reading wins, and the packed one when both are of the same time.
TEST(LatestRowTest, ReadingsKeptApartMergeByDeviceAndKeyNewerWins) {
  auto r = [](Id d, std::string key, TimeMs ts, double v) {
    return Reading{d, std::move(key), ts, v, "", Quality::kOk};
  };
  std::vector<Reading> packed = {r(1, "b", 10, 1), r(1, "d", 10, 2), r(3, "a", 10, 3)};
  std::vector<int> origin;
  MergeApart(
      packed,
      {r(3, "z", 1, 4), r(1, "d", 11, 5), r(1, "b", 10, 6), r(2, "a", 1, 7), r(1, "a", 1, 8)},
      &origin);
  EXPECT_EQ(origin, (std::vector<int>{4, -1, 1, 3, -1, 0}));  // where each came from
  std::vector<std::pair<Id, std::string>> keys;
  std::vector<double> values;
  for (const Reading& x : packed) {
    keys.emplace_back(x.device_id, x.key);
    values.push_back(std::get<double>(x.value));
  }
  EXPECT_EQ(keys, (std::vector<std::pair<Id, std::string>>{
                      {1, "a"}, {1, "b"}, {1, "d"}, {2, "a"}, {3, "a"}, {3, "z"}}));
  EXPECT_EQ(values, (std::vector<double>{8, 1, 5, 7, 3, 4}));
  MergeApart(packed, {});
  EXPECT_EQ(packed.size(), 6u);
}

}  // namespace
}  // namespace bysans::pg
