// The fixture of the MetaStore behaviour tests that every backend must pass: TEST_P over the
// backend name ("sqlite": a real SQLite store in a temporary folder; "postgres": a real
// PostgreSQL 15, one server per binary and one database per test, shared_postgres.h). The one
// home of the shared MetaStore behaviour; what only one backend has stays in tests/unit/store/
// (SQLite) or meta_postgres_only_test.cc.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/postgres/pg_meta_store.h"
#include "unit/store/temp_store.h"
#include "unit/store_postgres/shared_postgres.h"

namespace bysans::testing {

class MetaBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  bool postgres() const { return GetParam() == "postgres"; }
  void SetUp() override {
    if (postgres()) {
      url_ = SharedPostgres::NewDatabase();
      ASSERT_FALSE(url_.empty());
      auto r = OpenPostgresMetaStore(url_, clock_);
      ASSERT_TRUE(r.ok()) << r.status().message();
      pg_ = std::move(r).value();
      store_ = pg_.get();
    } else {
      SqliteOptions o;
      o.path = dir_.path() + "/bysans.db";
      o.clock = &clock_;
      auto r = OpenSqliteStore(o);
      ASSERT_TRUE(r.ok()) << r.status().message();
      sqlite_ = std::move(r).value();
      store_ = sqlite_.get();
    }
  }
  void TearDown() override {
    if (sqlite_) sqlite_->Close();
  }
  // The database's name (PostgreSQL) for SharedPostgres::Get()->Query.
  std::string Database() const { return url_.substr(url_.rfind('/') + 1); }

  Organization Org(const std::string& name) {
    auto r = store_->CreateOrganization({0, name, 0});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r.value() : Organization{};
  }
  Application App(Id org, const std::string& name) {
    auto r = store_->CreateApplication({0, org, name, "d", 0});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r.value() : Application{};
  }
  Device Dev(Id app, const std::string& name, const std::string& eui = "",
             const std::string& key = "") {
    Device d;
    d.app_id = app;
    d.name = name;
    d.dev_eui = eui;
    if (!eui.empty()) d.transport = Transport::kLorawan;
    auto r = store_->CreateDevice(d, key);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r.value() : Device{};
  }
  User MakeUser(const std::string& email, bool admin = false) {
    User u;
    u.email = email;
    u.name = "n";
    u.password_hash = "h";
    u.global_admin = admin;
    auto r = store_->CreateUser(u);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r.value() : User{};
  }

  TempDir dir_;
  std::string url_;
  ManualClock clock_{1'700'000'000'000};
  std::unique_ptr<Store> sqlite_;
  std::unique_ptr<MetaStore> pg_;
  MetaStore* store_ = nullptr;
};

// Instantiates a suite derived from MetaBackendTest on both backends.
#define BYSANS_META_ON_BOTH_BACKENDS(Suite)                                          \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::Values("sqlite", "postgres"), \
                           [](const auto& info) { return info.param; })

}  // namespace bysans::testing
