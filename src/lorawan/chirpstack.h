// ChirpStack v4 MQTT integration events (JSON, protojson field names) →
// plain structs. Parses untrusted input: every error is a Status naming the
// field; nothing here touches the store.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/encoding.h"  // DecodeBase64 of the uplink `data`
#include "core/status.h"

namespace bysans::lorawan {

enum class EventType { kUp, kStatus, kJoin, kAck, kTxAck, kOther };
const char* EventTypeName(EventType t);

// The parts of a topic "application/{applicationId}/device/{devEui}/event/{type}".
struct EventTopic {
  std::string application_id;
  std::string dev_eui;  // lower-case
  EventType type = EventType::kOther;
  std::string type_name;
};
// kInvalidArgument when the topic does not have that shape.
Result<EventTopic> ParseEventTopic(std::string_view topic);

struct GatewayRx {
  std::string gateway_id;
  std::optional<double> rssi;
  std::optional<double> snr;
};

struct ChirpstackEvent {
  EventType type = EventType::kOther;
  std::string dev_eui;  // from deviceInfo.devEui (lower-case), else the topic's
  std::string application_id;
  std::string deduplication_id;    // may be empty (txack carries downlinkId instead)
  std::optional<int64_t> time_ms;  // "time" (RFC 3339)
  // up
  std::optional<int64_t> fcnt;
  int fport = 0;
  std::optional<int64_t> dr;
  std::string frame;  // base64-decoded "data"
  std::vector<GatewayRx> gateways;
  // status
  std::optional<double> battery_level;  // percent; absent when unavailable
  std::optional<int64_t> margin;
};

// Parses one event payload published on `topic`. Errors (kInvalidArgument):
// not JSON, not an object, a field of the wrong type, "data" that is not
// base64, a DevEUI that is not 16 hex characters.
Result<ChirpstackEvent> ParseEvent(const EventTopic& topic, std::string_view payload);

// ParseEvent with a parser kept between events (simdjson's buffers; nlohmann only for a
// document simdjson refuses). One thread at a time.
class EventParser {
 public:
  EventParser();
  ~EventParser();
  EventParser(const EventParser&) = delete;
  EventParser& operator=(const EventParser&) = delete;
  Result<ChirpstackEvent> Parse(const EventTopic& topic, std::string_view payload);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The best gateway: highest RSSI, then highest SNR; nullptr when none reported.
const GatewayRx* BestGateway(const ChirpstackEvent& e);

}  // namespace bysans::lorawan
