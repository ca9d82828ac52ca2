// LoRaWAN gateway health (issue 20): what ChirpStack's gateway events (state/conn, event/stats)
// and the rxInfo of uplinks tell about each gateway of an organisation. Same contracts as
// store.h: thread-safe, Status errors. A gateway belongs to an organisation per pair
// (org_id, gateway_id): the same gateway id seen by two organisations is two gateways, and
// nothing here reads across organisations except OrganizationsOfGateway (the supervised
// broker's routing of gateway events, from uplinks on that broker only). The uplinks side
// (first/last seen, uplinks, heard devices) is written through MqttStore::TouchGateway, batched.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans {

struct GatewayPosition {
  double latitude = 0;
  double longitude = 0;
  double altitude = 0;
};

struct GatewayHealth {
  Id org_id = 0;
  std::string gateway_id;
  std::optional<bool> online;  // the last state/conn; none before the first
  TimeMs state_ms = 0;         // when it took that state (0: none)
  TimeMs first_seen_ms = 0;    // of its first uplink (0: none)
  TimeMs last_seen_ms = 0;     // its newest uplink or gateway event
  int64_t uplinks = 0;
  std::optional<GatewayPosition> location;  // from its stats
};

struct GatewayStateChange {
  TimeMs ts = 0;
  bool online = false;
};

// One stats message, or their sum over a bucket.
struct GatewayCounters {
  int64_t rx_received = 0;
  int64_t rx_received_ok = 0;
  int64_t tx_received = 0;
  int64_t tx_emitted = 0;
};

struct GatewayStatsBucket {
  TimeMs start_ms = 0;
  GatewayCounters counters;
};

struct HeardDevice {
  Id device_id = 0;
  std::string name;
  std::string dev_eui;
  std::optional<double> rssi;  // of its last uplink through the gateway
  std::optional<double> snr;
  TimeMs last_seen_ms = 0;
  int64_t uplinks = 0;
};

class GatewayStore {
 public:
  virtual ~GatewayStore() = default;

  // The gateway's state at `ts` (state/conn); a transition (a state that differs from the
  // last one, or the first) is kept in the history. Also counts as "seen" at `ts`.
  virtual Status RecordGatewayState(Id org_id, const std::string& gateway_id, bool online,
                                    TimeMs ts) = 0;
  // One stats message at `ts`: its counters are added to the hour of `ts`, its location (when
  // given) replaces the gateway's.
  virtual Status RecordGatewayStats(Id org_id, const std::string& gateway_id, TimeMs ts,
                                    const GatewayCounters& counters,
                                    const std::optional<GatewayPosition>& location) = 0;
  // The organisations whose uplinks came through `gateway_id` on bysans' own broker
  // (UplinkSource::kLocalBroker): the routing of that broker's gateway events. A gateway only an
  // organisation's own integration reported is left out, so no organisation can claim another's
  // gateway there. Reads lorawan_gateways, which lags MqttStore::TouchGateway by up to about a
  // second.
  virtual Result<std::vector<Id>> OrganizationsOfGateway(const std::string& gateway_id) = 0;

  // Every gateway of the organisation (seen in its uplinks or its gateway events), by id.
  virtual Result<std::vector<GatewayHealth>> ListGatewayHealth(Id org_id) = 0;
  // kNotFound when the organisation has no such gateway.
  virtual Result<GatewayHealth> GetGatewayHealth(Id org_id, const std::string& gateway_id) = 0;
  // Transitions with from <= ts <= to, oldest first.
  virtual Result<std::vector<GatewayStateChange>> GatewayHistory(Id org_id,
                                                                 const std::string& gateway_id,
                                                                 TimeMs from, TimeMs to) = 0;
  // Counters summed per bucket of `bucket_ms` (3'600'000 or 86'400'000, UTC) over hours in
  // [from, to], oldest first; buckets without stats are left out.
  virtual Result<std::vector<GatewayStatsBucket>> GatewayStatsHistory(Id org_id,
                                                                      const std::string& gateway_id,
                                                                      TimeMs from, TimeMs to,
                                                                      int64_t bucket_ms) = 0;
  // The organisation's devices the gateway heard, newest first.
  virtual Result<std::vector<HeardDevice>> HeardDevices(Id org_id,
                                                        const std::string& gateway_id) = 0;

  // Housekeeping: removes transitions and hourly stats older than `cutoff`; returns the rows
  // removed.
  virtual Result<int64_t> DeleteGatewayHistoryBefore(TimeMs cutoff) = 0;
};

}  // namespace bysans
