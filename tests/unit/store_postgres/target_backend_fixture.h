// The fixture of the TargetStore behaviour tests that every backend must pass: TEST_P over the
// backend name ("sqlite": a real SQLite store in a temporary folder, its own targets();
// "postgres": a real PostgreSQL 15, one server per binary and one database per test
// (shared_postgres.h), with PostgresSeriesStore, the PostgreSQL MetaStore and TargetStore on that
// one database: the series writer appends the share log the TargetStore reads). The one home of
// the shared TargetStore behaviour; what only one backend has stays in
// tests/unit/store/share_log_test.cc (SQLite) or targets_postgres_only_test.cc.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/secret_box.h"
#include "store/postgres/pg_meta_store.h"
#include "store/postgres/pg_target_store.h"
#include "store/postgres/postgres_series_store.h"
#include "unit/store/temp_store.h"
#include "unit/store_postgres/shared_postgres.h"

namespace bysans::testing {

class TargetBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  bool postgres() const { return GetParam() == "postgres"; }
  void SetUp() override {
    if (postgres()) {
      url_ = SharedPostgres::NewDatabase();
      ASSERT_FALSE(url_.empty());
      auto box = SecretBox::Open("");
      ASSERT_TRUE(box.ok()) << box.status().message();
      box_ = std::move(box).value();
    }
    Open();
    auto org = meta().CreateOrganization(Organization{0, "Kommune", 1});
    ASSERT_TRUE(org.ok()) << org.status().message();
    auto app = meta().CreateApplication(Application{0, org->id, "Indeklima", "", 1});
    ASSERT_TRUE(app.ok()) << app.status().message();
    org_ = org->id;
    app_ = app->id;
  }
  void TearDown() override { CloseStore(); }
  void Open() {
    if (postgres()) {
      PostgresStoreOptions o;
      o.url = url_;
      o.clock = &clock_;
      auto series = PostgresSeriesStore::Open(o);
      ASSERT_TRUE(series.ok()) << series.status().message();
      pg_series_ = std::move(series).value();
      auto meta = OpenPostgresMetaStore(url_, clock_);
      ASSERT_TRUE(meta.ok()) << meta.status().message();
      pg_meta_ = std::move(meta).value();
      auto targets = OpenPostgresTargetStore(url_, *box_);
      ASSERT_TRUE(targets.ok()) << targets.status().message();
      pg_targets_ = std::move(targets).value();
      series_ = pg_series_.get();
      meta_ = pg_meta_.get();
      targets_ = pg_targets_.get();
    } else {
      SqliteOptions o;
      o.path = dir_.path() + "/bysans.db";
      o.clock = &clock_;
      o.group_commit_interval_us = 0;
      auto r = OpenSqliteStore(o);
      ASSERT_TRUE(r.ok()) << r.status().message();
      sqlite_ = std::move(r).value();
      series_ = sqlite_.get();
      meta_ = sqlite_.get();
      targets_ = &sqlite_->targets();
    }
  }
  void CloseStore() {
    if (pg_series_) pg_series_->Close();
    if (sqlite_) sqlite_->Close();
    pg_targets_.reset();
    pg_meta_.reset();
    pg_series_.reset();
    sqlite_.reset();
    series_ = nullptr;
    meta_ = nullptr;
    targets_ = nullptr;
  }
  void Reopen() {
    CloseStore();
    Open();
  }
  SeriesStore& series() { return *series_; }
  MetaStore& meta() { return *meta_; }
  TargetStore& ts() { return *targets_; }
  // The database's name (PostgreSQL) for SharedPostgres::Get()->Query.
  std::string Database() const { return url_.substr(url_.rfind('/') + 1); }

  // One message of device `dev` with reading n = seq, shared to `app` (this test's application
  // when 0) when `share`.
  void Commit(Id dev, int seq, bool share = true, std::string dedup = {}, Id app = 0) {
    IngestBatch b;
    RawMessage m;
    m.device_id = dev;
    m.received_ms = 1000 + seq;
    m.payload = "{}";
    m.dedup_key = std::move(dedup);
    b.messages.push_back(m);
    b.readings.push_back(Reading{dev, "n", 1000 + seq, static_cast<double>(seq), "", Quality::kOk});
    if (share) b.share_app_id = app != 0 ? app : app_;
    b.share_decoded = R"({"n":)" + std::to_string(seq) + "}";
    Status s = series().Append(std::move(b));
    ASSERT_TRUE(s.ok()) << s.message();
  }

  DataTarget NewTarget(const std::map<std::string, std::string>& headers = {{"Authorization",
                                                                             "Bearer x"}},
                       const std::optional<std::string>& password = std::nullopt) {
    DataTarget t;
    t.org_id = org_;
    t.app_id = app_;
    t.name = "t";
    t.url = "https://example.com/";
    t.created_ms = clock_.NowMs();
    auto r = ts().CreateTarget(t, headers, password);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : DataTarget{};
  }

  // Every record of the application's log after `after`.
  std::vector<ShareRecord> Log(int64_t after = 0, Id app = 0) {
    auto r = ts().ReadShareLog(app != 0 ? app : app_, after, 100'000);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : std::vector<ShareRecord>{};
  }

  TempDir dir_;
  std::string url_;
  ManualClock clock_{1'700'000'000'000};
  std::unique_ptr<SecretBox> box_;
  std::unique_ptr<Store> sqlite_;
  std::unique_ptr<PostgresSeriesStore> pg_series_;
  std::unique_ptr<MetaStore> pg_meta_;
  std::unique_ptr<TargetStore> pg_targets_;
  SeriesStore* series_ = nullptr;
  MetaStore* meta_ = nullptr;
  TargetStore* targets_ = nullptr;
  Id org_ = 0, app_ = 0;
};

// Instantiates a suite derived from TargetBackendTest on both backends.
#define BYSANS_TARGETS_ON_BOTH_BACKENDS(Suite)                                       \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::Values("sqlite", "postgres"), \
                           [](const auto& info) { return info.param; })

}  // namespace bysans::testing
