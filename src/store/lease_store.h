// Leases (issue 19, several nodes): which bysans node does a piece of work that must run once
// among the nodes sharing one database — a scheduler (retention, gateway rules) or a partition
// of the devices' rules. A node takes a lease for a time to live and renews it well before the
// end; a node that dies stops renewing, and another node takes the lease once it has expired.
//
// Expiry is judged by the store's clock (PostgreSQL: the database server's), so the nodes' own
// clocks need not agree. A holder must treat a lease as lost before its end by its own monotonic
// clock (server/node_coordinator.h does), so a paused node never works on past its lease.
//
// On SQLite one process holds the database (one server per data directory), so its leases live
// in that process (store/in_process_leases.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans {

struct Lease {
  std::string name;          // e.g. "node/<id>", "role/housekeeping", "rules/7"
  std::string holder;        // the node id
  TimeMs expires_in_ms = 0;  // from the moment of the listing, by the store's clock
};

// A lock that every node sharing the store waits for (LeaseStore::LockAcrossNodes), held until
// this is destroyed; a node that dies holding one gives it up with its database session.
class NodesLock {
 public:
  virtual ~NodesLock() = default;
};

class LeaseStore {
 public:
  virtual ~LeaseStore() = default;
  // Takes `name` for `holder` until ttl_ms from now, or renews it when `holder` has it. Granted
  // (true) when nobody holds it, its holder's time ran out, or `holder` holds it; false when
  // another holder's lease is still running. Two nodes asking at once: one is granted.
  virtual Result<bool> AcquireLease(const std::string& name, const std::string& holder,
                                    TimeMs ttl_ms) = 0;
  // Gives `name` up if `holder` holds it (nothing otherwise), so another node may take it at once.
  virtual Status ReleaseLease(const std::string& name, const std::string& holder) = 0;
  // The running leases whose name starts with `prefix`, by name.
  virtual Result<std::vector<Lease>> ListLeases(const std::string& prefix) = 0;
  // The leases whose name starts with `prefix` that ran out and were never given up (their
  // holder died or stopped renewing), by name; expires_in_ms is how long ago they ran out, as a
  // negative number. None where this process is alone (nobody else's lease can run out).
  virtual Result<std::vector<Lease>> ListExpiredLeases(const std::string& prefix) {
    (void)prefix;
    return std::vector<Lease>{};
  }
  // Waits (a few seconds at most, then kUnavailable) until no other node holds the lock `name`,
  // and holds it until the result is destroyed: for what a node counts and then creates, so that
  // two nodes cannot both pass one count (api/org_limits.h). Where this process is alone,
  // nothing (a null lock: its callers order their own threads themselves).
  virtual Result<std::unique_ptr<NodesLock>> LockAcrossNodes(const std::string& name) {
    (void)name;
    return std::unique_ptr<NodesLock>();
  }
  // Whether other processes take leases here too (false: this process is alone, a lease it
  // holds cannot be taken while it renews, however late).
  virtual bool shared() const { return true; }
};

}  // namespace bysans
