// SQLite's migration 25 backfill of the devices' location history. The history's behaviour on
// both backends is in tests/unit/store_postgres/device_locations_backends_test.cc.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using testing::StoreTest;

class DeviceLocationsTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    org_ = store_->CreateOrganization({0, "o", 0}).value();
    app_ = store_->CreateApplication({0, org_.id, "a", "d", 0}).value();
  }
  Device Make(std::optional<Location> loc) {
    Device d;
    d.app_id = app_.id;
    d.name = "d";
    d.location = loc;
    auto r = store_->CreateDevice(d, "");
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : Device{};
  }
  std::vector<DeviceLocation> History(Id dev) {
    auto r = store_->ListDeviceLocations({dev});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : std::vector<DeviceLocation>{};
  }
  Organization org_;
  Application app_;
};

// Migration 25 backfills devices that have a location (one entry at their creation, id = the
// device id where free) and is safe to run again.
TEST_F(DeviceLocationsTest, MigrationBackfillsWithTheDeviceIds) {
  Device a = Make(Location{1, 1});
  Device b = Make(Location{2, 2});
  Device c = Make(std::nullopt);
  store_->Close();
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() + "/bysans.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TABLE device_locations; "
                         "DELETE FROM sqlite_sequence WHERE name='device_locations'; "
                         "DELETE FROM schema_version WHERE version = 25;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  Open();
  for (const Device& d : {a, b}) {
    auto h = History(d.id);
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].id, d.id);
    EXPECT_EQ(h[0].time, d.created_ms);
    EXPECT_EQ(h[0].location.lat, d.location->lat);
  }
  EXPECT_TRUE(History(c.id).empty());
  // Run again: nothing doubles; new entries take ids beyond the backfilled ones.
  store_->Close();
  store_.reset();
  ASSERT_EQ(sqlite3_open((dir_.path() + "/bysans.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "DELETE FROM schema_version WHERE version = 25;", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  Open();
  EXPECT_EQ(History(a.id).size(), 1u);
  c.location = Location{3, 3};
  ASSERT_TRUE(store_->UpdateDevice(c).ok());
  auto hc = History(c.id);
  ASSERT_EQ(hc.size(), 1u);
  EXPECT_GT(hc[0].id, b.id);
}

}  // namespace
}  // namespace bysans
