// The nodes' own leases in the LeaseStore (server/node_coordinator.h): each running node holds
// "node/<node id>" and renews it, so the leases under this prefix that have not expired are the
// nodes alive. Read by the rule partitions and the outbox claims (a dead node's rows are taken
// over), the re-decode jobs (a dead node's jobs are interrupted) and the PostgreSQL writers'
// share (store.writers divided among the nodes).
#pragma once

#include <string_view>

namespace bysans {

inline constexpr std::string_view kNodeLeasePrefix = "node/";

}  // namespace bysans
