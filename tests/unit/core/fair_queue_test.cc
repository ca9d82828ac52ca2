// FairQueue: organisations take turns by decode time used, one organisation never holds more
// than its share of the workers, a device's items run one at a time and in order.
#include "core/fair_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace bysans {
namespace {

using Q = FairQueue<std::string>;

TEST(FairQueueTest, OneOrganisationAloneRunsInOrder) {
  Q q(1);
  q.Push(1, 10, "a");
  q.Push(1, 11, "b");
  auto t = q.Pop();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->item, "a");
  EXPECT_FALSE(q.Pop()) << "the organisation already runs its share";
  q.Done(1, 10, 5);
  t = q.Pop();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->item, "b");
  q.Done(1, 11, 5);
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.Pop());
}

TEST(FairQueueTest, ExpensiveOrganisationWaitsBehindCheapOne) {
  Q q(1);
  // B's first decode took a whole second (a looping decoder at its time limit).
  q.Push(2, 20, "b0");
  auto b = q.Pop();
  ASSERT_TRUE(b);
  q.Done(2, 20, 1'000'000);
  for (int i = 0; i < 5; ++i) q.Push(2, 20, "b" + std::to_string(i + 1));
  for (int i = 0; i < 20; ++i) q.Push(1, 10 + i, "a" + std::to_string(i));
  // Each of A's 20 cheap items goes before B's next one.
  for (int i = 0; i < 20; ++i) {
    auto t = q.Pop();
    ASSERT_TRUE(t);
    EXPECT_EQ(t->org, 1) << "at " << i;
    q.Done(t->org, t->lane, 1000);
  }
  auto t = q.Pop();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->item, "b1");
}

TEST(FairQueueTest, NoOrganisationHoldsEveryWorker) {
  Q q(2);  // three workers: at most two per organisation
  for (int i = 0; i < 5; ++i) q.Push(2, 20 + i, "b");
  auto b1 = q.Pop(), b2 = q.Pop();
  ASSERT_TRUE(b1 && b2);
  EXPECT_FALSE(q.Pop()) << "the third worker is kept for other organisations";
  q.Push(1, 10, "a");
  auto a = q.Pop();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->org, 1);
}

TEST(FairQueueTest, DeviceItemsRunOneAtATimeInOrder) {
  Q q(3);
  q.Push(1, 10, "d10-0");
  q.Push(1, 10, "d10-1");
  q.Push(1, 11, "d11-0");
  auto t1 = q.Pop();
  ASSERT_TRUE(t1);
  EXPECT_EQ(t1->item, "d10-0");
  auto t2 = q.Pop();
  ASSERT_TRUE(t2);
  EXPECT_EQ(t2->item, "d11-0") << "device 10's next item waits for its first";
  EXPECT_FALSE(q.Pop());
  q.Done(1, 10, 1);
  auto t3 = q.Pop();
  ASSERT_TRUE(t3);
  EXPECT_EQ(t3->item, "d10-1");
}

TEST(FairQueueTest, HasRunnableSaysWhetherPopWouldGiveAnItem) {
  Q q(1);
  EXPECT_FALSE(q.HasRunnable()) << "empty";
  q.Push(1, 10, "a0");
  q.Push(1, 11, "a1");
  EXPECT_TRUE(q.HasRunnable());
  auto a = q.Pop();
  ASSERT_TRUE(a);
  EXPECT_FALSE(q.HasRunnable()) << "organisation 1 runs its share: a worker woken would idle";
  q.Push(2, 20, "b0");
  EXPECT_TRUE(q.HasRunnable()) << "another organisation's item";
  ASSERT_TRUE(q.Pop());
  q.Done(1, 10, 1);
  EXPECT_TRUE(q.HasRunnable()) << "a1 may run now";
  Q lanes(3);
  lanes.Push(1, 10, "d10-0");
  lanes.Push(1, 10, "d10-1");
  ASSERT_TRUE(lanes.Pop());
  EXPECT_FALSE(lanes.HasRunnable()) << "the device's next item waits for its first";
}

TEST(FairQueueTest, IdlingEarnsNoCredit) {
  Q q(1);
  // A runs a lot while B is idle...
  for (int i = 0; i < 10; ++i) {
    q.Push(1, 10, "a");
    auto t = q.Pop();
    q.Done(t->org, t->lane, 100);
  }
  // ...then both have work: B does not get ten turns in a row for having been idle.
  for (int i = 0; i < 4; ++i) q.Push(1, 10, "a");
  for (int i = 0; i < 4; ++i) q.Push(2, 20, "b");
  std::string order;
  while (auto t = q.Pop()) {
    order += t->item;
    q.Done(t->org, t->lane, 100);
  }
  EXPECT_EQ(order.substr(0, 4).find("aa"), std::string::npos) << order;
  EXPECT_NE(order.substr(0, 4).find('a'), std::string::npos) << order;
}

