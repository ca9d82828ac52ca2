// LoRaWAN gateways seen, kept in memory between writes.
//
// Every ChirpStack uplink names the gateways that received it; writing each one as its own
// transaction (a `fdatasync` per uplink and gateway, on the MQTT I/O thread) capped ingest at
// 1-2k uplinks/s. Instead the touches are summed here per (organisation, gateway) and written
// in one transaction by `Flush` (the store's checkpoint thread about once a second, before a
// listing, and at close), so the table lags by at most about a second. The devices each gateway
// heard (their last RSSI/SNR) go the same way, into gateway_devices. Whether an uplink through
// bysans' own broker named the gateway (seen_locally, GatewayStore::OrganizationsOfGateway) is
// carried along: once set by a touch it stays set, whatever touches of integrations follow.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "model/model.h"
#include "store/mqtt_store.h"
#include "store/sqlite/db.h"

namespace bysans::sqlite {

class GatewayTouches {
 public:
  // Records one uplink received through `gateway_id` of `org_id` at `ts`, arrived from
  // `source`. No allocation for a gateway already pending.
  void Add(Id org_id, std::string_view gateway_id, TimeMs ts, UplinkSource source);
  // The same, heard from device `device_id` (a device of `org_id`) with that RSSI and SNR.
  void Add(Id org_id, std::string_view gateway_id, TimeMs ts, UplinkSource source, Id device_id,
           std::optional<double> rssi, std::optional<double> snr);
  // Writes the pending touches in one transaction on `db` and forgets them; when the write
  // fails they stay pending (with the touches added meanwhile) for the next flush.
  Status Flush(Db& db);
  bool empty() const;

 private:
  struct Heard {
    TimeMs last_ms = 0;          // the newest uplink of the device through the gateway
    std::optional<double> rssi;  // of that uplink
    std::optional<double> snr;
    int64_t uplinks = 0;
  };
  struct Seen {
    TimeMs first_ms = 0;  // of the first touch since the last flush
    TimeMs last_ms = 0;   // the newest
    int64_t uplinks = 0;
    bool seen_locally = false;  // any of them came through bysans' own broker
    std::map<Id, Heard> devices;
  };
  using Pending = std::map<Id, std::map<std::string, Seen, std::less<>>>;
  Seen& Touch(Id org_id, std::string_view gateway_id, TimeMs ts, UplinkSource source);  // mu_ held
  static void Merge(Seen& into, const Seen& from);
  static void MergeHeard(Heard& into, const Heard& from);
  static Status Write(Db& db, const Pending& p);

  mutable std::mutex mu_;  // guards pending_
  Pending pending_;
  std::mutex flush_mu_;  // one flush at a time, so the table sees touches in order
};

}  // namespace bysans::sqlite
