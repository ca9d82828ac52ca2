// Which ChirpStack application and connection last delivered a device's uplink
// (MqttStore::SetLorawanRoute): kept in memory and written in batches (store/sqlite/
// lorawan_routes.h). Reads see a route at once; routes are written at close (and about once a
// second); a route of a device deleted before the write is skipped without holding up the rest.
#include <gtest/gtest.h>

#include "store/mqtt_store.h"
#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using testing::StoreTest;

// The value, or `otherwise` when there is none.
template <typename T, typename U>
T Or(const Result<T>& r, U otherwise) {
  return r.ok() ? *r : T(otherwise);
}

class LorawanRoutesTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    org_ = store_->CreateOrganization({0, "o", 0}).value();
    app_ = store_->CreateApplication({0, org_.id, "a", "d", 0}).value();
  }
  Id MakeDevice(const std::string& name) {
    Device d;
    d.app_id = app_.id;
    d.name = name;
    d.transport = Transport::kLorawan;
    auto r = store_->CreateDevice(d, "");
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->id : 0;
  }
  Organization org_;
  Application app_;
};

TEST_F(LorawanRoutesTest, ReadAtOnceNewestWinsAndKeptAcrossRestart) {
  const Id dev = MakeDevice("a");
  MqttStore& m = store_->mqtt();
  EXPECT_FALSE(m.LorawanApplication(dev).ok());  // none seen yet
  ASSERT_TRUE(m.SetLorawanRoute(dev, "app-1", 0).ok());
  ASSERT_TRUE(m.SetLorawanRoute(dev, "app-2", 7).ok());
  EXPECT_EQ(Or(m.LorawanApplication(dev), ""), "app-2");
  EXPECT_EQ(Or(m.LorawanIntegration(dev), -1), 7);
  Reopen();
  EXPECT_EQ(Or(store_->mqtt().LorawanApplication(dev), ""), "app-2");
  EXPECT_EQ(Or(store_->mqtt().LorawanIntegration(dev), -1), 7);
}

TEST_F(LorawanRoutesTest, ADeletedDevicesRouteIsSkippedAndTheOthersAreWritten) {
  const Id gone = MakeDevice("gone");
  const Id kept = MakeDevice("kept");
  ASSERT_TRUE(store_->mqtt().SetLorawanRoute(gone, "app-g", 0).ok());
  ASSERT_TRUE(store_->mqtt().SetLorawanRoute(kept, "app-k", 3).ok());
  ASSERT_TRUE(store_->DeleteDevice(gone).ok());
  Reopen();
  EXPECT_FALSE(store_->mqtt().LorawanApplication(gone).ok());
  EXPECT_EQ(Or(store_->mqtt().LorawanApplication(kept), ""), "app-k");
  EXPECT_EQ(Or(store_->mqtt().LorawanIntegration(kept), -1), 3);
}

}  // namespace
}  // namespace bysans
