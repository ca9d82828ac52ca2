// POST/GET /api/v1/devices/{id}/downlink: downlinks to LoRaWAN (via ChirpStack's
// command/down topic) and MQTT devices (devices/{id}/down), queued for HTTP devices until their
// next CoAP uplink's answer, with a history per device. A
// downlink is given as bytes (`data` base64 or `hex`) or as an `object` that the device's
// decoder (its own, else its application's) encodes with its encodeDownlink on the routes' own
// decode thread, under the organisation's decoder time limit.
// SendDownlink() is the same logic for other callers (e.g. rule actions).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "api/context.h"
#include "store/mqtt_store.h"

namespace bysans::api {

// Publishes with QoS 1 through bysans' own MQTT client; `done` runs on the broker's PUBACK or
// a failure (same shape as act::MqttPublisher).
using DownlinkPublisher = std::function<Status(std::string topic, std::string payload,
                                               std::function<void(const Status&)> done)>;

// The same through the MQTT connection `integration_id` (0 = bysans' own client; else a
// ChirpStack integration of the device's organisation, store/mqtt_store.h). Registered by
// server/ (mqtt::MqttService::PublishVia).
using RoutedPublisher =
    std::function<Status(Id integration_id, std::string topic, std::string payload,
                         std::function<void(const Status&)> done)>;

// Validates a downlink for `device`, appends it to the device's downlink history (status
// "queued", later "published" or "failed") and publishes it: LoRaWAN devices (fPort required,
// 1..223) through the connection that last delivered their uplink (kNotFound before the first
// uplink), MQTT devices (fPort optional, 0..255) on devices/{id}/down; HTTP devices (fPort
// optional, 0..255, kept in the history only): queued with topic kCoapDownlinkTopic until the
// answer to the device's next CoAP uplink carries it (coap/README.md), `done` runs at once.
// `done` (may be empty) runs after the history is updated with the broker's answer. `object_json`
// (may be empty) is the object the bytes were encoded from, kept in the history. Does not check
// roles. Thread-safe.
Result<Downlink> SendDownlink(Store& store, const Clock& clock, const Device& device,
                              std::optional<int64_t> fport, std::string data, bool confirmed,
                              const RoutedPublisher& publish,
                              const std::function<void(const Status&)>& done,
                              std::string object_json = {});

// Returns the routes' stop: call it after the HTTP server stopped and before `publish`'s
// connection goes; it finishes the object encodes in flight and refuses the rest (503).
std::function<void()> RegisterDownlinkRoutes(http::Router& router, ApiContext& ctx,
                                             const RoutedPublisher& publish);

}  // namespace bysans::api
