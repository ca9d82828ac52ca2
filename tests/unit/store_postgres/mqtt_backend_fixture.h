// The fixture of the MqttStore and GatewayStore behaviour tests that every backend must pass:
// TEST_P over the backend name ("sqlite": a real SQLite store in a temporary folder; "postgres":
// a real PostgreSQL 15, one server per binary and one database per test, shared_postgres.h, with
// NewPostgresMqttStore / NewPostgresGatewayStore over a pool of their own). Organisations,
// applications and devices: through the backend's MetaStore (NewPostgresMetaStore on the same
// pool).
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>

#include "core/secret_box.h"
#include "store/postgres/migrations.h"
#include "store/postgres/pg_gateway_store.h"
#include "store/postgres/pg_meta_store.h"
#include "store/postgres/pg_mqtt_store.h"
#include "store/postgres/pool_handle.h"
#include "unit/store/temp_store.h"
#include "unit/store_postgres/shared_postgres.h"

namespace bysans::testing {

// Where a gateway touch's uplink arrived (MqttStore::TouchGateway), short for the tests.
inline constexpr UplinkSource kLocal = UplinkSource::kLocalBroker;
inline constexpr UplinkSource kViaIntegration = UplinkSource::kIntegration;

class MqttBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  bool postgres() const { return GetParam() == "postgres"; }
  void SetUp() override {
    if (postgres()) {
      url_ = SharedPostgres::NewDatabase();
      ASSERT_FALSE(url_.empty());
      auto v = pg::ApplyMigrations(url_);
      ASSERT_TRUE(v.ok()) << v.status().message();
    }
    Open();
  }
  void TearDown() override { Close(); }

  void Open() {
    if (postgres()) {
      pool_ = pg::NewPool(url_, 4);
      auto box = SecretBox::Open(dir_.path() + "/secret.key");
      ASSERT_TRUE(box.ok()) << box.status().message();
      box_ = std::move(box).value();
      PostgresMqttOptions o;
      o.flush_interval_ms = flush_interval_ms_;
      pg_meta_ = NewPostgresMetaStore(*pool_, clock_);
      pg_mqtt_ = NewPostgresMqttStore(*pool_, *box_, o);
      pg_gateways_ = NewPostgresGatewayStore(*pool_, [this] { return pg_mqtt_->FlushPending(); });
    } else {
      SqliteOptions o;
      o.path = dir_.path() + "/bysans.db";
      o.clock = &clock_;
      o.group_commit_interval_us = 0;
      auto r = OpenSqliteStore(o);
      ASSERT_TRUE(r.ok()) << r.status().message();
      sqlite_ = std::move(r).value();
    }
  }
  // Pending gateway touches and routes are written here (at close, as the SQLite store does).
  void Close() {
    pg_gateways_.reset();
    pg_mqtt_.reset();
    pg_meta_.reset();
    box_.reset();
    pool_.reset();
    if (sqlite_) sqlite_->Close();
    sqlite_.reset();
  }
  void Reopen() {
    Close();
    Open();
  }

  MqttStore& m() { return postgres() ? *pg_mqtt_ : sqlite_->mqtt(); }
  GatewayStore& g() { return postgres() ? *pg_gateways_ : sqlite_->gateways(); }
  MetaStore& meta() { return postgres() ? *pg_meta_ : *sqlite_; }

  // The database's name (PostgreSQL) and one SQL command on it: the first column of the first
  // row ("" for none); fails the test on an error.
  std::string Database() const { return url_.substr(url_.rfind('/') + 1); }
  std::string Sql(const std::string& sql) {
    auto r = SharedPostgres::Get()->Query(Database(), sql);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : "";
  }

  // SQLite: the first column of the first row of `sql` as a number, read from the database file
  // past the store (0 for none).
  int64_t SqliteCount(const std::string& sql) {
    sqlite3* db = nullptr;
    int64_t n = 0;
    const std::string path = dir_.path() + "/bysans.db";
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* st = nullptr;
      EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK);
      if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
      sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
  }

  // SQLite: runs `sql` on the database file past the store (close the store first).
  void SqliteExec(const std::string& sql) {
    sqlite3* db = nullptr;
    const std::string path = dir_.path() + "/bysans.db";
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    const std::string message = error != nullptr ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
  }

  Id MakeOrg(const std::string& name) {
    auto r = meta().CreateOrganization({0, name, 0});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->id : 0;
  }
  Id MakeApp(Id org, const std::string& name) {
    auto r = meta().CreateApplication({0, org, name, "", 0});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->id : 0;
  }
  // `dev_eui` "" = none.
  Id MakeDevice(Id app, const std::string& name, const std::string& dev_eui = "",
                Transport transport = Transport::kLorawan) {
    Device d;
    d.app_id = app;
    d.name = name;
    d.dev_eui = dev_eui;
    d.transport = transport;
    auto r = meta().CreateDevice(d, "");
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->id : 0;
  }
  void DeleteDevice(Id id) { ASSERT_TRUE(meta().DeleteDevice(id).ok()); }
  void DeleteOrg(Id id) { ASSERT_TRUE(meta().DeleteOrganization(id).ok()); }
  void DeleteApp(Id id) { ASSERT_TRUE(meta().DeleteApplication(id).ok()); }

  TempDir dir_;
  std::string url_;
  ManualClock clock_{1'700'000'000'000};
  int flush_interval_ms_ = 1000;  // PostgreSQL: the MqttStore's flusher (0: none)
  std::shared_ptr<pg::Pool> pool_;
  std::unique_ptr<SecretBox> box_;
  std::unique_ptr<MetaStore> pg_meta_;
  std::unique_ptr<PostgresMqttStore> pg_mqtt_;
  std::unique_ptr<GatewayStore> pg_gateways_;
  std::unique_ptr<Store> sqlite_;
};

}  // namespace bysans::testing

// Instantiates a suite derived from MqttBackendTest on both backends.
#define BYSANS_MQTT_ON_BOTH_BACKENDS(Suite)                                          \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::Values("sqlite", "postgres"), \
                           [](const auto& info) { return info.param; })
