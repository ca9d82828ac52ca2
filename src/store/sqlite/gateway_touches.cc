#include "store/sqlite/gateway_touches.h"

#include <algorithm>
#include <utility>

#include "store/sqlite/pending_flush.h"

namespace bysans::sqlite {

void GatewayTouches::Add(Id org_id, std::string_view gateway_id, TimeMs ts) {
  std::lock_guard lk(mu_);
  auto& of_org = pending_[org_id];
  auto it = of_org.find(gateway_id);
  if (it == of_org.end()) {
    of_org.emplace(std::string(gateway_id), Seen{ts, ts, 1});
    return;
  }
  it->second.last_ms = std::max(it->second.last_ms, ts);
  ++it->second.uplinks;
}

bool GatewayTouches::empty() const {
  std::lock_guard lk(mu_);
  return pending_.empty();
}

void GatewayTouches::Merge(Seen& into, const Seen& from) {
  into.last_ms = std::max(into.last_ms, from.last_ms);
  into.uplinks += from.uplinks;
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
                 "uplinks) VALUES(?, ?, ?, ?, ?) ON CONFLICT(org_id, gateway_id) DO UPDATE SET "
                 "last_seen_ms = max(last_seen_ms, excluded.last_seen_ms), "
                 "uplinks = uplinks + excluded.uplinks"));
  for (const auto& [org_id, of_org] : p) {
    for (const auto& [gateway_id, seen] : of_org) {
      st->Bind(1, org_id)
          .Bind(2, gateway_id)
          .Bind(3, seen.first_ms)
          .Bind(4, seen.last_ms)
          .Bind(5, seen.uplinks);
      BYSANS_RETURN_IF_ERROR(st->Run());
    }
  }
  return txn.Commit();
}

}  // namespace bysans::sqlite
