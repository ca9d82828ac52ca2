// ChirpStack v4 gateway events (JSON, protojson field names) → plain structs: the topics
// "{regionPrefix}/gateway/{gatewayId}/state/conn" (ConnState) and
// "{regionPrefix}/gateway/{gatewayId}/event/stats" (GatewayStats). Parses untrusted input: every
// error is kInvalidArgument naming the field; nothing here touches the store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace bysans::lorawan {

enum class GatewayEventType { kConn, kStats };

struct GatewayTopic {
  std::string region_prefix;  // e.g. "eu868"; may be empty ("/gateway/…" is not accepted)
  std::string gateway_id;     // 16 hexadecimal characters, lower-case
  GatewayEventType type = GatewayEventType::kConn;
};
// kInvalidArgument when `topic` is not "{prefix}/gateway/{id}/state/conn" or
// "{prefix}/gateway/{id}/event/stats" with a 16-hex-character gateway id.
Result<GatewayTopic> ParseGatewayTopic(std::string_view topic);

struct GatewayLocation {
  double latitude = 0;
  double longitude = 0;
  double altitude = 0;
};

struct GatewayConnState {
  std::string gateway_id;  // from the payload when present, else the topic's (lower-case)
  bool online = false;     // "state": "ONLINE" | "OFFLINE" (protojson omits OFFLINE, the default)
};

struct GatewayStats {
  std::string gateway_id;
  std::optional<int64_t> time_ms;  // "time" (RFC 3339)
  std::optional<GatewayLocation> location;
  // protojson omits zero counters: absent = 0.
  int64_t rx_received = 0;     // rxPacketsReceived
  int64_t rx_received_ok = 0;  // rxPacketsReceivedOk
  int64_t tx_received = 0;     // txPacketsReceived
  int64_t tx_emitted = 0;      // txPacketsEmitted
};

// The largest gateway event accepted (a stats message is well under 2 KiB; its metadata and
// per-frequency maps are ignored).
inline constexpr size_t kMaxGatewayEventBytes = 64 * 1024;

// Parse a payload received on `topic` (of the matching type). Errors (kInvalidArgument): over
// kMaxGatewayEventBytes, nested deeper than kMaxJsonDepth, not JSON, not an object, a field of
// the wrong type or range, a gatewayId in the payload that differs from the topic's.
Result<GatewayConnState> ParseConnState(const GatewayTopic& topic, std::string_view payload);
Result<GatewayStats> ParseGatewayStats(const GatewayTopic& topic, std::string_view payload);

}  // namespace bysans::lorawan
