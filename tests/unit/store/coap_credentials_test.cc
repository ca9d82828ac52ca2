// CoapCredentialStore on SQLite (migration 35): create, rotate (replace), find by identity, a
// clash of identities between devices, delete, cascade with the device, and the migration run
// again over a store that has the table.
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

TEST_F(CoapCredentialStoreTest, CreateRotateFindDeleteAndCascade) {
  CoapCredentialStore& s = store_->coap_credentials();
  EXPECT_EQ(s.GetCoapCredential(a_).status().code(), Code::kNotFound);
  ASSERT_TRUE(s.PutCoapCredential(Cred(a_, "meter-a", "sealed-1")).ok());
  auto got = s.GetCoapCredential(a_);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->identity, "meter-a");
  EXPECT_EQ(got->sealed_key, "sealed-1");
  // Rotation replaces the row (same identity, new key), and a new identity replaces the old.
  ASSERT_TRUE(s.PutCoapCredential(Cred(a_, "meter-a", "sealed-2")).ok());
  EXPECT_EQ(s.FindCoapCredential("meter-a")->sealed_key, "sealed-2");
  ASSERT_TRUE(s.PutCoapCredential(Cred(a_, "meter-a2", "sealed-3")).ok());
  EXPECT_EQ(s.FindCoapCredential("meter-a").status().code(), Code::kNotFound);
  EXPECT_EQ(s.FindCoapCredential("meter-a2")->device_id, a_);
  // Another device cannot take the identity; an unknown device has none.
  EXPECT_EQ(s.PutCoapCredential(Cred(b_, "meter-a2", "x")).code(), Code::kAlreadyExists);
  EXPECT_EQ(s.PutCoapCredential(Cred(a_ + b_ + 100, "other", "x")).code(), Code::kNotFound);
  ASSERT_TRUE(s.PutCoapCredential(Cred(b_, "meter-b", "sealed-b")).ok());
  // Delete, and cascade with the device.
  ASSERT_TRUE(s.DeleteCoapCredential(a_).ok());
  EXPECT_EQ(s.DeleteCoapCredential(a_).code(), Code::kNotFound);
  EXPECT_EQ(s.FindCoapCredential("meter-a2").status().code(), Code::kNotFound);
  ASSERT_TRUE(store_->DeleteDevice(b_).ok());
  EXPECT_EQ(s.FindCoapCredential("meter-b").status().code(), Code::kNotFound);
}

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
