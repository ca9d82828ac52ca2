// A device's location history (MetaStore::ListDeviceLocations) on both backends: every stored
// change appends an entry timed by the store's clock, removals and unchanged locations append
// nothing, entries go with their device and organisation. Moved from
// tests/unit/store/device_locations_test.cc, which keeps SQLite's migration backfill test.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "unit/store_postgres/meta_backend_fixture.h"

namespace bysans {
namespace {

class DeviceLocationsTest : public testing::MetaBackendTest {
 protected:
  void SetUp() override {
    MetaBackendTest::SetUp();
    if (HasFatalFailure()) return;
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
BYSANS_META_ON_BOTH_BACKENDS(DeviceLocationsTest);

TEST_P(DeviceLocationsTest, EveryChangeIsAnEntry) {
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

TEST_P(DeviceLocationsTest, CreateDevicesRecordsTheirLocations) {
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

TEST_P(DeviceLocationsTest, GoWithTheirDeviceAndOrganisation) {
  Device a = Make(Location{1, 1});
  Device b = Make(Location{2, 2});
  const int64_t entry_b = History(b.id).at(0).id;
  ASSERT_TRUE(store_->DeleteDevice(a.id).ok());
  EXPECT_TRUE(History(a.id).empty());
  EXPECT_EQ(History(b.id).size(), 1u);
  ASSERT_TRUE(store_->DeleteOrganization(org_.id).ok());
  EXPECT_EQ(store_->GetDeviceLocation(entry_b).status().code(), Code::kNotFound);
}

// Two changes within one millisecond: the second is 1 ms later, so time order is change order.
TEST_P(DeviceLocationsTest, TwoChangesInOneMillisecondGetConsecutiveTimes) {
  const TimeMs t0 = clock_.NowMs();
  Device d = Make(Location{1, 1});
  d.location = Location{2, 2};
  ASSERT_TRUE(store_->UpdateDevice(d).ok());
  d.location = Location{3, 3};
  ASSERT_TRUE(store_->UpdateDevice(d).ok());
  auto h = History(d.id);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].time, t0);
  EXPECT_EQ(h[1].time, t0 + 1);
  EXPECT_EQ(h[2].time, t0 + 2);
}

// An archive's history on import: the whole history replaced, every entry kept (also one equal
// to the one before), new ids, in order.
TEST_P(DeviceLocationsTest, ReplaceTakesTheWholeHistory) {
  Device d = Make(Location{9, 9});
  Device other = Make(Location{8, 8});
  const int64_t old_entry = History(d.id).at(0).id;
  std::vector<DeviceLocation> archive(3);
  archive[0].time = 100;
  archive[0].location = {1.25, 10.5};
  archive[1].time = 200;
  archive[1].location = {1.25, 10.5};
  archive[2].time = 300;
  archive[2].location = {-33.87, 151.21};
  ASSERT_TRUE(store_->ReplaceDeviceLocations(d.id, archive).ok());
  auto h = History(d.id);
  ASSERT_EQ(h.size(), 3u);
  for (size_t i = 0; i < h.size(); ++i) {
    EXPECT_EQ(h[i].device_id, d.id);
    EXPECT_EQ(h[i].time, archive[i].time);
    EXPECT_EQ(h[i].location.lat, archive[i].location.lat);
    EXPECT_EQ(h[i].location.lon, archive[i].location.lon);
    EXPECT_GT(h[i].id, old_entry);
  }
  EXPECT_EQ(store_->GetDeviceLocation(old_entry).status().code(), Code::kNotFound);
  EXPECT_EQ(History(other.id).size(), 1u);  // another device's history is untouched
  // Several devices at once, in id order.
  auto both = store_->ListDeviceLocations({other.id, d.id});
  ASSERT_TRUE(both.ok());
  ASSERT_EQ(both->size(), 4u);
  for (size_t i = 1; i < both->size(); ++i) EXPECT_LT((*both)[i - 1].id, (*both)[i].id);
  EXPECT_TRUE(store_->ListDeviceLocations({})->empty());
  ASSERT_TRUE(store_->ReplaceDeviceLocations(d.id, {}).ok());
  EXPECT_TRUE(History(d.id).empty());
  EXPECT_EQ(store_->ReplaceDeviceLocations(987654, archive).code(), Code::kNotFound);
}

}  // namespace
}  // namespace bysans
