// Lwm2mStore on SQLite only (migrations 36, 38): the migration runs again over its tables. The
// behaviour both backends share: tests/unit/store_postgres/device_channels_backends_test.cc.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/lwm2m_store.h"
#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using testing::TwoDeviceStoreTest;
using Lwm2mStoreTest = TwoDeviceStoreTest;

TEST_F(Lwm2mStoreTest, MigrationRunsAgainOverItsTables) {
  Lwm2mRegistration reg;
  reg.device_id = a_;
  reg.registration_id = "keep";
  ASSERT_TRUE(store_->lwm2m().PutRegistration(reg).ok());
  ASSERT_TRUE(store_->lwm2m().PutObservation({a_, "/3303/0", 1, 2, 3}).ok());
  Lwm2mOperation op;
  op.device_id = a_;
  op.path = "/3";
  ASSERT_TRUE(store_->lwm2m().AddOperation(op, 100).ok());
  store_->Close();
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() + "/bysans.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "DELETE FROM schema_version WHERE version = 38;", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  Open();
  EXPECT_EQ(store_->lwm2m().FindRegistration("keep")->device_id, a_);
  EXPECT_EQ(store_->lwm2m().ListOperations(a_, 10)->size(), 1u);
  EXPECT_EQ(store_->lwm2m().ListObservations(a_)->size(), 1u);
}

}  // namespace
}  // namespace bysans
