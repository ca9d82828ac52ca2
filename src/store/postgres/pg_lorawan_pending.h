// The LoRaWAN writes that ingest makes per uplink, kept in memory and written together about once
// a second (PostgresMqttStore::FlushPending): the gateways each uplink came through
// (lorawan_gateways), the devices each gateway heard with their last RSSI/SNR (gateway_devices)
// and the route of each device's last uplink (lorawan_device_apps). A statement per uplink would
// cost a round trip and a commit on the MQTT I/O thread each; here one flush is one transaction
// of one statement per table for every row pending (INSERT … SELECT FROM unnest … ON CONFLICT DO
// UPDATE), rows sorted by key so that two nodes flushing at once lock them in the same order.
// Whether an uplink through bysans' own broker named a gateway (seen_locally, migration 21) is
// carried along: once set it stays set, whatever touches of integrations follow.
// Folder-private (only pg_*.cc include it).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "model/model.h"
#include "store/mqtt_store.h"

namespace bysans::pg {

class Pool;

struct PendingRoute {
  std::string application_id;  // ChirpStack's application id
  Id integration_id = 0;       // 0 = bysans' own broker client
};

class PendingLorawanWrites {
 public:
  // One uplink through `gateway_id` of `org_id` at `ts`, arrived from `source` (no allocation
  // for a pending gateway).
  void Touch(Id org_id, std::string_view gateway_id, TimeMs ts, UplinkSource source);
  // The same, heard from `device_id` with that RSSI and SNR.
  void Touch(Id org_id, std::string_view gateway_id, TimeMs ts, UplinkSource source, Id device_id,
             std::optional<double> rssi, std::optional<double> snr);
  void SetRoute(Id device_id, PendingRoute route);
  // The route set and not yet written, if any.
  std::optional<PendingRoute> FindRoute(Id device_id) const;
  bool empty() const;

  // Writes everything pending in one transaction and forgets it. Rows of devices or
  // organisations deleted meanwhile are skipped. When the write fails the batch is kept (merged
  // under what was added meanwhile) for the next flush. One flush at a time.
  Status Flush(Pool& pool);

 private:
  struct Heard {
    TimeMs last_ms = 0;  // the device's newest uplink through the gateway, and its RSSI/SNR
    std::optional<double> rssi;
    std::optional<double> snr;
    int64_t uplinks = 0;
  };
  struct Seen {
    TimeMs first_ms = 0;  // of the first touch since the last flush (kept if the row is new)
    TimeMs last_ms = 0;
    int64_t uplinks = 0;
    bool seen_locally = false;  // any of them came through bysans' own broker
    std::map<Id, Heard> devices;
  };
  struct Batch {
    std::map<Id, std::map<std::string, Seen, std::less<>>> gateways;  // by org, gateway id
    std::map<Id, PendingRoute> routes;                                // by device
    bool empty() const { return gateways.empty() && routes.empty(); }
  };

  Seen& Find(Id org_id, std::string_view gateway_id, TimeMs ts, UplinkSource source);  // mu_ held
  static void AddHeard(Heard& into, const Heard& newer);
  // Folds `newer` (added during a failed write) into `older`.
  static void Fold(Batch& older, Batch& newer);
  static Status Write(Pool& pool, const Batch& b);

  mutable std::mutex mu_;  // guards pending_
  Batch pending_;
  std::mutex flush_mu_;  // an older batch never lands after a newer one
};

}  // namespace bysans::pg
