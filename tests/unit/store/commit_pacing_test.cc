// Group-commit pacing (SqliteOptions::group_commit_interval_us): paced batches (an MQTT
// stream) wait for the interval after the previous commit to share a commit; an unpaced one
// (a caller waits: HTTP) ends the wait at once, and an idle writer does not wait.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "unit/store/temp_store.h"

namespace bysans {
namespace {

class CommitPacingTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    commit_interval_us_ = 60'000'000;  // a minute: a held batch is visibly held
    Open();
  }

  static std::shared_ptr<IngestBatch> Batch(bool paced, TimeMs t) {
    auto b = std::make_shared<IngestBatch>();
    b->messages.push_back(testing::JsonMessage(7, t, "{}"));
    b->paced = paced;
    return b;
  }
};

TEST_F(CommitPacingTest, APacedBatchWaitsForTheIntervalAndAnUnpacedOneEndsTheWait) {
  // The writer was idle: the first paced batch commits at once.
  std::promise<Status> first;
  store_->AppendShared(Batch(true, 1), [&](Status s) { first.set_value(s); });
  auto f1 = first.get_future();
  ASSERT_EQ(f1.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_TRUE(f1.get().ok());

  // The next paced batch is held for the interval...
  std::promise<Status> second;
  store_->AppendShared(Batch(true, 2), [&](Status s) { second.set_value(s); });
  auto f2 = second.get_future();
  EXPECT_EQ(f2.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);

  // ... until a batch someone waits for arrives: both commit now, not in a minute.
  std::promise<Status> third;
  store_->AppendShared(Batch(false, 3), [&](Status s) { third.set_value(s); });
  auto f3 = third.get_future();
  ASSERT_EQ(f3.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  ASSERT_EQ(f2.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_TRUE(f2.get().ok());
  EXPECT_TRUE(f3.get().ok());

  MessageQuery q;
  q.device_id = 7;
  auto stored = store_->QueryMessages(q);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->size(), 3u);
}

TEST_F(CommitPacingTest, ClosingEndsTheWaitAndCommitsTheHeldBatch) {
  std::promise<Status> first, second;
  store_->AppendShared(Batch(true, 1), [&](Status s) { first.set_value(s); });
  ASSERT_TRUE(first.get_future().get().ok());
  store_->AppendShared(Batch(true, 2), [&](Status s) { second.set_value(s); });
  auto f2 = second.get_future();
  store_->Close();  // returns once the writer drained: well before the minute
  ASSERT_EQ(f2.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_TRUE(f2.get().ok());
}

}  // namespace
}  // namespace bysans
