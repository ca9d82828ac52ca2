// NodeCoordinator (issue 19, several nodes): which work this node does, through leases in the
// shared store (store/lease_store.h).
// - Heartbeat: the lease "node/<id>", renewed every renew_ms; the nodes alive are the holders of
//   running "node/" leases.
// - Roles: work that must run once among the nodes (retention and audit housekeeping, gateway
//   rules, ...): the lease "role/<name>"; the first node to ask gets it, and keeps it while it
//   renews. A node that dies stops renewing; another takes the role within lease_ttl_ms +
//   renew_ms.
// - Rule partitions: the devices' rules are split into `partitions` by device id; each partition
//   is the lease "rules/<n>". Every node aims at its share, ceil(partitions / nodes alive): it
//   takes free or expired partitions up to its share and gives up those above it (a node that
//   joins gets its share from the others within a few rounds).
// A lease counts as held only until its local deadline — the time of the request that granted
// it plus lease_ttl_ms minus a quarter of it — so a node that stalls (a long pause, a lost
// database) stops working before another node may take over; the store judges expiry by its own
// clock from the moment of the statement, later than that request began.
// On SQLite the store's leases are in the process (one server per database): the one node holds
// every role and partition from Start on, with no local deadline (nobody else can take them).
// Thread-safe. Callbacks run on the coordinator's thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "model/model.h"
#include "store/lease_store.h"

namespace bysans {

struct NodeCoordinatorOptions {
  std::string node_id;  // unique among the nodes of one database (config node.id)
  // This process among those that ran with node_id (e.g. random hex): leases are held by
  // "<node_id>#<instance>", so a second process started with the same node id is told apart
  // and waits instead of sharing the first one's work.
  std::string instance;
  TimeMs lease_ttl_ms = 6000;  // a dead node's work is taken over within ttl + renew_ms
  TimeMs renew_ms = 2000;
  int partitions = 16;             // rule partitions; every node of one database must agree
  std::vector<std::string> roles;  // the once-only work this node competes for
};

class NodeCoordinator {
 public:
  NodeCoordinator(LeaseStore& leases, const Clock& clock, NodeCoordinatorOptions options);
  ~NodeCoordinator();  // Stop()
  NodeCoordinator(const NodeCoordinator&) = delete;
  NodeCoordinator& operator=(const NodeCoordinator&) = delete;

  // Runs a first round (so a single node holds everything when Start returns), then renews on
  // its thread. An error of the first round is returned when the store is unreachable; when
  // another process holds this node id (a second node with the same node.id, or this node's
  // previous process, until its leases expire) it is logged and the node waits, holding nothing.
  Status Start();
  // Stops renewing and gives every lease up, so the other nodes take the work over at once.
  // give_up = false: only stops renewing, as a process that dies does (the leases run out by
  // themselves; tests of a node's death use it).
  void Stop(bool give_up = true);
  // One round: heartbeat, roles, partitions. Start's thread calls it; tests call it directly.
  Status RunRound();

  const std::string& node_id() const { return opts_.node_id; }
  const std::string& holder() const { return holder_; }  // "<node_id>#<instance>"
  // Whether this node holds the role now (by its local deadline).
  bool Holds(std::string_view role) const;
  int partitions() const { return opts_.partitions; }
  int PartitionOf(Id device_id) const;
  bool OwnsPartition(int partition) const;
  bool OwnsDevice(Id device_id) const { return OwnsPartition(PartitionOf(device_id)); }
  std::vector<int> OwnedPartitions() const;
  // Bumped whenever what this node holds changed (a role or partition gained or lost).
  uint64_t generation() const { return generation_.load(); }
  // Called after a round that changed what this node holds.
  void OnChange(std::function<void()> callback);

 private:
  struct Held {
    TimeMs valid_until_ms = 0;  // local deadline
  };
  // Takes or renews `name`; records it in held_ (or erases it). Returns whether it is held.
  Result<bool> Renew(const std::string& name);
  bool HeldNow(const std::string& name) const;  // mu_ held
  Status BalancePartitions();

  LeaseStore& leases_;
  const Clock& clock_;
  NodeCoordinatorOptions opts_;
  std::string holder_;
  mutable std::mutex mu_;
  std::map<std::string, Held> held_;  // lease name → local deadline
  std::vector<std::function<void()>> callbacks_;
  std::atomic<uint64_t> generation_{0};
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace bysans
