// PostgreSQL only: a deleted device's readings and raw messages are erased (they have no foreign
// key to the device: device_eraser.h). Deleting the device, or its organisation (a cascade),
// queues the erasure in the same transaction; one pass of the eraser leaves no series and no raw
// message of the device, and other devices' data is untouched; a second entry stays queued for the
// pass after the ingest caches have forgotten the device. Two erasers never take the same entry.
#include "store/postgres/device_eraser.h"

#include <gtest/gtest.h>

#include <thread>

#include "core/clock.h"
#include "store/postgres/pg_meta_store.h"
#include "store/postgres/pool_handle.h"
#include "store/postgres/postgres_series_store.h"
#include "unit/store_postgres/shared_postgres.h"

namespace bysans::testing {
namespace {

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

constexpr TimeMs kT0 = 1'704'067'200'000;

class DeviceEraserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = SharedPostgres::NewDatabase();
    ASSERT_FALSE(url_.empty());
    PostgresStoreOptions o;
    o.url = url_;
    o.clock = &clock_;
    auto series = PostgresSeriesStore::Open(o);
    ASSERT_TRUE(series.ok()) << series.status().message();
    series_ = std::move(series).value();
    auto meta = OpenPostgresMetaStore(url_, clock_);
    ASSERT_TRUE(meta.ok()) << meta.status().message();
    meta_ = std::move(meta).value();
    pool_ = pg::NewPool(url_, 2);
    org_ = meta_->CreateOrganization({0, "o", 0}).value().id;
    const Id app = meta_->CreateApplication({0, org_, "a", "", 0}).value().id;
    for (Id& d : dev_) {
      Device x;
      x.app_id = app;
      x.name = "d";
      d = meta_->CreateDevice(x, "").value().id;
      IngestBatch b;
      RawMessage m;
      m.device_id = d;
      m.received_ms = kT0;
      m.payload = "{\"t\": 21.5}";
      b.messages.push_back(m);
      b.readings.push_back(Reading{d, "t", kT0, 21.5, "Cel", Quality::kOk});
      b.readings.push_back(Reading{d, "rh", kT0, 40.0, "%RH", Quality::kOk});
      ASSERT_TRUE(series_->Append(std::move(b)).ok());
    }
  }
  void TearDown() override {
    if (series_) series_->Close();
  }
  size_t Series(Id d) { return series_->ListSeries({d}).value().size(); }
  size_t Messages(Id d) {
    MessageQuery q;
    q.device_id = d;
    return series_->QueryMessages(q).value().size();
  }
  std::string Queued(Id d) {
    return SharedPostgres::Get()
        ->Query(url_.substr(url_.rfind('/') + 1),
                "SELECT count(*) FROM device_erasures WHERE device_id = " + std::to_string(d))
        .value();
  }
  // Runs the eraser until nothing is due.
  void EraseDue(pg::DeviceEraser& eraser) {
    for (bool found = true; found;) ASSERT_TRUE(eraser.EraseNextDue(&found).ok());
  }

  std::string url_;
  ManualClock clock_{kT0};
  std::unique_ptr<PostgresSeriesStore> series_;
  std::unique_ptr<MetaStore> meta_;
  std::shared_ptr<pg::Pool> pool_;
  Id org_ = 0;
  Id dev_[3] = {0, 0, 0};
};

TEST_F(DeviceEraserTest, ADeletedDevicesSeriesAndMessagesAreErased) {
  ASSERT_EQ(Series(dev_[0]), 2u);
  ASSERT_EQ(Messages(dev_[0]), 1u);
  ASSERT_TRUE(meta_->DeleteDevice(dev_[0]).ok());
  EXPECT_EQ(Queued(dev_[0]), "2") << "now, and once more after the caches forgot the device";
  pg::DeviceEraser eraser(*pool_, *series_);
  EraseDue(eraser);
  EXPECT_EQ(Series(dev_[0]), 0u);
  EXPECT_EQ(Messages(dev_[0]), 0u);
  EXPECT_EQ(Queued(dev_[0]), "1") << "the second pass is not due yet";
  EXPECT_EQ(Series(dev_[1]), 2u) << "another device's data stays";
  EXPECT_EQ(Messages(dev_[1]), 1u);
}

TEST_F(DeviceEraserTest, DevicesThatGoWithTheirOrganisationAreErasedToo) {
  ASSERT_TRUE(meta_->DeleteOrganization(org_).ok());
  for (Id d : dev_) EXPECT_EQ(Queued(d), "2");
  pg::DeviceEraser eraser(*pool_, *series_);
  EraseDue(eraser);
  for (Id d : dev_) {
    EXPECT_EQ(Series(d), 0u);
    EXPECT_EQ(Messages(d), 0u);
  }
}

TEST_F(DeviceEraserTest, TwoErasersShareTheQueueWithoutTakingOneEntryTwice) {
  ASSERT_TRUE(meta_->DeleteOrganization(org_).ok());
  pg::DeviceEraser a(*pool_, *series_);
  auto pool_b = pg::NewPool(url_, 2);
  pg::DeviceEraser b(*pool_b, *series_);
  std::atomic<int> taken{0};
  auto run = [&](pg::DeviceEraser& e) {
    for (bool found = true; found;) {
      ASSERT_TRUE(e.EraseNextDue(&found).ok());
      if (found) ++taken;
    }
  };
  std::thread ta([&] { run(a); });
  std::thread tb([&] { run(b); });
  ta.join();
  tb.join();
  EXPECT_EQ(taken.load(), 3) << "one due entry per device, each taken once";
  for (Id d : dev_) {
    EXPECT_EQ(Series(d), 0u);
    EXPECT_EQ(Queued(d), "1");
  }
}

}  // namespace
}  // namespace bysans::testing
