// The fixture of tests that need a whole Store (store.h) on each backend: TEST_P over "sqlite" (a
// real SQLite store in a temporary folder) and "postgres" (OpenPostgresStore on a fresh database of
// one real PostgreSQL 15 per binary, shared_postgres.h). Reopen() closes the store and opens it
// again on the same files or database, as a restarted server does.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/postgres/postgres_store.h"
#include "unit/store/temp_store.h"
#include "unit/store_postgres/shared_postgres.h"

namespace bysans::testing {

class StoreBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  bool postgres() const { return GetParam() == "postgres"; }
  void SetUp() override {
    if (postgres()) {
      url_ = SharedPostgres::NewDatabase();
      ASSERT_FALSE(url_.empty());
    }
    Open();
  }
  void TearDown() override {
    if (store_) store_->Close();
  }
  void Open() {
    Result<std::unique_ptr<Store>> r = Status::Ok();
    if (postgres()) {
      PostgresStoreOptions o;
      o.url = url_;
      o.clock = &clock_;
      r = OpenPostgresStore(o, dir_.path() + "/secret.key");
    } else {
      SqliteOptions o;
      o.path = dir_.path() + "/bysans.db";
      o.clock = &clock_;
      o.group_commit_interval_us = 0;
      r = OpenSqliteStore(o);
    }
    ASSERT_TRUE(r.ok()) << r.status().message();
    store_ = std::move(r).value();
  }
  void Reopen() {
    store_->Close();
    store_.reset();
    Open();
  }

  TempDir dir_;
  std::string url_;
  ManualClock clock_{1'700'000'000'000};
  std::unique_ptr<Store> store_;
};

#define BYSANS_STORE_ON_BOTH_BACKENDS(Suite)                                         \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::Values("sqlite", "postgres"), \
                           [](const auto& info) { return info.param; })

}  // namespace bysans::testing
