// LeaseStore (store/lease_store.h) on both backends, and NodeCoordinator (server/
// node_coordinator.h) with several "nodes" on one store: on PostgreSQL they are what several
// bysans processes on one database share; on SQLite one process's leases.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "server/node_coordinator.h"
#include "store/postgres/pg_lease_store.h"
#include "store/postgres/pool_handle.h"
#include "unit/store_postgres/store_backend_fixture.h"

namespace bysans::testing {
namespace {

class LeaseBackendTest : public StoreBackendTest {
 protected:
  // Lets `ms` pass for both backends: the SQLite leases follow the test's clock, PostgreSQL's
  // the database server's.
  void Pass(TimeMs ms) {
    clock_.Advance(ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
  std::unique_ptr<NodeCoordinator> Node(const std::string& id, TimeMs ttl_ms = 60'000) {
    NodeCoordinatorOptions o;
    o.node_id = id;
    o.instance = "1";
    o.lease_ttl_ms = ttl_ms;
    o.renew_ms = 3'600'000;  // rounds are run by the test
    o.partitions = 16;
    o.roles = {"housekeeping", "gateway-rules"};
    return std::make_unique<NodeCoordinator>(store_->leases(), clock_, o);
  }
  // Every partition held by exactly one of `nodes`.
  static void ExpectPartitionsSplit(const std::vector<NodeCoordinator*>& nodes) {
    std::vector<int> holders(16, 0);
    for (const NodeCoordinator* n : nodes)
      for (int p : n->OwnedPartitions()) ++holders[p];
    for (int p = 0; p < 16; ++p) EXPECT_EQ(holders[p], 1) << "partition " << p;
  }
};

TEST_P(LeaseBackendTest, OneHolderAtATimeUntilReleasedOrExpired) {
  LeaseStore& leases = store_->leases();
  ASSERT_TRUE(*leases.AcquireLease("role/x", "a", 60'000));
  EXPECT_FALSE(*leases.AcquireLease("role/x", "b", 60'000)) << "a still holds it";
  EXPECT_TRUE(*leases.AcquireLease("role/x", "a", 60'000)) << "renewed by its holder";
  ASSERT_TRUE(leases.ReleaseLease("role/x", "b").ok());  // not b's: nothing happens
  EXPECT_FALSE(*leases.AcquireLease("role/x", "b", 60'000));
  ASSERT_TRUE(leases.ReleaseLease("role/x", "a").ok());
  EXPECT_TRUE(*leases.AcquireLease("role/x", "b", 300)) << "free after the release";
  EXPECT_FALSE(*leases.AcquireLease("role/x", "a", 60'000));
  Pass(400);
  EXPECT_TRUE(*leases.AcquireLease("role/x", "a", 60'000)) << "b's lease expired";
}

TEST_P(LeaseBackendTest, ListsRunningLeasesByPrefix) {
  LeaseStore& leases = store_->leases();
  ASSERT_TRUE(*leases.AcquireLease("node/b", "b", 60'000));
  ASSERT_TRUE(*leases.AcquireLease("node/a", "a", 60'000));
  ASSERT_TRUE(*leases.AcquireLease("node/c", "c", 300));
  ASSERT_TRUE(*leases.AcquireLease("nodes", "x", 60'000));
  ASSERT_TRUE(*leases.AcquireLease("rules/1", "a", 60'000));
  Pass(400);
  auto nodes = leases.ListLeases("node/");
  ASSERT_TRUE(nodes.ok()) << nodes.status().message();
  ASSERT_EQ(nodes->size(), 2u) << "node/c expired; nodes and rules/1 do not match";
  EXPECT_EQ((*nodes)[0].name, "node/a");
  EXPECT_EQ((*nodes)[0].holder, "a");
  EXPECT_EQ((*nodes)[1].name, "node/b");
  EXPECT_GT((*nodes)[1].expires_in_ms, 50'000);
  EXPECT_LE((*nodes)[1].expires_in_ms, 60'000);
  // A prefix is text, not a pattern.
  ASSERT_TRUE(*leases.AcquireLease("a_b", "a", 60'000));
  EXPECT_EQ(leases.ListLeases("a%")->size(), 0u);
  EXPECT_EQ(leases.ListLeases("a_")->size(), 1u);
}

// The leases whose holder stopped renewing (mqtt/session_rescue.h drains such a node's MQTT
// session): listed on PostgreSQL until taken or given up; none on SQLite, where one process holds
// every lease.
TEST_P(LeaseBackendTest, ListsExpiredLeasesOfHoldersThatStoppedRenewing) {
  LeaseStore& leases = store_->leases();
  ASSERT_TRUE(*leases.AcquireLease("mqtt-session/node-a", "a#1", 300));
  ASSERT_TRUE(*leases.AcquireLease("mqtt-session/node-b", "b#1", 60'000));
  ASSERT_TRUE(*leases.AcquireLease("node/a", "a#1", 300));
  EXPECT_TRUE(leases.ListExpiredLeases("mqtt-session/")->empty()) << "all still running";
  Pass(400);
  auto expired = leases.ListExpiredLeases("mqtt-session/");
  ASSERT_TRUE(expired.ok()) << expired.status().message();
  if (GetParam() == "sqlite") {
    EXPECT_TRUE(expired->empty());
    return;
  }
  ASSERT_EQ(expired->size(), 1u) << "node/a does not match; node-b still runs";
  EXPECT_EQ((*expired)[0].name, "mqtt-session/node-a");
  EXPECT_EQ((*expired)[0].holder, "a#1");
  EXPECT_LT((*expired)[0].expires_in_ms, 0);
  ASSERT_TRUE(*leases.AcquireLease("mqtt-session/node-a", "b#1", 60'000));
  EXPECT_TRUE(leases.ListExpiredLeases("mqtt-session/")->empty()) << "taken by b";
  ASSERT_TRUE(leases.ReleaseLease("mqtt-session/node-a", "b#1").ok());
  EXPECT_TRUE(leases.ListExpiredLeases("mqtt-session/")->empty()) << "given up: gone";
}

TEST_P(LeaseBackendTest, RefusesAnEmptyNameHolderOrTtl) {
  EXPECT_EQ(store_->leases().AcquireLease("", "a", 1000).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->leases().AcquireLease("x", "", 1000).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->leases().AcquireLease("x", "a", 0).status().code(), Code::kInvalidArgument);
}

TEST_P(LeaseBackendTest, ManyAskingAtOnceOneIsGranted) {
  for (int round = 0; round < 10; ++round) {
    const std::string name = "role/race-" + std::to_string(round);
    std::vector<std::thread> threads;
    std::atomic<int> granted{0}, failed{0};
    for (int t = 0; t < 6; ++t) {
      threads.emplace_back([&, t] {
        auto r = store_->leases().AcquireLease(name, "node-" + std::to_string(t), 60'000);
        if (!r.ok())
          ++failed;
        else if (*r)
          ++granted;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failed.load(), 0);
    EXPECT_EQ(granted.load(), 1) << name;
  }
}

// LockAcrossNodes: where the process is alone (SQLite) there is no other node and the lock is
// null; on PostgreSQL a second node (its own pool of connections to the database) waits for the
// first's lock and no longer, another name is not held up, a node that waited 5 s gets "try
// again", and a node whose connection dies gives the lock up with it.
TEST_P(LeaseBackendTest, LockAcrossNodesHoldsTheOtherNodesAndOnlyThem) {
  auto mine = store_->leases().LockAcrossNodes("limits/1/devices");
  ASSERT_TRUE(mine.ok()) << mine.status().message();
  if (!postgres()) {
    EXPECT_EQ(*mine, nullptr);
    return;
  }
  ASSERT_NE(*mine, nullptr);
  std::shared_ptr<pg::Pool> pool = pg::NewPool(url_, 2);
  std::unique_ptr<LeaseStore> other = pg::NewPostgresLeaseStore(*pool);
  auto elsewhere = other->LockAcrossNodes("limits/2/devices");
  ASSERT_TRUE(elsewhere.ok()) << "another name is another lock";
  elsewhere->reset();

  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto theirs = other->LockAcrossNodes("limits/1/devices");
    EXPECT_TRUE(theirs.ok()) << theirs.status().message();
    got = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_FALSE(got.load()) << "the other node took a lock this one holds";
  mine->reset();  // given up: the other node's wait ends
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (!got.load() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(got.load()) << "the other node still waits after the release";
  waiter.join();

  // Held for longer than the wait: "try again", not a wait without end.
  auto held = store_->leases().LockAcrossNodes("limits/3/rules");
  ASSERT_TRUE(held.ok());
  const auto asked = std::chrono::steady_clock::now();
  auto late = other->LockAcrossNodes("limits/3/rules");
  EXPECT_EQ(late.status().code(), Code::kUnavailable) << late.status().message();
  EXPECT_GE(std::chrono::steady_clock::now() - asked, std::chrono::seconds(4));

  // The holder's session ends (its node died): the lock is free, and the dead holder's own
  // release later is harmless.
  auto killed = SharedPostgres::Get()->Query(
      url_.substr(url_.rfind('/') + 1),
      "SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l JOIN pg_database d "
      "ON d.oid = l.database WHERE l.locktype = 'advisory' AND l.granted AND "
      "d.datname = current_database() AND l.objid = hashtext('limits/3/rules')::oid");
  ASSERT_TRUE(killed.ok()) << killed.status().message();
  EXPECT_EQ(*killed, "1");
  auto after = other->LockAcrossNodes("limits/3/rules");
  EXPECT_TRUE(after.ok()) << after.status().message();
  held->reset();
}

TEST_P(LeaseBackendTest, OneNodeHoldsEveryRoleAndPartition) {
  auto a = Node("a");
  ASSERT_TRUE(a->Start().ok());
  EXPECT_TRUE(a->Holds("housekeeping"));
  EXPECT_TRUE(a->Holds("gateway-rules"));
  EXPECT_FALSE(a->Holds("something-else"));
  EXPECT_EQ(a->OwnedPartitions().size(), 16u);
  EXPECT_TRUE(a->OwnsDevice(12345));
  a->Stop();
  EXPECT_FALSE(a->Holds("housekeeping"));
  EXPECT_TRUE(store_->leases().ListLeases("")->empty()) << "a clean stop gives everything up";
}

TEST_P(LeaseBackendTest, NodesSplitThePartitionsAndOneHoldsEachRole) {
  auto a = Node("a"), b = Node("b"), c = Node("c");
  ASSERT_TRUE(a->RunRound().ok());
  EXPECT_EQ(a->OwnedPartitions().size(), 16u);
  // b and c join; a gives up what is above its share, the others take it.
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(b->RunRound().ok());
    ASSERT_TRUE(c->RunRound().ok());
    ASSERT_TRUE(a->RunRound().ok());
  }
  ExpectPartitionsSplit({a.get(), b.get(), c.get()});
  for (auto* n : {a.get(), b.get(), c.get()}) {
    EXPECT_GE(n->OwnedPartitions().size(), 4u) << n->node_id();
    EXPECT_LE(n->OwnedPartitions().size(), 6u) << n->node_id();
  }
  EXPECT_EQ(a->Holds("housekeeping") + b->Holds("housekeeping") + c->Holds("housekeeping"), 1);
  EXPECT_TRUE(a->Holds("housekeeping")) << "the first keeps its roles while it renews";
  // Each device is owned by exactly one node.
  for (Id device = 1; device <= 100; ++device)
    EXPECT_EQ(a->OwnsDevice(device) + b->OwnsDevice(device) + c->OwnsDevice(device), 1);
}

TEST_P(LeaseBackendTest, ADeadNodesWorkIsTakenOverAfterItsLeasesExpire) {
  auto a = Node("a", 500), b = Node("b", 500);
  ASSERT_TRUE(a->RunRound().ok());
  ASSERT_TRUE(b->RunRound().ok());
  ASSERT_TRUE(a->RunRound().ok());
  ASSERT_TRUE(b->RunRound().ok());
  ExpectPartitionsSplit({a.get(), b.get()});
  ASSERT_TRUE(a->Holds("housekeeping"));
  const uint64_t generation = b->generation();
  // a dies: it stops renewing (no release). Before its leases end, b takes nothing of it.
  ASSERT_TRUE(b->RunRound().ok());
  EXPECT_FALSE(b->Holds("housekeeping"));
  EXPECT_EQ(b->OwnedPartitions().size(), 8u);
  Pass(600);
  if (store_->leases().shared()) {  // SQLite's leases are one process's: no local deadline
    EXPECT_FALSE(a->Holds("housekeeping")) << "past its local deadline a stops on its own";
    EXPECT_TRUE(a->OwnedPartitions().empty());
  }
  ASSERT_TRUE(b->RunRound().ok());
  EXPECT_TRUE(b->Holds("housekeeping"));
  EXPECT_TRUE(b->Holds("gateway-rules"));
  EXPECT_EQ(b->OwnedPartitions().size(), 16u);
  EXPECT_GT(b->generation(), generation);
  // The dead node's late clean-up gives up nothing that is b's now.
  a.reset();
  ASSERT_TRUE(b->RunRound().ok());
  EXPECT_EQ(b->OwnedPartitions().size(), 16u);
  EXPECT_TRUE(b->Holds("housekeeping"));
}

TEST_P(LeaseBackendTest, ASecondProcessWithTheSameNodeIdWaitsHoldingNothing) {
  auto first = Node("same");
  ASSERT_TRUE(first->RunRound().ok());
  NodeCoordinatorOptions o;
  o.node_id = "same";
  o.instance = "2";
  o.renew_ms = 3'600'000;
  o.roles = {"housekeeping"};
  NodeCoordinator second(store_->leases(), clock_, o);
  Status st = second.RunRound();
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
  EXPECT_NE(st.message().find("node.id"), std::string::npos) << st.message();
  EXPECT_FALSE(second.Holds("housekeeping"));
  EXPECT_TRUE(second.OwnedPartitions().empty());
  EXPECT_TRUE(second.Start().ok()) << "Start waits instead of failing the server";
  second.Stop();
  EXPECT_TRUE(first->Holds("housekeeping"));
}

BYSANS_STORE_ON_BOTH_BACKENDS(LeaseBackendTest);

}  // namespace
}  // namespace bysans::testing
