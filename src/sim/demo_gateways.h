// The demo's LoRaWAN gateways (issue 20, gateway health): two gateways in Aarhus that carry the
// demo's LoRaWAN uplinks, so that `make run` shows the gateway screens with data at once. A fresh
// demo gets 30 days of history (both online since then, one outage of the second gateway three
// days ago, packet counts per hour for the last week and per day before it); while it runs the
// simulator publishes each gateway's ChirpStack v4 state/conn and event/stats messages on
// bysans' broker, as a local ChirpStack does.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "model/model.h"
#include "store/gateway_store.h"

namespace bysans::sim {

struct DemoGateway {
  const char* id;  // 16 lower-case hexadecimal characters
  double latitude;
  double longitude;
  double altitude;
};

std::span<const DemoGateway> DemoGateways();

// The gateway that carries the uplinks of the device with this id.
const DemoGateway& GatewayOfDevice(Id device_id);

// Records the 30 days of history described above for the organisation, ending at `now`.
Status SeedDemoGatewayHistory(GatewayStore& store, Id org_id, TimeMs now);

// ChirpStack v4 gateway events: the topics and the JSON (protojson field names).
std::string GatewayConnTopic(const DemoGateway& g);
std::string GatewayStatsTopic(const DemoGateway& g);
std::string GatewayConnJson(const DemoGateway& g, bool online);
// `rx` packets received (all of them OK) and `tx` sent since the last stats, at `now`.
std::string GatewayStatsJson(const DemoGateway& g, TimeMs now, int64_t rx, int64_t tx);

}  // namespace bysans::sim
