#include "store/postgres/pg_lorawan_pending.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "store/postgres/pool.h"
#include "store/postgres/sql_text.h"

namespace bysans::pg {
namespace {

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();  // NULL in the statement

// Both statements skip the rows whose organisation or device is gone (deleted since the uplink):
// the foreign keys would fail the whole flush. A deletion committed between that check and the
// insert still fails it; the batch then stays pending and the next flush skips the row.
// seen_locally ($6: 0 or 1) is only ever set: an integration's touch leaves a local one in place.
constexpr const char* kGatewaysSql =
    "INSERT INTO lorawan_gateways AS g (org_id, gateway_id, first_seen_ms, last_seen_ms, uplinks, "
    "seen_locally) SELECT t.org_id, t.gateway_id, t.f, t.l, t.n, t.local <> 0 FROM "
    "unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[]) "
    "AS t(org_id, gateway_id, f, l, n, local) WHERE EXISTS "
    "(SELECT 1 FROM organizations o WHERE o.id = t.org_id) ORDER BY 1, 2 "
    "ON CONFLICT (org_id, gateway_id) DO UPDATE SET last_seen_ms = greatest(g.last_seen_ms, "
    "excluded.last_seen_ms), uplinks = g.uplinks + excluded.uplinks, "
    "seen_locally = g.seen_locally OR excluded.seen_locally";

constexpr const char* kHeardSql =
    "INSERT INTO gateway_devices AS g (org_id, gateway_id, device_id, rssi, snr, last_seen_ms, "
    "uplinks) SELECT t.org_id, t.gateway_id, t.device_id, nullif(t.rssi, 'NaN'), "
    "nullif(t.snr, 'NaN'), t.l, t.n FROM unnest($1::bigint[], $2::text[], $3::bigint[], "
    "$4::float8[], $5::float8[], $6::bigint[], $7::bigint[]) AS t(org_id, gateway_id, device_id, "
    "rssi, snr, l, n) WHERE EXISTS (SELECT 1 FROM devices d WHERE d.id = t.device_id) "
    "ORDER BY 1, 2, 3 ON CONFLICT (org_id, gateway_id, device_id) DO UPDATE SET "
    "rssi = CASE WHEN excluded.last_seen_ms >= g.last_seen_ms THEN excluded.rssi ELSE g.rssi END, "
    "snr = CASE WHEN excluded.last_seen_ms >= g.last_seen_ms THEN excluded.snr ELSE g.snr END, "
    "last_seen_ms = greatest(g.last_seen_ms, excluded.last_seen_ms), "
    "uplinks = g.uplinks + excluded.uplinks";

constexpr const char* kRoutesSql =
    "INSERT INTO lorawan_device_apps AS r (device_id, application_id, integration_id) "
    "SELECT t.device_id, t.app, t.integration FROM unnest($1::bigint[], $2::text[], "
    "$3::bigint[]) AS t(device_id, app, integration) WHERE EXISTS (SELECT 1 FROM devices d "
    "WHERE d.id = t.device_id) ORDER BY 1 ON CONFLICT (device_id) DO UPDATE SET "
    "application_id = excluded.application_id, integration_id = excluded.integration_id";

}  // namespace

PendingLorawanWrites::Seen& PendingLorawanWrites::Find(Id org_id, std::string_view gateway_id,
                                                       TimeMs ts, UplinkSource source) {
  auto& of_org = pending_.gateways[org_id];
  auto it = of_org.find(gateway_id);
  if (it == of_org.end())
    it = of_org.emplace(std::string(gateway_id), Seen{ts, ts, 0, false, {}}).first;
  Seen& s = it->second;
  s.last_ms = std::max(s.last_ms, ts);
  ++s.uplinks;
  s.seen_locally = s.seen_locally || source == UplinkSource::kLocalBroker;
  return s;
}

void PendingLorawanWrites::Touch(Id org_id, std::string_view gateway_id, TimeMs ts,
                                 UplinkSource source) {
  std::lock_guard lk(mu_);
  Find(org_id, gateway_id, ts, source);
}

void PendingLorawanWrites::Touch(Id org_id, std::string_view gateway_id, TimeMs ts,
                                 UplinkSource source, Id device_id, std::optional<double> rssi,
                                 std::optional<double> snr) {
  std::lock_guard lk(mu_);
  AddHeard(Find(org_id, gateway_id, ts, source).devices[device_id], Heard{ts, rssi, snr, 1});
}

void PendingLorawanWrites::SetRoute(Id device_id, PendingRoute route) {
  std::lock_guard lk(mu_);
  pending_.routes[device_id] = std::move(route);
}

std::optional<PendingRoute> PendingLorawanWrites::FindRoute(Id device_id) const {
  std::lock_guard lk(mu_);
  auto it = pending_.routes.find(device_id);
  if (it == pending_.routes.end()) return std::nullopt;
  return it->second;
}

bool PendingLorawanWrites::empty() const {
  std::lock_guard lk(mu_);
  return pending_.empty();
}

void PendingLorawanWrites::AddHeard(Heard& into, const Heard& newer) {
  if (newer.last_ms >= into.last_ms) {
    into.last_ms = newer.last_ms;
    into.rssi = newer.rssi;
    into.snr = newer.snr;
  }
  into.uplinks += newer.uplinks;
}

void PendingLorawanWrites::Fold(Batch& older, Batch& newer) {
  for (auto& [org_id, of_org] : newer.gateways) {
    auto& into = older.gateways[org_id];
    for (auto& [gateway_id, seen] : of_org) {
      auto [it, inserted] = into.try_emplace(gateway_id, seen);
      if (inserted) continue;
      Seen& s = it->second;  // keeps the older first_ms
      s.last_ms = std::max(s.last_ms, seen.last_ms);
      s.uplinks += seen.uplinks;
      s.seen_locally = s.seen_locally || seen.seen_locally;
      for (const auto& [device_id, heard] : seen.devices) AddHeard(s.devices[device_id], heard);
    }
  }
  for (auto& [device_id, route] : newer.routes) older.routes[device_id] = std::move(route);
}

Status PendingLorawanWrites::Flush(Pool& pool) {
  std::lock_guard flush_lk(flush_mu_);
  Batch batch;
  {
    std::lock_guard lk(mu_);
    std::swap(batch, pending_);
  }
  if (batch.empty()) return Status::Ok();
  Status st = Write(pool, batch);
  if (st.ok()) return st;
  std::lock_guard lk(mu_);
  Fold(batch, pending_);
  std::swap(batch, pending_);
  return st;
}

Status PendingLorawanWrites::Write(Pool& pool, const Batch& b) {
  // Column arrays of the three statements.
  std::vector<int64_t> g_org, g_first, g_last, g_n, g_local;
  std::vector<std::string> g_id;
  std::vector<int64_t> h_org, h_dev, h_last, h_n;
  std::vector<std::string> h_gw;
  std::vector<double> h_rssi, h_snr;
  for (const auto& [org_id, of_org] : b.gateways) {
    for (const auto& [gateway_id, seen] : of_org) {
      g_org.push_back(org_id);
      g_id.push_back(gateway_id);
      g_first.push_back(seen.first_ms);
      g_last.push_back(seen.last_ms);
      g_n.push_back(seen.uplinks);
      g_local.push_back(seen.seen_locally ? 1 : 0);
      for (const auto& [device_id, h] : seen.devices) {
        h_org.push_back(org_id);
        h_gw.push_back(gateway_id);
        h_dev.push_back(device_id);
        h_rssi.push_back(h.rssi.value_or(kNoValue));
        h_snr.push_back(h.snr.value_or(kNoValue));
        h_last.push_back(h.last_ms);
        h_n.push_back(h.uplinks);
      }
    }
  }
  std::vector<int64_t> r_dev, r_integration;
  std::vector<std::string> r_app;
  for (const auto& [device_id, route] : b.routes) {
    r_dev.push_back(device_id);
    r_app.push_back(route.application_id);
    r_integration.push_back(route.integration_id);
  }
  return pool.Transact<Status>("flush LoRaWAN gateways and routes", [&](pqxx::work& tx) {
    if (!g_org.empty())
      tx.exec_params(kGatewaysSql, IntArray(g_org), TextArray(g_id), IntArray(g_first),
                     IntArray(g_last), IntArray(g_n), IntArray(g_local));
    if (!h_org.empty())
      tx.exec_params(kHeardSql, IntArray(h_org), TextArray(h_gw), IntArray(h_dev),
                     DoubleArray(h_rssi), DoubleArray(h_snr), IntArray(h_last), IntArray(h_n));
    if (!r_dev.empty())
      tx.exec_params(kRoutesSql, IntArray(r_dev), TextArray(r_app), IntArray(r_integration));
    return Status::Ok();
  });
}

}  // namespace bysans::pg
