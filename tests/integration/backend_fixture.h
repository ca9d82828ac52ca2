// Integration tests that run on both stores: TEST_P over "sqlite" (the embedded database in the
// server's data directory) and "postgres" (the server started with store.url set to a fresh
// database of one real PostgreSQL 15 per test binary, unit/store_postgres/shared_postgres.h).
// A binary using it registers the PostgreSQL environment once:
// BYSANS_SHARED_POSTGRES_ENVIRONMENT().
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "fixture.h"
#include "unit/store_postgres/shared_postgres.h"

namespace bysans::testing {

// `Base`: ServerTest or a fixture derived from it (e.g. MqttTest).
template <typename Base>
class OnBothStores : public Base, public ::testing::WithParamInterface<std::string> {
 protected:
  bool postgres() const { return GetParam() == "postgres"; }
  void SetUp() override {
    if (postgres()) {
      const std::string url = SharedPostgres::NewDatabase();
      ASSERT_FALSE(url.empty());
      this->server_env_.push_back("BYSANS_STORE_URL=" + url);
    }
    Base::SetUp();
    if (postgres() && this->server_) {
      ASSERT_NE(this->server_->log().find("store: PostgreSQL at"), std::string::npos)
          << this->server_->log();
    }
  }
};
using BackendServerTest = OnBothStores<ServerTest>;

#define BYSANS_ON_BOTH_STORES(Suite)                                               \
  INSTANTIATE_TEST_SUITE_P(Stores, Suite, ::testing::Values("sqlite", "postgres"), \
                           [](const auto& info) { return info.param; })

}  // namespace bysans::testing
