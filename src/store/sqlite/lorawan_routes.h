// Which ChirpStack application and connection last delivered each LoRaWAN device's uplink
// (MqttStore::SetLorawanRoute), kept in memory between writes.
//
// Ingest records the route on a device's first uplink after a start and whenever it changes.
// Written at once, that was a transaction with its own `fdatasync` on the MQTT I/O thread for
// each device: after a start, a fleet of 1,000 devices held the I/O thread for seconds. Routes
// are set here and written in one transaction by `Flush` (with the gateways, about once a
// second, and at close); reads see a pending route first. A route lost in a crash is set again
// by the device's next uplink (ingest keeps which routes it has set in memory only).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/status.h"
#include "model/model.h"
#include "store/sqlite/db.h"

namespace bysans::sqlite {

struct LorawanRoute {
  std::string application_id;  // ChirpStack's application id
  Id integration_id = 0;       // 0 = bysans' own broker client
};

class PendingLorawanRoutes {
 public:
  void Set(Id device_id, LorawanRoute route);
  // The route set for the device and not yet written, if any.
  std::optional<LorawanRoute> Find(Id device_id) const;
  // Writes the pending routes in one transaction on `db` and forgets them; routes of devices
  // deleted meanwhile are skipped. When the write fails they stay pending (routes set meanwhile
  // win) for the next flush.
  Status Flush(Db& db);
  bool empty() const;

 private:
  using Pending = std::map<Id, LorawanRoute>;
  static Status Write(Db& db, const Pending& p);

  mutable std::mutex mu_;  // guards pending_
  Pending pending_;
  std::mutex flush_mu_;  // one flush at a time, so an older batch never overwrites a newer one
};

}  // namespace bysans::sqlite
