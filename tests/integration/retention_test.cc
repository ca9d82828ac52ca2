// Retention through the real server (issue 18): an application's readings retention removes a
// device's old readings from the API's answers (hourly aggregates of the period still answered,
// the newest reading of each key kept, another application untouched), enforced by the
// housekeeping run at start, on both stores; and a `kill -9` in the middle of a large cleanup
// leaves a store that restarts, answers, and finishes the cleanup with the same aggregates
// (SQLite: the test watches the database file for the cleanup's first step).
#include <sqlite3.h>

#include <chrono>
#include <regex>
#include <thread>

#include "backend_fixture.h"
#include "fixture.h"

namespace bysans::testing {
namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kHourMs = 3'600'000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class RetentionTest : public ServerTest {
 protected:
  void SetRetention(int64_t app_id, int readings_days) {
    auto r = admin_->Request("PATCH", "/api/v1/applications/" + std::to_string(app_id),
                             json{{"retention", {{"readingsDays", readings_days}}}}.dump(),
                             {"Content-Type: application/json"});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // SenML packs of `records` readings of `key`, one a minute from `from` on.
  void IngestMinutes(const std::string& ingest_key, const std::string& key, int64_t from,
                     int records) {
    constexpr int kPack = 1000;  // the SenML limit per message
    for (int done = 0; done < records; done += kPack) {
      json pack = json::array();
      for (int i = done; i < std::min(records, done + kPack); ++i) {
        const int64_t t = from + int64_t{i} * 60'000;
        pack.push_back({{"n", key}, {"t", static_cast<double>(t) / 1000}, {"v", i % 50}});
      }
      auto r = Ingest(ingest_key, pack.dump(), "application/senml+json");
      ASSERT_EQ(r.status, 204) << r.body;
    }
  }
  json Readings(int64_t device, const std::string& key, int64_t from, int64_t to) {
    auto r =
        admin_->Get("/api/v1/devices/" + std::to_string(device) + "/readings?key=" + key +
                    "&limit=100000&from=" + std::to_string(from) + "&to=" + std::to_string(to));
    EXPECT_EQ(r.status, 200) << r.body;
    json items = r.Json()["items"];
    return items;
  }
  json Hourly(int64_t device, const std::string& key, int64_t from, int64_t to) {
    auto r = admin_->Get("/api/v1/devices/" + std::to_string(device) + "/readings?key=" + key +
                         "&bucket=1h&agg=count,min,max,avg&from=" + std::to_string(from) +
                         "&to=" + std::to_string(to));
    EXPECT_EQ(r.status, 200) << r.body;
    json items = r.Json()["items"];
    return items;
  }
  // A graceful restart on the same data directory (the housekeeping runs once at start).
  void Restart(bool killed = false) {
    if (!killed) server_->Terminate();
    std::string dir = server_->data_dir();
    old_servers_.push_back(std::move(server_));  // keeps the temporary directory
    StartServer(dir);
  }
  std::vector<std::unique_ptr<ServerProcess>> old_servers_;
};
using RetentionOnBothStores = OnBothStores<RetentionTest>;
BYSANS_ON_BOTH_STORES(RetentionOnBothStores);

TEST_P(RetentionOnBothStores, OldReadingsGoThroughTheApiWhileHourlyAggregatesAndTheNewestStay) {
  DeviceHandle kept = CreateHttpDevice("Retention Kommune");
  DeviceHandle pruned = CreateHttpDevice("Plejehjem");
  SetRetention(pruned.app_id, 3);
  const int64_t hour = (NowMs() / kHourMs) * kHourMs;
  const int64_t from = hour - 10 * kDayMs;
  for (const DeviceHandle* d : {&kept, &pruned}) {
    IngestMinutes(d->ingest_key, "t", from, 9 * 1440);  // days -10 .. -1
    IngestMinutes(d->ingest_key, "old", from, 60);      // only ten days ago
  }
  const int64_t end = hour - 1;
  const json hourly_before = Hourly(pruned.device_id, "t", from, end);
  ASSERT_EQ(hourly_before.size(), 9u * 24) << hourly_before.dump().substr(0, 300);
  ASSERT_EQ(Readings(pruned.device_id, "t", from, end).size(), 9u * 1440);

  Restart();
  const int64_t cut = NowMs() - 3 * kDayMs;
  ASSERT_TRUE(
      WaitFor([&] { return Readings(pruned.device_id, "t", from, cut - kHourMs).empty(); }, 60))
      << server_->log();
  // Newer readings stay; the hourly aggregates of the whole period answer as before.
  EXPECT_GE(Readings(pruned.device_id, "t", cut + kHourMs, end).size(), 1400u);
  EXPECT_EQ(Hourly(pruned.device_id, "t", from, end), hourly_before);
  // A key whose readings are all old keeps its newest.
  const json old = Readings(pruned.device_id, "old", from, end);
  ASSERT_EQ(old.size(), 1u) << old.dump();
  EXPECT_EQ(old[0]["value"], 59 % 50) << old.dump();  // the newest of the 60
  // The application without retention keeps everything.
  EXPECT_EQ(Readings(kept.device_id, "t", from, end).size(), 9u * 1440);
  EXPECT_EQ(Readings(kept.device_id, "old", from, end).size(), 60u);
  EXPECT_NE(server_->log().find("retention: removed"), std::string::npos);
}

TEST_F(RetentionTest, KillNineDuringALargeCleanupLeavesAStoreThatRestartsAndFinishes) {
  DeviceHandle d = CreateHttpDevice("Crash Kommune");
  const int64_t hour = (NowMs() / kHourMs) * kHourMs;
  // 2M readings: the cleanup takes long enough (~0.1-0.3 s) to be killed in the middle.
  const int64_t from = hour - 142 * kDayMs;
  constexpr int kKeys = 10;
  for (int k = 0; k < kKeys; ++k)
    IngestMinutes(d.ingest_key, "k" + std::to_string(k), from, 140 * 1440);
  ASSERT_FALSE(HasFatalFailure());
  const int64_t end = hour - 1;
  std::vector<json> before;
  for (int k = 0; k < kKeys; ++k)
    before.push_back(Hourly(d.device_id, "k" + std::to_string(k), from, end));
  SetRetention(d.app_id, 1);
  // Restart: the cleanup starts 5 s later; kill -9 as soon as it has visibly begun. (The first
  // server's own round may have cleaned what its seals had written so far.)
  server_->Terminate();
  std::string dir = server_->data_dir();
  old_servers_.push_back(std::move(server_));
  // The database file, read beside the server (WAL: readers never block it): each cleanup step
  // that commits adds rows to chunk_hours; the kill follows the first within a poll.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir + "/bysans.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  auto summaries = [&] {
    sqlite3_stmt* st = nullptr;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM chunk_hours", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
  };
  const int64_t summaries_before = summaries();
  const size_t log_before = old_servers_.back()->log().size();
  StartServer(dir);
  bool began = false;
  for (int i = 0; i < 300'000 && !began; ++i) {  // the first round comes 5 s after start
    began = summaries() > summaries_before;
    if (!began) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  sqlite3_close(db);
  ASSERT_TRUE(began) << "the cleanup did not start";
  server_->Kill9();
  const std::string log = server_->log();
  const std::string log_at_kill = log.substr(std::min(log_before, log.size()));
  EXPECT_FALSE(std::regex_search(log_at_kill, std::regex("retention: removed [1-9]")))
      << "the cleanup had finished before the kill; the test needs more data\n"
      << log_at_kill;
  Restart(/*killed=*/true);
  // The restarted server answers at once and finishes the cleanup.
  EXPECT_EQ(admin_->Get("/api/v1/devices/" + std::to_string(d.device_id) + "/keys").status, 200);
  const int64_t cut = NowMs() - kDayMs;
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = "k" + std::to_string(k);
    // All readings are older than the cutoff: each key keeps only its newest.
    ASSERT_TRUE(
        WaitFor([&] { return Readings(d.device_id, key, from, cut - kHourMs).size() == 1; }, 60))
        << key << server_->log();
    EXPECT_EQ(Hourly(d.device_id, key, from, end), before[static_cast<size_t>(k)]) << key;
  }
  EXPECT_EQ(Ingest(d.ingest_key, R"({"k0": 1})").status, 204);
}

}  // namespace
}  // namespace bysans::testing
