// The security suite's PostgreSQL leg: with BYSANS_TEST_STORE=postgres (CTest's "postgres/"
// tests, security/CMakeLists.txt) every server the fixtures start runs on a fresh database of
// one real PostgreSQL 15 started for the binary, so each attack is performed against that store
// too. Without it the binary runs on SQLite and starts no PostgreSQL.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "integration/fixture.h"
#include "unit/store_postgres/shared_postgres.h"

namespace bysans::testing {
namespace {

bool Asked() {
  const char* v = std::getenv("BYSANS_TEST_STORE");
  return v != nullptr && std::string(v) == "postgres";
}

class PostgresLeg : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!Asked()) return;
    shared_.SetUp();
    FreshStoreUrl() = [] { return SharedPostgres::NewDatabase(); };
  }
  void TearDown() override {
    if (!Asked()) return;
    FreshStoreUrl() = nullptr;
    shared_.TearDown();
  }

 private:
  SharedPostgres shared_;
};

[[maybe_unused]] ::testing::Environment* const kPostgresLeg =
    ::testing::AddGlobalTestEnvironment(new PostgresLeg);

}  // namespace
}  // namespace bysans::testing
