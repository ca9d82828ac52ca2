// DeviceCache (mqtt/device_cache.h): hits within the TTL do not reach the
// store; an expired device is served at once while the refresher reloads it;
// a reload that finds the device gone or changed is seen afterwards; a store
// error keeps the last known device; another node's device change (the store's
// devices generation) expires every entry at once.
#include "mqtt/device_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>

namespace bysans::mqtt {
namespace {

using namespace std::chrono_literals;

class DeviceCacheTest : public ::testing::Test {
 protected:
  // The refresher's thread may still be reloading into cache_: stop it before
  // cache_ (declared after it) is destroyed, as ingest.cc's Impl does by order.
  ~DeviceCacheTest() override { refresher_.Stop(); }
  // The "store": a device whose name the test changes, or an answer to give.
  Result<Device> Load() {
    ++loads_;
    if (block_) gate_.get_future().wait();
    if (answer_.has_value()) return *answer_;
    Device d;
    d.id = 7;
    d.name = name_;
    return d;
  }
  std::shared_ptr<const Device> Get() {
    return cache_.Get(7, [this] { return Load(); });
  }
  template <typename Pred>
  bool WaitFor(Pred p) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!p()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }

  ManualClock clock_{1'700'000'000'000};
  Refresher refresher_;
  DeviceCache<Id> cache_{clock_, refresher_, DeviceCacheTtl{5'000, 1'000}};
  std::atomic<int> loads_{0};
  std::string name_ = "first";
  std::optional<Status> answer_;
  std::atomic<bool> block_{false};
  std::promise<void> gate_;
};

TEST_F(DeviceCacheTest, HitsWithinTheTtlDoNotReachTheStore) {
  ASSERT_NE(Get(), nullptr);
  clock_.Advance(4'999);
  EXPECT_EQ(Get()->name, "first");
  EXPECT_EQ(loads_, 1);
}

TEST_F(DeviceCacheTest, ExpiredDeviceIsServedWhileOneReloadRunsInTheBackground) {
  ASSERT_NE(Get(), nullptr);
  name_ = "renamed";
  block_ = true;  // the reload hangs until the test lets it go
  clock_.Advance(5'001);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Get()->name, "first");  // at once, not waiting
  ASSERT_TRUE(WaitFor([&] { return loads_ == 2; }));
  gate_.set_value();
  ASSERT_TRUE(WaitFor([&] { return Get()->name == "renamed"; }));
  EXPECT_EQ(loads_, 2) << "one reload per expired entry";
}

TEST_F(DeviceCacheTest, DeletedDeviceIsGoneAfterTheReloadAndNotAskedForAgainAtOnce) {
  ASSERT_NE(Get(), nullptr);
  answer_ = NotFound("no such device");
  clock_.Advance(5'001);
  EXPECT_NE(Get(), nullptr);  // served while reloading
  ASSERT_TRUE(WaitFor([&] { return Get() == nullptr; }));
  const int loads = loads_;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Get(), nullptr);
  EXPECT_EQ(loads_, loads) << "'not found' is cached too";
  clock_.Advance(1'001);
  answer_.reset();
  EXPECT_NE(Get(), nullptr) << "an unknown device is loaded again after the short TTL";
}

TEST_F(DeviceCacheTest, StoreErrorKeepsTheLastKnownDevice) {
  ASSERT_NE(Get(), nullptr);
  answer_ = Internal("database is locked");
  clock_.Advance(5'001);
  EXPECT_NE(Get(), nullptr);
  // A third load starts only after the second one's answer was applied (one reload
  // at a time per entry), and the entry is retried after the short TTL.
  ASSERT_TRUE(WaitFor([&] {
    clock_.Advance(1'001);
    auto d = Get();
    EXPECT_NE(d, nullptr) << "the error dropped the device";
    return loads_ >= 3;
  }));
  ASSERT_NE(Get(), nullptr);
  EXPECT_EQ(Get()->name, "first");
}

TEST_F(DeviceCacheTest, AnotherNodesDeviceChangeIsSeenAfterOneReloadNotTheTtl) {
  std::atomic<uint64_t> generation{3};
  DeviceCache<Id> cache(clock_, refresher_, DeviceCacheTtl{5'000, 1'000}, 100,
                        [&] { return generation.load(); });
  auto get = [&] { return cache.Get(7, [this] { return Load(); }); };
  ASSERT_EQ(get()->name, "first");
  name_ = "changed on node B";
  clock_.Advance(1'000);  // well within the TTL
  EXPECT_EQ(get()->name, "first");
  EXPECT_EQ(loads_, 1) << "nothing moved: no reload";
  generation = 4;  // node B's change reached this node's change feed
  EXPECT_EQ(get()->name, "first") << "served at once while the reload runs";
  ASSERT_TRUE(WaitFor([&] { return get()->name == "changed on node B"; }));
  EXPECT_EQ(loads_, 2) << "one reload per entry for one change";
  answer_ = NotFound("deleted on node B");
  generation = 5;
  EXPECT_TRUE(WaitFor([&] { return get() == nullptr; })) << "a deletion elsewhere is seen too";
  refresher_.Stop();  // before `cache` goes
}

TEST_F(DeviceCacheTest, StoppedRefresherStillServesAndLoadsMisses) {
  ASSERT_NE(Get(), nullptr);
  refresher_.Stop();
  clock_.Advance(5'001);
  EXPECT_NE(Get(), nullptr);  // stale, no reload possible
  EXPECT_EQ(cache_.Get(8, [] { return Result<Device>(NotFound("none")); }), nullptr);
}

}  // namespace
}  // namespace bysans::mqtt
