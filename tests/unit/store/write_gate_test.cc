// The write gate (store/sqlite/write_gate.h): write transactions of connections
// that share a gate take turns in process (first come, first served; bulk work
// only when nobody else waits), and an auto-commit write that meets SQLITE_BUSY
// is released by the holder's commit.
#include "store/sqlite/write_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/db.h"
#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using sqlite::Db;
using sqlite::Txn;
using sqlite::WriteGate;
using namespace std::chrono_literals;

class WriteGateTest : public ::testing::Test {
 protected:
  std::unique_ptr<Db> Open() {
    auto db = Db::Open(dir_.path() + "/gate.db", 1024, &gate_);
    EXPECT_TRUE(db.ok()) << db.status().message();
    return db.ok() ? std::move(*db) : nullptr;
  }
  int64_t Count(Db& db) {
    auto st = db.Prepare("SELECT count(*) FROM t");
    EXPECT_TRUE(st.ok());
    EXPECT_TRUE((*st)->Step());
    return (*st)->Int(0);
  }
  testing::TempDir dir_;
  WriteGate gate_;
};

TEST_F(WriteGateTest, WriteTransactionsOfTwoConnectionsTakeTurns) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Exec("CREATE TABLE t(x INTEGER)").ok());
  auto held = std::make_unique<Txn>(*a, true);
  ASSERT_TRUE(held->begin_status().ok());
  ASSERT_TRUE(a->Exec("INSERT INTO t VALUES(1)").ok());
  std::atomic<bool> b_began{false};
  auto second = std::async(std::launch::async, [&] {
    Txn txn(*b, true);
    b_began = true;
    if (!txn.begin_status().ok()) return txn.begin_status();
    if (Status s = b->Exec("INSERT INTO t VALUES(2)"); !s.ok()) return s;
    return txn.Commit();
  });
  // b waits for the gate, not in SQLite: it has not begun while a holds it.
  EXPECT_EQ(second.wait_for(200ms), std::future_status::timeout);
  EXPECT_FALSE(b_began);
  ASSERT_TRUE(held->Commit().ok());
  held.reset();
  ASSERT_EQ(second.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(second.get().ok());
  EXPECT_EQ(Count(*a), 2);
}

TEST_F(WriteGateTest, InOrderRequestsAreServedFirstComeFirstServed) {
  using sqlite::WriteTurn;
  gate_.Lock(WriteTurn::kInOrder);
  std::atomic<int> served{0};
  int turn[3] = {0, 0, 0};
  std::vector<std::thread> waiting;
  for (int i = 0; i < 3; ++i) {
    waiting.emplace_back([&, i] {
      gate_.Lock(WriteTurn::kInOrder);
      turn[i] = ++served;
      gate_.Unlock();
    });
    // The next one asks only after this one waits.
    while (gate_.in_order_waiting() < i + 1) std::this_thread::sleep_for(1ms);
  }
  gate_.Unlock();
  for (auto& t : waiting) t.join();
  EXPECT_EQ(turn[0], 1);
  EXPECT_EQ(turn[1], 2);
  EXPECT_EQ(turn[2], 3);
}

TEST_F(WriteGateTest, WhenIdleRequestGoesAfterALaterInOrderOne) {
  using sqlite::WriteTurn;
  gate_.Lock(WriteTurn::kInOrder);
  std::atomic<int> served{0};
  std::atomic<int> bulk_turn{0}, short_turn{0};
  std::thread bulk([&] {
    gate_.Lock(WriteTurn::kWhenIdle);
    bulk_turn = ++served;
    gate_.Unlock();
  });
  std::this_thread::sleep_for(50ms);  // the bulk request waits first
  std::thread short_txn([&] {
    gate_.Lock(WriteTurn::kInOrder);
    short_turn = ++served;
    std::this_thread::sleep_for(20ms);
    gate_.Unlock();
  });
  while (gate_.in_order_waiting() == 0) std::this_thread::sleep_for(1ms);
  gate_.Unlock();
  bulk.join();
  short_txn.join();
  EXPECT_EQ(short_turn, 1);
  EXPECT_EQ(bulk_turn, 2);
}

TEST_F(WriteGateTest, AutoCommitWriteThatMeetsBusyIsReleasedByTheCommit) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Exec("CREATE TABLE t(x INTEGER)").ok());
  // SQLite's lock held without the gate, as another process would hold it.
  ASSERT_TRUE(a->Exec("BEGIN IMMEDIATE").ok());
  auto blocked = std::async(std::launch::async, [&] { return b->Exec("INSERT INTO t VALUES(2)"); });
  EXPECT_EQ(blocked.wait_for(200ms), std::future_status::timeout);
  ASSERT_TRUE(a->Exec("INSERT INTO t VALUES(1)").ok());
  ASSERT_TRUE(a->Exec("COMMIT").ok());
  ASSERT_EQ(blocked.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(blocked.get().ok());
  EXPECT_EQ(Count(*a), 2);
}

}  // namespace
}  // namespace bysans
