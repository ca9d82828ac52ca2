#include "store/sqlite/lorawan_routes.h"

#include <utility>

#include "store/sqlite/pending_flush.h"

namespace bysans::sqlite {

void PendingLorawanRoutes::Set(Id device_id, LorawanRoute route) {
  std::lock_guard lk(mu_);
  pending_[device_id] = std::move(route);
}

std::optional<LorawanRoute> PendingLorawanRoutes::Find(Id device_id) const {
  std::lock_guard lk(mu_);
  auto it = pending_.find(device_id);
  if (it == pending_.end()) return std::nullopt;
  return it->second;
}

bool PendingLorawanRoutes::empty() const {
  std::lock_guard lk(mu_);
  return pending_.empty();
}

Status PendingLorawanRoutes::Flush(Db& db) {
  std::lock_guard flush_lk(flush_mu_);
  return FlushPendingMap(
      mu_, pending_, [&db](const Pending& p) { return Write(db, p); },
      [](Pending& older, Pending& newer) {
        for (auto& [device_id, route] : newer) older[device_id] = std::move(route);  // newer wins
      });
}

Status PendingLorawanRoutes::Write(Db& db, const Pending& p) {
  Txn txn(db, /*write=*/true);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  // A device deleted since its route was set has no row to point at (and the cascade that
  // removes its route has run): nothing is written for it.
  BYSANS_ASSIGN_OR_RETURN(
      auto st, db.Prepare("INSERT OR REPLACE INTO lorawan_device_apps(device_id, application_id, "
                          "integration_id) SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM devices "
                          "WHERE id = ?1)"));
  for (const auto& [device_id, route] : p) {
    st->Bind(1, device_id).Bind(2, route.application_id).Bind(3, route.integration_id);
    BYSANS_RETURN_IF_ERROR(st->Run());
  }
  return txn.Commit();
}

}  // namespace bysans::sqlite
