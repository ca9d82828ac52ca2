// rules/feed_backlog.h: the rule feed's entries read by a partition's holder, taken by
// organisation in turn; a row acknowledged once, when all its entries were evaluated.
#include "rules/feed_backlog.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace bysans::rules {
namespace {

std::shared_ptr<const Device> DeviceOf(Id org, Id id) {
  auto d = std::make_shared<Device>();
  d->org_id = org;
  d->id = id;
  return d;
}

RuleFeedEntry Entry(int64_t row, Id org, Id device) {
  RuleFeedEntry e;
  e.id = row;
  e.partition = 3;
  e.device = DeviceOf(org, device);
  return e;
}

TEST(FeedBacklogTest, AnotherOrganisationGoesNextAfterOneCostlyEntry) {
  FeedBacklog b;
  std::vector<RuleFeedEntry> read;
  for (int i = 0; i < 5; ++i) read.push_back(Entry(10 + i, /*org=*/1, /*device=*/100));
  read.push_back(Entry(20, /*org=*/2, /*device=*/200));
  EXPECT_EQ(b.Add(std::move(read)), 6u);
  auto first = b.Next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->org, 1);
  b.Done(*first, 1'000'000, true);
  auto second = b.Next();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->org, 2) << "organisation 2 waited behind organisation 1's backlog";
  b.Done(*second, 1'000, true);
  EXPECT_EQ(b.TakeFinished(), (std::vector<int64_t>{10, 20}));
  EXPECT_TRUE(b.TakeFinished().empty());
}

TEST(FeedBacklogTest, ARowIsFinishedOnceAllItsEntriesAreDoneAndIsNotAddedTwice) {
  FeedBacklog b;
  std::vector<RuleFeedEntry> read = {Entry(7, 1, 100), Entry(7, 1, 101), Entry(8, 1, 100)};
  EXPECT_EQ(b.Add(read), 2u);
  EXPECT_EQ(b.rows(), 2u);
  // Read again while its entries wait: nothing added.
  EXPECT_EQ(b.Add(read), 0u);
  auto t = b.Next();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->entry.id, 7);
  b.Done(*t, 1, true);
  EXPECT_TRUE(b.TakeFinished().empty()) << "row 7 has an entry left";
  t = b.Next();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->entry.id, 7);
  b.Done(*t, 1, true);
  EXPECT_EQ(b.TakeFinished(), std::vector<int64_t>{7});
  t = b.Next();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->entry.id, 8);
  b.Done(*t, 1, true);
  EXPECT_FALSE(b.Next());
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.rows(), 0u);
}

TEST(FeedBacklogTest, ARowWithADroppedEntryIsNotAcknowledged) {
  FeedBacklog b;
  b.Add({Entry(5, 1, 100), Entry(5, 1, 101)});
  auto t = b.Next();
  b.Done(*t, 1, /*evaluated=*/false);  // its partition went to another node
  t = b.Next();
  b.Done(*t, 1, true);
  EXPECT_TRUE(b.TakeFinished().empty());
  EXPECT_EQ(b.rows(), 0u);
  // The row, read again by a later holder of the partition, is taken again.
  EXPECT_EQ(b.Add({Entry(5, 1, 100)}), 1u);
}

TEST(FeedBacklogTest, ADevicesEntriesStayInOrder) {
  FeedBacklog b;
  b.Add({Entry(1, 1, 100), Entry(2, 1, 100), Entry(3, 1, 100)});
  for (int64_t row : {1, 2, 3}) {
    auto t = b.Next();
    ASSERT_TRUE(t);
    EXPECT_EQ(t->entry.id, row);
    b.Done(*t, 1, true);
  }
  EXPECT_EQ(b.TakeFinished(), (std::vector<int64_t>{1, 2, 3}));
}

}  // namespace
}  // namespace bysans::rules
