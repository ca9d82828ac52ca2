// The fixture of the DecoderStore and RuleStore behaviour tests that every backend must pass:
// TEST_P over the backend name like series_backend_fixture.h ("sqlite": a real SQLite store in a
// temporary folder; "postgres": a real PostgreSQL 15, one server per binary and one database per
// test, with the SeriesStore beside the two stores for the raw messages they page and re-decode).
// Instantiate with BYSANS_ON_BOTH_BACKENDS. The one home of the shared behaviour; what only one
// backend has stays in tests/unit/store/ (SQLite) or rules_postgres_only_test.cc.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/decoder_store.h"
#include "store/postgres/pg_decoder_store.h"
#include "store/postgres/pg_meta_store.h"
#include "store/postgres/pg_rule_store.h"
#include "store/postgres/pool.h"
#include "store/rule_store.h"
#include "unit/store_postgres/series_backend_fixture.h"

namespace bysans::testing {

// SeriesBackendTest's stores (s(): the SeriesStore, for the raw messages) plus the MetaStore, the
// DecoderStore and the RuleStore: on PostgreSQL on a pool of their own over the same database.
class RulesBackendTest : public SeriesBackendTest {
 protected:
  void SetUp() override {
    SeriesBackendTest::SetUp();
    if (!HasFatalFailure()) OpenRules();
  }
  void TearDown() override {
    CloseRules();
    SeriesBackendTest::TearDown();
  }
  void Reopen() {
    CloseRules();
    SeriesBackendTest::Reopen();
    OpenRules();
  }
  void OpenRules() {
    if (postgres()) {
      pool_ = std::make_unique<pg::Pool>(url_, 4);
      pg_meta_ = NewPostgresMetaStore(*pool_, clock_);
      pg_decoders_ = NewPostgresDecoderStore(*pool_);
      pg_rules_ = NewPostgresRuleStore(*pool_);
      decoders_ = pg_decoders_.get();
      rules_ = pg_rules_.get();
    } else {
      decoders_ = &sqlite_->decoders();
      rules_ = &sqlite_->rules();
    }
  }
  void CloseRules() {
    decoders_ = nullptr;
    rules_ = nullptr;
    pg_decoders_.reset();
    pg_rules_.reset();
    pg_meta_.reset();
    pool_.reset();
  }

  DecoderStore& decoders() { return *decoders_; }
  RuleStore& rules() { return *rules_; }

  // The first column of the first row of `sql` on the test's PostgreSQL database.
  std::string Query(const std::string& sql) {
    auto r = SharedPostgres::Get()->Query(Database(), sql);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : "";
  }
  // Organisations, applications and devices through the backend's MetaStore.
  MetaStore& meta() { return postgres() ? *pg_meta_ : static_cast<MetaStore&>(*sqlite_); }
  Id NewOrg(const std::string& name = "o") {
    auto o = meta().CreateOrganization({0, name, 0});
    EXPECT_TRUE(o.ok()) << o.status().message();
    return o.ok() ? o->id : 0;
  }
  Id NewApp(Id org) {
    auto a = meta().CreateApplication({0, org, "a", "", 0});
    EXPECT_TRUE(a.ok()) << a.status().message();
    return a.ok() ? a->id : 0;
  }
  Id NewRule(Id org, const std::string& definition = "{}") {
    RuleRecord r;
    r.org_id = org;
    r.definition = definition;
    r.created_ms = r.updated_ms = kT0;
    auto created = rules().CreateRule(r);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? created->id : 0;
  }
  Id NewDevice(Id org, Id app) {
    Device d;
    d.org_id = org;
    d.app_id = app;
    d.name = "d";
    auto made = meta().CreateDevice(d, "hash-" + std::to_string(++devices_));
    EXPECT_TRUE(made.ok()) << made.status().message();
    return made.ok() ? made->id : 0;
  }

  int devices_ = 0;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<MetaStore> pg_meta_;
  std::unique_ptr<DecoderStore> pg_decoders_;
  std::unique_ptr<PostgresRuleStore> pg_rules_;
  DecoderStore* decoders_ = nullptr;
  RuleStore* rules_ = nullptr;
};

}  // namespace bysans::testing
