#include "store/postgres/migrations.h"

#include <gtest/gtest.h>

#include <barrier>
#include <thread>

#include "core/clock.h"
#include "store/postgres/pg_rule_feed.h"
#include "store/postgres/pool_handle.h"
#include "store/postgres/postgres_series_store.h"
#include "store/postgres/sql_text.h"
#include "unit/store_postgres/shared_postgres.h"

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

namespace bysans {
namespace {

using testing::SharedPostgres;

TEST(PostgresMigrationsTest, TwoNodesStartingAtOnceApplyEachMigrationOnce) {
  for (int round = 0; round < 3; ++round) {  // a race is a race: try it a few times
    const std::string url = SharedPostgres::NewDatabase();
    ASSERT_FALSE(url.empty());
    ManualClock clock{1'733'400'000'000};
    std::barrier start(2);
    Status st[2];
    std::unique_ptr<PostgresSeriesStore> stores[2];
    std::thread t[2];
    for (int i = 0; i < 2; ++i)
      t[i] = std::thread([&, i] {
        PostgresStoreOptions o;
        o.url = url;
        o.clock = &clock;
        start.arrive_and_wait();
        auto s = PostgresSeriesStore::Open(o);
        st[i] = s.status();
        if (s.ok()) stores[i] = std::move(s).value();
      });
    for (auto& x : t) x.join();
    ASSERT_TRUE(st[0].ok()) << st[0].message();
    ASSERT_TRUE(st[1].ok()) << st[1].message();
    const std::string db = url.substr(url.rfind('/') + 1);
    auto* pg = SharedPostgres::Get();
    const std::string n = std::to_string(pg::Migrations().size());
    EXPECT_EQ(*pg->Query(db, "SELECT count(*) FROM schema_migrations"), n);
    EXPECT_EQ(*pg->Query(db, "SELECT count(DISTINCT version) FROM schema_migrations"), n);
    EXPECT_EQ(*pg->Query(db, "SELECT max(version) FROM schema_migrations"), n);
    // The schema is intact: every table, and the partitions ahead (this month + 2), once.
    EXPECT_EQ(*pg->Query(db,
                         "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND "
                         "tablename IN ('series', 'readings', 'readings_hourly', 'raw_messages')"),
              "4");
    EXPECT_EQ(*pg->Query(db,
                         "SELECT count(*) FROM pg_inherits WHERE inhparent = "
                         "'readings'::regclass"),
              "3");
    // Both nodes write through the schema.
    IngestBatch b;
    b.readings.push_back(Reading{1, "t", 1'733'400'000'000, 1.0, "", Quality::kOk});
    ASSERT_TRUE(stores[0]->Append(b).ok());
    b.readings[0].ts += 1000;
    ASSERT_TRUE(stores[1]->Append(b).ok());
    EXPECT_EQ(*pg->Query(db, "SELECT count(*) FROM readings"), "2");
    // Opening again applies nothing.
    auto again = pg::ApplyMigrations(url);
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_EQ(*pg->Query(db, "SELECT count(*) FROM schema_migrations"), n);
  }
}

// Migration 18 moves the series' latest values into one row per device: what Latest answered
// before the upgrade it answers after, strings with separators and non-ASCII characters included
// (PostgreSQL builds the rows the C++ code reads).
TEST(PostgresMigrationsTest, LatestValuesSurviveTheMoveToOneRowPerDevice) {
  const std::string url = SharedPostgres::NewDatabase();
  ASSERT_EQ(*pg::ApplyMigrations(url, 17), 17);
  const std::string db = url.substr(url.rfind('/') + 1);
  ASSERT_TRUE(SharedPostgres::Get()
                  ->Query(db,
                          "INSERT INTO series (device_id, key, unit, latest_ts, latest_kind, "
                          "latest_num, latest_txt, latest_quality) VALUES "
                          "(7, 'temp', '°C', 1000, 0, 0.1, '', 0), "
                          "(7, 'Note', '', 900, 1, 0, E'two\\nlines: 3:x', 4), "
                          "(7, 'door', '', 800, 2, 1, '', 0), "
                          "(8, 'co2', 'ppm', 700, 0, -1e-7, '', 1), "
                          "(8, 'unused', '', NULL, NULL, NULL, NULL, NULL)")
                  .ok());
  SystemClock clock;
  PostgresStoreOptions o;
  o.url = url;
  o.clock = &clock;
  auto store = PostgresSeriesStore::Open(o);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto latest = (*store)->Latest({7, 8});
  ASSERT_TRUE(latest.ok()) << latest.status().message();
  ASSERT_EQ(latest->size(), 4u);
  const auto& l = *latest;
  EXPECT_EQ(l[0].key, "Note");  // byte order: upper case first, as before
  EXPECT_EQ(std::get<std::string>(l[0].value), "two\nlines: 3:x");
  EXPECT_EQ(l[0].quality, Quality::kLate);
  EXPECT_EQ(l[1].key, "door");
  EXPECT_EQ(std::get<bool>(l[1].value), true);
  EXPECT_EQ(l[2].key, "temp");
  EXPECT_EQ(std::get<double>(l[2].value), 0.1);
  EXPECT_EQ(l[2].unit, "°C");
  EXPECT_EQ(l[2].ts, 1000);
  EXPECT_EQ(l[3].device_id, 8);
  EXPECT_EQ(std::get<double>(l[3].value), -1e-7);
  EXPECT_EQ(l[3].quality, Quality::kOutOfRange);
  auto keys = (*store)->Keys(8);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, std::vector<std::string>{"co2"});  // "unused" has no reading
  EXPECT_EQ(*SharedPostgres::Get()->Query(
                db,
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'series' "
                "AND column_name LIKE 'latest%'"),
            "0");
  (*store)->Close();
}

// Migration 20 packs the rule feed's rows (one per partition and commit): rows written before,
// one record each, are read back unchanged afterwards.
TEST(PostgresMigrationsTest, RuleFeedRowsOfOneRecordSurviveThePacking) {
  const std::string url = SharedPostgres::NewDatabase();
  ASSERT_EQ(*pg::ApplyMigrations(url, 19), 19);
  const std::string db = url.substr(url.rfind('/') + 1);
  std::string values;
  for (Id id : {11, 12}) {
    Device d;
    d.id = id;
    d.org_id = 4;
    d.name = "måler " + std::to_string(id);
    Reading r;
    r.device_id = id;
    r.key = "co2";
    r.ts = 1000 + id;
    r.value = 400.0 + static_cast<double>(id);
    if (!values.empty()) values += ", ";
    values += "(" + std::to_string(id % 2) + ", '" +
              pg::ByteaHex(EncodeRuleFeedRecord(d, std::vector<Reading>{r})) + "'::bytea)";
  }
  ASSERT_TRUE(SharedPostgres::Get()
                  ->Query(db, "INSERT INTO rule_feed (partition, record) VALUES " + values)
                  .ok());
  ASSERT_TRUE(pg::ApplyMigrations(url).ok());
  std::shared_ptr<pg::Pool> pool = pg::NewPool(url, 1);
  auto entries = pg::NewPostgresRuleFeed(*pool)->ReadFeed(std::vector<int>{0, 1}, 10);
  ASSERT_TRUE(entries.ok()) << entries.status().message();
  ASSERT_EQ(entries->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const RuleFeedEntry& e = (*entries)[i];
    const Id id = 11 + static_cast<Id>(i);
    ASSERT_TRUE(e.device);
    EXPECT_EQ(e.device->name, "måler " + std::to_string(id));
    EXPECT_EQ(e.partition, id % 2);
    ASSERT_EQ(e.readings.size(), 1u);
    EXPECT_EQ(std::get<double>(e.readings[0].value), 400.0 + static_cast<double>(id));
  }
}

// A commit's records of one partition fill rows up to kFeedRowBytes (below PostgreSQL's TOAST
// threshold), in order; a record bigger than that gets a row of its own.
TEST(PostgresRuleFeedPackingTest, RowsStayBelowTheirSizeUnlessOneRecordIsBigger) {
  std::vector<std::string> rows;
  std::vector<std::string> records;
  for (int i = 0; i < 40; ++i)
    records.push_back(std::string(150 + i, static_cast<char>('a' + i % 26)));
  records.insert(records.begin() + 20, std::string(5000, 'Z'));
  for (const std::string& r : records) pg::AddFeedRecord(rows, r);
  std::vector<std::string> back;
  size_t over = 0;
  for (const std::string& row : rows) {
    if (row.size() > pg::kFeedRowBytes) ++over;
    auto split = pg::SplitPackedFeedRecords(row);
    ASSERT_TRUE(split.ok());
    if (row.size() > pg::kFeedRowBytes) {
      EXPECT_EQ(split->size(), 1u);
    }
    for (std::string_view r : *split) back.emplace_back(r);
  }
  EXPECT_EQ(back, records);
  EXPECT_EQ(over, 1u);
  EXPECT_GE(rows.size(), 5u);
  EXPECT_LE(rows.size(), 6u);  // 40 records of ~170 bytes: 4-5 rows, and the big one
}

// The packed form of a feed row: records of any length (none included) come back in order; a row
// cut inside a length or a record is an error, not a short read.
TEST(PostgresRuleFeedPackingTest, RecordsComeBackInOrderAndACutRowIsAnError) {
  std::string packed;
  const std::vector<std::string> records = {"first", "", std::string(70'000, '\xff'), "last"};
  for (const std::string& r : records) pg::AppendPackedFeedRecord(packed, r);
  auto split = pg::SplitPackedFeedRecords(packed);
  ASSERT_TRUE(split.ok()) << split.status().message();
  ASSERT_EQ(split->size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) EXPECT_EQ((*split)[i], records[i]);
  EXPECT_EQ(packed.substr(0, 4), std::string("\0\0\0\5", 4));  // big-endian length
  auto empty = pg::SplitPackedFeedRecords("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_FALSE(pg::SplitPackedFeedRecords(std::string_view(packed).substr(0, 2)).ok());
  EXPECT_FALSE(pg::SplitPackedFeedRecords(std::string_view(packed).substr(0, 7)).ok());
  EXPECT_FALSE(
      pg::SplitPackedFeedRecords(std::string_view(packed).substr(0, packed.size() - 1)).ok());
}

TEST(PostgresMigrationsTest, NewerSchemaIsRefused) {
  const std::string url = SharedPostgres::NewDatabase();
  ASSERT_TRUE(pg::ApplyMigrations(url).ok());
  const std::string db = url.substr(url.rfind('/') + 1);
  ASSERT_TRUE(SharedPostgres::Get()->Query(db, "INSERT INTO schema_migrations VALUES (999)").ok());
  auto r = pg::ApplyMigrations(url);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("newer than this bysans"), std::string::npos);
}

TEST(PostgresMigrationsTest, UnreachableServerIsAClearErrorWithoutThePassword) {
  auto r = pg::ApplyMigrations("postgresql://u:secret@127.0.0.1:1/x?connect_timeout=2");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(r.status().message().find("secret"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("127.0.0.1:1"), std::string::npos);
}

TEST(PostgresSqlTextTest, ArraysBytesAndMonths) {
  EXPECT_EQ(pg::IntArray({1, -2, 3}), "{1,-2,3}");
  EXPECT_EQ(pg::TextArray({"a", "b\"c\\d", ""}), "{\"a\",\"b\\\"c\\\\d\",\"\"}");
  EXPECT_EQ(pg::ByteaHex(std::string("\x00\x01\xff", 3)), "\\x0001ff");
  EXPECT_EQ(pg::FromByteaHex("\\x0001ff"), std::string("\x00\x01\xff", 3));
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte.push_back(static_cast<char>(i));
  EXPECT_EQ(pg::FromByteaHex(pg::ByteaHex(every_byte)), every_byte);
  EXPECT_EQ(pg::FromByteaHex("ABcd09"), "\xab\xcd\x09");  // upper case, no \x
  const int64_t jan2024 = 1'704'067'200'000;
  EXPECT_EQ(pg::MonthStartMs(pg::MonthOf(jan2024)), jan2024);
  EXPECT_EQ(pg::MonthStartMs(pg::MonthOf(jan2024 - 1)), jan2024 - 31LL * 86'400'000);
  EXPECT_EQ(pg::MonthStartMs(pg::MonthOf(jan2024) + 2), jan2024 + 60LL * 86'400'000);  // leap
  EXPECT_EQ(pg::PartitionName(pg::MonthOf(jan2024)), "readings_p202401");
  EXPECT_EQ(pg::MonthStartMs(pg::MonthOf(-1)), -31LL * 86'400'000);
  EXPECT_EQ(pg::FloorTo(-1, 3'600'000), -3'600'000);
  EXPECT_EQ(pg::RedactedUrl("postgresql://u:p@h:5/d"), "postgresql://h:5/d");
}

}  // namespace
}  // namespace bysans
