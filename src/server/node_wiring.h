// How the server hands its work out among several nodes (issue 19, docs/SCALE.md): the node's
// coordinator options from the configuration, and the rules runtime's view of the partitions
// this node holds.
#pragma once

#include "config/config.h"
#include "core/clock.h"
#include "core/random.h"
#include "rules/service.h"
#include "server/node_coordinator.h"
#include "store/rule_feed.h"

namespace bysans {

// The roles one node at a time holds (server/node_coordinator.h).
inline constexpr const char* kHousekeepingRole = "housekeeping";
inline constexpr const char* kGatewayRulesRole = "gateway-rules";
inline constexpr const char* kDataTargetsRole = "data-targets";
inline constexpr const char* kMqttIntegrationsRole = "mqtt-integrations";

// node.id (or the host name), a random instance, the roles above.
NodeCoordinatorOptions NodeOptionsOf(const Config& config, Random& random);

// The rules of the partitions `node` holds, read from `feed`.
rules::RulePartitions RulePartitionsOf(const NodeCoordinator& node, RuleFeed& feed,
                                       const Clock& clock);

}  // namespace bysans
