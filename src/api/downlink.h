// POST/GET /api/v1/devices/{id}/downlink: downlinks to LoRaWAN (via ChirpStack's
// command/down topic) and MQTT devices (devices/{id}/down), with a history per device.
#pragma once

#include <functional>
#include <string>

#include "api/context.h"

namespace bysans::api {

// Publishes with QoS 1; `done` runs on the broker's PUBACK or a failure. Registered by
// server/ with bysans' MQTT client.
using DownlinkPublisher = std::function<Status(std::string topic, std::string payload,
                                               std::function<void(const Status&)> done)>;

void RegisterDownlinkRoutes(http::Router& router, ApiContext& ctx, DownlinkPublisher publish);

}  // namespace bysans::api
