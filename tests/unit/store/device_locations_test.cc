// A device's location history (MetaStore::ListDeviceLocations, migration 25): every stored
// change appends an entry timed by the store's clock, removals and unchanged locations append
// nothing, entries go with their device and organisation, and the migration's backfill gives
// existing devices one entry whose id is the device id.
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

TEST_F(DeviceLocationsTest, EveryChangeIsAnEntry) {
  const TimeMs t0 = clock_.NowMs();
  Device d = Make(Location{55.0, 12.0});
  Device none = Make(std::nullopt);
  EXPECT_TRUE(History(none.id).empty());
  clock_.Advance(1000);
  d.location = Location{56.0, 10.0};
  ASSERT_TRUE(store_->UpdateDevice(d).ok());
  clock_.Advance(1000);
  d.name = "renamed";  // same location: nothing appended
  ASSERT_TRUE(store_->UpdateDevice(d).ok());
  d.location.reset();  // removed: nothing appended
  ASSERT_TRUE(store_->UpdateDevice(d).ok());
  clock_.Advance(1000);
  d.location = Location{57.0, 9.0};
  ASSERT_TRUE(store_->UpdateDevice(d).ok());
  auto h = History(d.id);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].time, t0);
  EXPECT_EQ(h[0].location.lat, 55.0);
  EXPECT_EQ(h[0].location.lon, 12.0);
  EXPECT_EQ(h[1].time, t0 + 1000);
  EXPECT_EQ(h[1].location.lat, 56.0);
  EXPECT_EQ(h[2].time, t0 + 3000);
  EXPECT_EQ(h[2].location.lon, 9.0);
  EXPECT_LT(h[0].id, h[1].id);
  auto one = store_->GetDeviceLocation(h[1].id);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->device_id, d.id);
  ASSERT_TRUE(store_->DeleteDeviceLocation(h[1].id).ok());
  EXPECT_EQ(History(d.id).size(), 2u);
  EXPECT_EQ(store_->DeleteDeviceLocation(h[1].id).code(), Code::kNotFound);
}

TEST_F(DeviceLocationsTest, CreateDevicesRecordsTheirLocations) {
  std::vector<Device> batch(2);
  for (auto& d : batch) d.app_id = app_.id;
  batch[0].location = Location{1, 2};
  batch[0].created_ms = 1234;
  auto made = store_->CreateDevices(batch);
  ASSERT_TRUE(made.ok());
  auto h = store_->ListDeviceLocations({(*made)[0].id, (*made)[1].id});
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].device_id, (*made)[0].id);
  EXPECT_EQ((*h)[0].time, 1234);
}

TEST_F(DeviceLocationsTest, GoWithTheirDeviceAndOrganisation) {
  Device a = Make(Location{1, 1});
  Device b = Make(Location{2, 2});
  const int64_t entry_b = History(b.id).at(0).id;
  ASSERT_TRUE(store_->DeleteDevice(a.id).ok());
  EXPECT_TRUE(History(a.id).empty());
  EXPECT_EQ(History(b.id).size(), 1u);
  ASSERT_TRUE(store_->DeleteOrganization(org_.id).ok());
  EXPECT_EQ(store_->GetDeviceLocation(entry_b).status().code(), Code::kNotFound);
}

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
