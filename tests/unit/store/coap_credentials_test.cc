// CoapCredentialStore on SQLite only (migration 35): the migration runs again over a store that has
// the table. The behaviour both backends share:
// tests/unit/store_postgres/device_channels_backends_test.cc.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/coap_credential_store.h"
#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using testing::TwoDeviceStoreTest;

class CoapCredentialStoreTest : public TwoDeviceStoreTest {
 protected:
  static CoapCredential Cred(Id device, const std::string& identity, const std::string& sealed) {
    return CoapCredential{device, identity, sealed, 1000};
  }
};

TEST_F(CoapCredentialStoreTest, MigrationRunsAgainOverItsTable) {
  ASSERT_TRUE(store_->coap_credentials().PutCoapCredential(Cred(a_, "keep", "sealed")).ok());
  store_->Close();
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() + "/bysans.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "DELETE FROM schema_version WHERE version = 34;", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  Open();
  EXPECT_EQ(store_->coap_credentials().FindCoapCredential("keep")->device_id, a_);
}

}  // namespace
}  // namespace bysans
