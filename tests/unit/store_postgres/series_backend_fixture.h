// The fixture of the SeriesStore behaviour tests that every backend must pass: TEST_P over the
// backend name ("sqlite": a real SQLite store in a temporary folder; "postgres": a real
// PostgreSQL 15, one server per binary and one database per test, shared_postgres.h). The one
// home of the shared behaviour (series, erasure, retention); what only one backend has stays in
// tests/unit/store/ (SQLite) or postgres_only_test.cc.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/postgres/postgres_series_store.h"
#include "unit/store/temp_store.h"
#include "unit/store_postgres/shared_postgres.h"

namespace bysans::testing {

constexpr TimeMs kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
constexpr TimeMs kMin = 60'000;
constexpr TimeMs kHourMs = 3'600'000;
constexpr TimeMs kDay = 86'400'000;

inline Reading R(Id dev, std::string key, TimeMs ts, Value v, std::string unit = "",
                 Quality q = Quality::kOk) {
  return Reading{dev, std::move(key), ts, std::move(v), std::move(unit), q};
}

// Holds the writer that takes `held`'s batch inside that batch's callback, until Release() (or
// the end of its life): what is appended to the same writer meanwhile queues up behind it.
class WriterHold {
 public:
  WriterHold(SeriesStore& store, Reading held) : st_(std::make_shared<State>()) {
    IngestBatch b;
    b.readings.push_back(std::move(held));
    store.AppendAsync(std::move(b), [st = st_](Status) {
      std::unique_lock lk(st->mu);
      st->entered = true;
      st->cv.notify_all();
      st->cv.wait(lk, [&] { return st->released; });
    });
  }
  WriterHold(const WriterHold&) = delete;
  WriterHold& operator=(const WriterHold&) = delete;
  ~WriterHold() { Release(); }
  // Whether the writer is held (within 60 s).
  bool Held() {
    std::unique_lock lk(st_->mu);
    return st_->cv.wait_for(lk, std::chrono::seconds(60), [&] { return st_->entered; });
  }
  void Release() {
    std::lock_guard lk(st_->mu);
    st_->released = true;
    st_->cv.notify_all();
  }

 private:
  struct State {  // shared with the callback, which may outlive this object
    std::mutex mu;
    std::condition_variable cv;
    bool entered = false, released = false;
  };
  std::shared_ptr<State> st_;
};

class SeriesBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  bool postgres() const { return GetParam() == "postgres"; }
  void SetUp() override {
    if (postgres()) {
      url_ = SharedPostgres::NewDatabase();
      ASSERT_FALSE(url_.empty());
    }
    Open();
  }
  void TearDown() override { CloseStore(); }
  void Open() {
    if (postgres()) {
      PostgresStoreOptions o;
      o.url = url_;
      o.clock = &clock_;
      o.max_queue_batches = max_queue_batches_;
      auto r = PostgresSeriesStore::Open(o);
      ASSERT_TRUE(r.ok()) << r.status().message();
      pg_ = std::move(r).value();
      store_ = pg_.get();
    } else {
      SqliteOptions o;
      o.path = dir_.path() + "/bysans.db";
      o.clock = &clock_;
      o.seal_points = seal_points_;
      o.message_index_batch = message_index_batch_;
      o.group_commit_interval_us = 0;
      o.max_queue_batches = max_queue_batches_;
      auto r = OpenSqliteStore(o);
      ASSERT_TRUE(r.ok()) << r.status().message();
      sqlite_ = std::move(r).value();
      store_ = sqlite_.get();
    }
  }
  void CloseStore() {
    if (pg_) pg_->Close();
    if (sqlite_) sqlite_->Close();
    pg_.reset();
    sqlite_.reset();
    store_ = nullptr;
  }
  void Reopen() {
    CloseStore();
    Open();
  }
  SeriesStore& s() { return *store_; }
  void Put(std::vector<Reading> rs, std::vector<RawMessage> ms = {}) {
    IngestBatch b;
    b.readings = std::move(rs);
    b.messages = std::move(ms);
    Status st = s().Append(std::move(b));
    ASSERT_TRUE(st.ok()) << st.message();
  }
  std::vector<Reading> All(Id dev, const std::string& key = "") {
    ReadingQuery q;
    q.device_id = dev;
    q.key = key;
    q.limit = 10'000'000;
    auto r = s().QueryReadings(q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r.value() : std::vector<Reading>{};
  }
  // The times of a series' readings in [from, to], oldest first.
  std::vector<TimeMs> Times(Id dev, const std::string& key, TimeMs from = INT64_MIN,
                            TimeMs to = INT64_MAX) {
    return ReadingTimes(s(), dev, key, from, to);
  }
  std::vector<RawMessage> Messages(Id dev, TimeMs from = INT64_MIN, TimeMs to = INT64_MAX) {
    return MessagesOf(s(), dev, from, to);
  }
  int64_t SeriesId(Id dev, const std::string& key) {
    auto l = s().ListSeries({dev});
    EXPECT_TRUE(l.ok());
    for (const auto& x : *l)
      if (x.key == key) return x.id;
    return 0;
  }
  // The database's name (PostgreSQL) for SharedPostgres::Get()->Query.
  std::string Database() const { return url_.substr(url_.rfind('/') + 1); }
  // A statement's answer on the test's database (PostgreSQL), "" on an error (a test failure).
  std::string Query(const std::string& sql) {
    auto r = SharedPostgres::Get()->Query(Database(), sql);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : "";
  }

  TempDir dir_;
  std::string url_;
  ManualClock clock_{kT0};
  size_t max_queue_batches_ = 4096;
  int64_t seal_points_ = 4;           // SQLite: small chunks, sealed and unsealed readings mix
  int64_t message_index_batch_ = 64;  // SQLite: index batches written, indexed and not both occur
  std::unique_ptr<PostgresSeriesStore> pg_;
  std::unique_ptr<Store> sqlite_;
  SeriesStore* store_ = nullptr;
};

// Instantiates a suite derived from SeriesBackendTest on both backends.
#define BYSANS_ON_BOTH_BACKENDS(Suite)                                               \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::Values("sqlite", "postgres"), \
                           [](const auto& info) { return info.param; })

}  // namespace bysans::testing
