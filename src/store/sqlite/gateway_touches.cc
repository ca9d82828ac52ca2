#include "store/sqlite/gateway_touches.h"

#include <algorithm>
#include <utility>

#include "store/sqlite/pending_flush.h"

namespace bysans::sqlite {

GatewayTouches::Seen& GatewayTouches::Touch(Id org_id, std::string_view gateway_id, TimeMs ts,
                                            UplinkSource source) {
  const bool local = source == UplinkSource::kLocalBroker;
  auto& of_org = pending_[org_id];
  auto it = of_org.find(gateway_id);
  if (it == of_org.end())
    return of_org.emplace(std::string(gateway_id), Seen{ts, ts, 1, local, {}}).first->second;
  it->second.last_ms = std::max(it->second.last_ms, ts);
  ++it->second.uplinks;
  it->second.seen_locally = it->second.seen_locally || local;
  return it->second;
}

void GatewayTouches::Add(Id org_id, std::string_view gateway_id, TimeMs ts, UplinkSource source) {
  std::lock_guard lk(mu_);
  Touch(org_id, gateway_id, ts, source);
}

void GatewayTouches::Add(Id org_id, std::string_view gateway_id, TimeMs ts, UplinkSource source,
                         Id device_id, std::optional<double> rssi, std::optional<double> snr) {
  std::lock_guard lk(mu_);
  MergeHeard(Touch(org_id, gateway_id, ts, source).devices[device_id], Heard{ts, rssi, snr, 1});
}

bool GatewayTouches::empty() const {
  std::lock_guard lk(mu_);
  return pending_.empty();
}

void GatewayTouches::MergeHeard(Heard& into, const Heard& from) {
  if (from.last_ms >= into.last_ms) {
    into.last_ms = from.last_ms;
    into.rssi = from.rssi;
    into.snr = from.snr;
  }
  into.uplinks += from.uplinks;
}

void GatewayTouches::Merge(Seen& into, const Seen& from) {
  into.last_ms = std::max(into.last_ms, from.last_ms);
  into.uplinks += from.uplinks;
  into.seen_locally = into.seen_locally || from.seen_locally;
  for (const auto& [device_id, heard] : from.devices) MergeHeard(into.devices[device_id], heard);
}

Status GatewayTouches::Flush(Db& db) {
  std::lock_guard flush_lk(flush_mu_);
  return FlushPendingMap(
      mu_, pending_, [&db](const Pending& p) { return Write(db, p); },
      [](Pending& older, Pending& newer) {
        // The older touches come first (their first_ms), the newer ones add to them.
        for (auto& [org_id, of_org] : newer) {
          auto& into = older[org_id];
          for (auto& [gateway_id, seen] : of_org) {
            auto [it, inserted] = into.try_emplace(gateway_id, seen);
            if (!inserted) Merge(it->second, seen);
          }
        }
      });
}

Status GatewayTouches::Write(Db& db, const Pending& p) {
  Txn txn(db, /*write=*/true);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  BYSANS_ASSIGN_OR_RETURN(
      auto st,
      db.Prepare("INSERT INTO lorawan_gateways(org_id, gateway_id, first_seen_ms, last_seen_ms, "
                 "uplinks, seen_locally) VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(org_id, gateway_id) "
                 "DO UPDATE SET last_seen_ms = max(last_seen_ms, excluded.last_seen_ms), "
                 "uplinks = uplinks + excluded.uplinks, "
                 "seen_locally = max(seen_locally, excluded.seen_locally)"));
  // A device deleted since its uplink is left out (the row would name no device).
  BYSANS_ASSIGN_OR_RETURN(
      auto heard,
      db.Prepare("INSERT INTO gateway_devices(org_id, gateway_id, device_id, rssi, snr, "
                 "last_seen_ms, uplinks) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS "
                 "(SELECT 1 FROM devices WHERE id = ?3) ON CONFLICT(org_id, gateway_id, "
                 "device_id) DO UPDATE SET rssi = CASE WHEN excluded.last_seen_ms >= last_seen_ms "
                 "THEN excluded.rssi ELSE rssi END, snr = CASE WHEN excluded.last_seen_ms >= "
                 "last_seen_ms THEN excluded.snr ELSE snr END, last_seen_ms = "
                 "max(last_seen_ms, excluded.last_seen_ms), uplinks = uplinks + excluded.uplinks"));
  for (const auto& [org_id, of_org] : p) {
    for (const auto& [gateway_id, seen] : of_org) {
      st->Bind(1, org_id)
          .Bind(2, gateway_id)
          .Bind(3, seen.first_ms)
          .Bind(4, seen.last_ms)
          .Bind(5, seen.uplinks)
          .Bind(6, seen.seen_locally);
      BYSANS_RETURN_IF_ERROR(st->Run());
      for (const auto& [device_id, h] : seen.devices) {
        heard->Bind(1, org_id).Bind(2, gateway_id).Bind(3, device_id);
        if (h.rssi)
          heard->Bind(4, *h.rssi);
        else
          heard->BindNull(4);
        if (h.snr)
          heard->Bind(5, *h.snr);
        else
          heard->BindNull(5);
        heard->Bind(6, h.last_ms).Bind(7, h.uplinks);
        BYSANS_RETURN_IF_ERROR(heard->Run());
      }
    }
  }
  return txn.Commit();
}

}  // namespace bysans::sqlite