TEST(FairQueueTest, BacklogIsQueuedTimesRecentCost) {
  Q q(1);
  EXPECT_EQ(q.Backlog(2), 0) << "no history";
  q.Push(2, 20, "b");
  EXPECT_EQ(q.Backlog(2), 0) << "no history yet";
  auto t = q.Pop();
  q.Done(t->org, t->lane, 1000);
  for (int i = 0; i < 3; ++i) q.Push(2, 20, "b");
  EXPECT_EQ(q.Backlog(2), 3000);
  t = q.Pop();
  EXPECT_EQ(q.Backlog(2), 3000) << "a running item counts too";
  EXPECT_EQ(q.Backlog(1), 0);
}

TEST(FairQueueTest, OneSlowSetUpDoesNotMakeAnOrganisationLookSlow) {
  Q q(1);  // one-off floor: 1000
  q.Push(2, 20, "b");
  auto t = q.Pop();
  // The first decode compiled the decoder: 200 ms, of which 100 µs was the call itself.
  q.Done(t->org, t->lane, 200'000, 199'900);
  for (int i = 0; i < 100; ++i) q.Push(2, 20, "b");
  EXPECT_EQ(q.Backlog(2), 100 * (100 + 1000)) << "the compile counts up to the floor only";
  // Without the set-up mark the same decode counts whole.
  Q whole(1);
  whole.Push(2, 20, "b");
  t = whole.Pop();
  whole.Done(t->org, t->lane, 200'000);
  for (int i = 0; i < 100; ++i) whole.Push(2, 20, "b");
  EXPECT_EQ(whole.Backlog(2), 100 * 200'000);
}

TEST(FairQueueTest, SlowCallsCountWholeFromTheSecondAndRepeatedSetUpStillRaisesTheAverage) {
  Q q(1);
  auto run = [&](int64_t cost, int64_t one_off) {
    q.Push(2, 20, "b");
    auto t = q.Pop();
    q.Done(t->org, t->lane, cost, one_off);
  };
  for (int i = 0; i < 20; ++i) run(100, 0);
  q.Push(2, 20, "b");
  EXPECT_EQ(q.Backlog(2), 100);
  q.Pop();
  q.Done(2, 20, 100'000);  // one stall among fast calls (the worker preempted, a GC): not counted
  q.Push(2, 20, "b");
  EXPECT_EQ(q.Backlog(2), 100);
  q.Pop();
  q.Done(2, 20, 100'000);  // slow again: a looping decoder stopped by its time limit, counts whole
  q.Push(2, 20, "b");
  EXPECT_EQ(q.Backlog(2), 100 - 100 / 8 + 100'000 / 8);
  q.Pop();
  q.Done(2, 20, 100);
  // A decoder cache churned on purpose pays its compile on every call: the average climbs to it.
  for (int i = 0; i < 40; ++i) run(50'000, 49'900);
  q.Push(2, 20, "b");
  EXPECT_GT(q.Backlog(2), 40'000);
  EXPECT_LE(q.Backlog(2), 50'000);
}

TEST(FairQueueTest, AFullQueueShedsTheNewestOfTheOrganisationWithTheMost) {
  Q q(1);
  EXPECT_FALSE(q.Largest());
  EXPECT_FALSE(q.DropNewest(1));
  q.Push(2, 20, "b1");
  q.Push(1, 10, "a1");
  q.Push(1, 10, "a2");
  q.Push(1, 11, "a3");
  ASSERT_EQ(q.Largest(), 1);
  EXPECT_EQ(q.DropNewest(1), "a3");
  ASSERT_EQ(q.Largest(), 1);  // two against one
  EXPECT_EQ(q.DropNewest(1), "a2");
  EXPECT_EQ(q.Largest(), 1);  // one each: the lower id
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.DropNewest(1), "a1");
  EXPECT_EQ(q.Largest(), 2);
  EXPECT_FALSE(q.DropNewest(1));
  auto t = q.Pop();  // organisation 1 left the turn when its last item went
  ASSERT_TRUE(t);
  EXPECT_EQ(t->item, "b1");
  EXPECT_FALSE(q.Pop());
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.Largest());
}

}  // namespace
}  // namespace bysans
