// One real PostgreSQL per test binary (a gtest Environment) and a fresh database per test, so a
// PostgreSQL suite stays fast. Include from exactly one .cc per binary that registers it with
// BYSANS_SHARED_POSTGRES_ENVIRONMENT().
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "support/postgres_instance.h"

namespace bysans::testing {

class SharedPostgres : public ::testing::Environment {
 public:
  static PostgresInstance* Get() { return instance().get(); }
  // A new empty database for one test; its URL (fails the test when there is no server).
  static std::string NewDatabase() {
    static std::atomic<int> n{0};
    if (!Get()) {
      ADD_FAILURE() << "no PostgreSQL: " << start_error();
      return "";
    }
    auto url = Get()->CreateDatabase("t" + std::to_string(++n));
    EXPECT_TRUE(url.ok()) << url.status().message();
    return url.ok() ? *url : "";
  }
  void SetUp() override {
    PostgresOptions o;
    o.synchronous_commit = false;  // these tests do not test durability across a crash
    auto pg = PostgresInstance::Start(o);
    if (pg.ok()) {
      instance() = std::move(pg).value();
    } else {
      start_error() = pg.status().message();
    }
  }
  void TearDown() override { instance().reset(); }

 private:
  static std::unique_ptr<PostgresInstance>& instance() {
    static std::unique_ptr<PostgresInstance> p;
    return p;
  }
  static std::string& start_error() {
    static std::string e;
    return e;
  }
};

}  // namespace bysans::testing

#define BYSANS_SHARED_POSTGRES_ENVIRONMENT()                                     \
  [[maybe_unused]] static ::testing::Environment* const bysans_shared_postgres = \
      ::testing::AddGlobalTestEnvironment(new ::bysans::testing::SharedPostgres)
