// The fixture of the DecoderStore and RuleStore behaviour tests that every backend must pass:
// TEST_P over the backend name ("sqlite": a real SQLite store in a temporary folder; "postgres": a
// real PostgreSQL 15, one server per binary and one database per test, shared_postgres.h, with
// the SeriesStore beside the two stores for the raw messages they page and re-decode). The one
// home of the shared behaviour; what only one backend has stays in tests/unit/store/ (SQLite) or
// rules_postgres_only_test.cc.
//
// There is no MetaStore on PostgreSQL in this branch yet: organisations, applications and devices
// are inserted by SQL there (NewOrg/NewApp/NewDevice), through the MetaStore on SQLite.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/decoder_store.h"
#include "store/postgres/pg_decoder_store.h"
#include "store/postgres/pool.h"
#include "store/postgres/postgres_series_store.h"
#include "store/rule_store.h"
#include "unit/store/temp_store.h"
#include "unit/store_postgres/shared_postgres.h"

namespace bysans::testing {

class RulesBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  static constexpr TimeMs kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z

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
      auto r = PostgresSeriesStore::Open(o);  // applies the migrations
      ASSERT_TRUE(r.ok()) << r.status().message();
      pg_series_ = std::move(r).value();
      pool_ = std::make_unique<pg::Pool>(url_, 4);
      pg_decoders_ = NewPostgresDecoderStore(*pool_);
      series_ = pg_series_.get();
      decoders_ = pg_decoders_.get();
    } else {
      SqliteOptions o;
      o.path = dir_.path() + "/bysans.db";
      o.clock = &clock_;
      o.group_commit_interval_us = 0;
      auto r = OpenSqliteStore(o);
      ASSERT_TRUE(r.ok()) << r.status().message();
      sqlite_ = std::move(r).value();
      series_ = sqlite_.get();
      decoders_ = &sqlite_->decoders();
    }
  }
  void CloseStore() {
    if (pg_series_) pg_series_->Close();
    if (sqlite_) sqlite_->Close();
    pg_decoders_.reset();
    pool_.reset();
    pg_series_.reset();
    sqlite_.reset();
    series_ = nullptr;
    decoders_ = nullptr;
  }
  void Reopen() {
    CloseStore();
    Open();
  }

  SeriesStore& series() { return *series_; }
  DecoderStore& decoders() { return *decoders_; }

  // The first column of the first row of `sql` on the test's PostgreSQL database.
  std::string Query(const std::string& sql) {
    auto r = SharedPostgres::Get()->Query(url_.substr(url_.rfind('/') + 1), sql);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : "";
  }
  Id NewOrg(const std::string& name = "o") {
    if (postgres())
      return std::stoll(Query("INSERT INTO organizations (name, created_ms) VALUES ('" + name +
                              "', 0) RETURNING id"));
    auto o = sqlite_->CreateOrganization({0, name, 0});
    EXPECT_TRUE(o.ok()) << o.status().message();
    return o.ok() ? o->id : 0;
  }
  Id NewApp(Id org) {
    if (postgres())
      return std::stoll(
          Query("INSERT INTO applications (org_id, name, description, created_ms) "
                "VALUES (" +
                std::to_string(org) + ", 'a', '', 0) RETURNING id"));
    auto a = sqlite_->CreateApplication({0, org, "a", "", 0});
    EXPECT_TRUE(a.ok()) << a.status().message();
    return a.ok() ? a->id : 0;
  }
  Id NewDevice(Id org, Id app) {
    if (postgres())
      return std::stoll(
          Query("INSERT INTO devices (org_id, app_id, name, transport, tags, metadata, "
                "expected_interval_s, in_maintenance, created_ms) VALUES (" +
                std::to_string(org) + ", " + std::to_string(app) +
                ", 'd', 0, '[]', '{}', 0, false, 0) RETURNING id"));
    Device d;
    d.org_id = org;
    d.app_id = app;
    d.name = "d";
    auto made = sqlite_->CreateDevice(d, "hash-" + std::to_string(++devices_));
    EXPECT_TRUE(made.ok()) << made.status().message();
    return made.ok() ? made->id : 0;
  }
  void Put(std::vector<RawMessage> ms) {
    IngestBatch b;
    b.messages = std::move(ms);
    Status st = series().Append(std::move(b));
    ASSERT_TRUE(st.ok()) << st.message();
  }

  TempDir dir_;
  std::string url_;
  ManualClock clock_{kT0};
  int devices_ = 0;
  std::unique_ptr<Store> sqlite_;
  std::unique_ptr<PostgresSeriesStore> pg_series_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<DecoderStore> pg_decoders_;
  SeriesStore* series_ = nullptr;
  DecoderStore* decoders_ = nullptr;
};

// Instantiates a suite derived from RulesBackendTest on both backends.
#define BYSANS_RULES_ON_BOTH_BACKENDS(Suite)                                         \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::Values("sqlite", "postgres"), \
                           [](const auto& info) { return info.param; })

}  // namespace bysans::testing
