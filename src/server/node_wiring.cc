#include "server/node_wiring.h"

#include <unistd.h>

#include <array>
#include <string>

namespace bysans {

NodeCoordinatorOptions NodeOptionsOf(const Config& config, Random& random) {
  NodeCoordinatorOptions o;
  o.node_id = config.node_id;
  if (o.node_id.empty()) {
    std::array<char, 256> host{};
    if (::gethostname(host.data(), host.size() - 1) == 0 && host[0] != '\0') {
      o.node_id = host.data();
    } else {
      o.node_id = "bysans";
    }
  }
  std::array<unsigned char, 6> instance{};
  random.Fill(instance.data(), instance.size());
  o.instance = ToHex(instance.data(), instance.size());
  o.roles = {kHousekeepingRole, kGatewayRulesRole, kDataTargetsRole, kMqttIntegrationsRole};
  return o;
}

rules::RulePartitions RulePartitionsOf(const NodeCoordinator& node, RuleFeed& feed,
                                       const Clock& clock) {
  rules::RulePartitions p;
  p.feed = &feed;
  p.owned = [&node] { return node.OwnedPartitions(); };
  p.partition_of = [&node](Id device_id) { return node.PartitionOf(device_id); };
  p.generation = [&node] { return node.generation(); };
  p.gateway_rules = [&node] { return node.Holds(kGatewayRulesRole); };
  p.started_ms = clock.NowMs();
  return p;
}

}  // namespace bysans
