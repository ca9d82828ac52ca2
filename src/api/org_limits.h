// What one organisation may have of the things that cost the shared server for as long as they
// exist: devices (their series, rules' state and caches), data targets (a delivery thread and a
// connection each), MQTT integrations (a client thread and a connection each), rules (evaluated
// on the one rules thread every tenant shares, for each reading of their scope), silences in force
// (every change reloads them all on that thread), dashboards, open-data datasets and applications
// (read whole: the datasets by the public catalog, for anyone; the applications by SensorThings'
// catalog of the organisation). Without limits
// one organisation's admin or editor could create them without end and grow, or (threads) crash,
// the server every tenant shares. The limits are the server's (`limits.*`, ApiContext::limits);
// a global admin gives an organisation its own limit of devices (`maxDevices`).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "api/common.h"
#include "store/lease_store.h"

namespace bysans::api {

// The devices organisation `o` may have: its own maxDevices, else limits.max_devices_per_org.
int64_t DeviceLimitOf(const ApiContext& ctx, const Organization& o);

// What one organisation may have of one kind, counted from the check to the creation it allows:
// while a caller keeps it, the organisation's other creations of that kind on this node wait at
// their check, so requests sent at the same moment cannot all pass one count (they did: a script
// ended past its limit by about the requests in flight). Keep it until the thing is stored.
// With several nodes on one database, the other nodes' creations wait too (a lock of the store
// across the nodes, taken after this node's own: one waiting thread per node at most).
class [[nodiscard]] LimitHold {
 public:
  LimitHold(std::unique_lock<std::mutex> lock, std::unique_ptr<NodesLock> nodes)
      : lock_(std::move(lock)), nodes_(std::move(nodes)) {}

 private:
  std::unique_lock<std::mutex> lock_;  // this node's (released last)
  std::unique_ptr<NodesLock> nodes_;   // the other nodes' (null with one node)
};

// Organisation `org_id`'s creations of `kind` (any fixed name) wait for this one while it is
// kept: for a limit counted outside this file (api/invitations.cc). kUnavailable when another
// node held it for seconds.
Result<LimitHold> HoldLimit(ApiContext& ctx, Id org_id, std::string_view kind);

// Each is kFailedPrecondition (409, saying the count and the limit) when organisation `org_id`
// has as many as it may; otherwise the hold to keep until the new one is stored.
Result<LimitHold> CheckDeviceLimit(ApiContext& ctx, Id org_id);
Result<LimitHold> CheckDataTargetLimit(ApiContext& ctx, Id org_id);
Result<LimitHold> CheckIntegrationLimit(ApiContext& ctx, Id org_id);
Result<LimitHold> CheckRuleLimit(ApiContext& ctx, Id org_id);
Result<LimitHold> CheckSilenceLimit(ApiContext& ctx, Id org_id);  // silences in force
Result<LimitHold> CheckDashboardLimit(ApiContext& ctx, Id org_id);
Result<LimitHold> CheckDatasetLimit(ApiContext& ctx, Id org_id);
Result<LimitHold> CheckApplicationLimit(ApiContext& ctx, Id org_id);

}  // namespace bysans::api
