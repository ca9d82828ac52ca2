#include "core/wake_batch.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace bysans {
namespace {

TEST(WakeBatchTest, WithoutABatchTheFunctionRunsAtOnce) {
  int runs = 0;
  WakeBatch::Defer(&runs, [&] { ++runs; });
  EXPECT_EQ(runs, 1);
}

TEST(WakeBatchTest, OncePerOwnerWhenTheBatchEndsInFirstDeferredOrder) {
  std::string log;
  int a = 0, b = 0;
  {
    WakeBatch batch;
    WakeBatch::Defer(&a, [&] { log += "a"; });
    WakeBatch::Defer(&b, [&] { log += "b"; });
    WakeBatch::Defer(&a, [&] { log += "A"; });  // a is already waiting
    EXPECT_EQ(log, "");
  }
  EXPECT_EQ(log, "ab");
}

TEST(WakeBatchTest, NestedBatchesAndOtherThreadsAreSeparate) {
  std::string log;
  int a = 0;
  {
    WakeBatch outer;
    {
      WakeBatch inner;
      WakeBatch::Defer(&a, [&] { log += "inner"; });
      std::thread other([&] { WakeBatch::Defer(&a, [&] { log += "other;"; }); });
      other.join();  // no batch on that thread: ran at once
      EXPECT_EQ(log, "other;");
    }
    EXPECT_EQ(log, "other;inner");
    WakeBatch::Defer(&a, [&] { log += ";outer"; });
  }
  EXPECT_EQ(log, "other;inner;outer");
}

}  // namespace
}  // namespace bysans
