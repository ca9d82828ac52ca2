// Lwm2mStore on SQLite only (migrations 36, 38): the migration runs again over its tables. The
// behaviour both backends share: tests/unit/store_postgres/device_channels_backends_test.cc.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/lwm2m_store.h"
#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using testing::TwoDeviceStoreTest;

class Lwm2mStoreTest : public TwoDeviceStoreTest {
 protected:
  static Lwm2mRegistration Reg(Id device, const std::string& id) {
    Lwm2mRegistration r;
    r.device_id = device;
    r.registration_id = id;
    r.endpoint = "ep-" + id;
    r.lifetime_s = 60;
    r.queue_mode = true;
    r.version = "1.1";
    r.objects = "/3303/0,/3304/0";
    r.registered_ms = 1000;
    r.updated_ms = 2000;
    return r;
  }
  static Lwm2mOperation Op(Id device, Lwm2mOpKind kind, const std::string& path, TimeMs at) {
    Lwm2mOperation op;
    op.device_id = device;
    op.kind = kind;
    op.path = path;
    op.value = kind == Lwm2mOpKind::kWrite ? "42" : "";
    op.created_ms = at;
    return op;
  }
};

TEST_F(Lwm2mStoreTest, MigrationRunsAgainOverItsTables) {
  ASSERT_TRUE(store_->lwm2m().PutRegistration(Reg(a_, "keep")).ok());
  ASSERT_TRUE(store_->lwm2m().PutObservation({a_, "/3303/0", 1, 2, 3}).ok());
  ASSERT_TRUE(store_->lwm2m().AddOperation(Op(a_, Lwm2mOpKind::kRead, "/3", 1)).ok());
  store_->Close();
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() + "/bysans.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(
          db,
          "DELETE FROM schema_version WHERE version = (SELECT MAX(version) FROM schema_version);",
          nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  Open();
  EXPECT_EQ(store_->lwm2m().FindRegistration("keep")->device_id, a_);
  EXPECT_EQ(store_->lwm2m().ListOperations(a_, 10)->size(), 1u);
  EXPECT_EQ(store_->lwm2m().ListObservations(a_)->size(), 1u);
}

}  // namespace
}  // namespace bysans
