// GatewayStore on SQLite (migration 30): gateway_health (state and location per gateway),
// gateway_states (transitions), gateway_stats_hourly (counters summed per hour) and
// gateway_devices (written by GatewayTouches, read here), beside lorawan_gateways (uplinks;
// seen_locally from migration 42).
#include <utility>

#include "store/gateway_store.h"
#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {
namespace {

constexpr int64_t kHourMs = 3'600'000;

// One row of the organisation's gateways: the union of those seen in uplinks and those that
// sent gateway events, `?1` the organisation; `extra` narrows it (e.g. to one gateway, `?2`).
std::string HealthSql(const char* extra) {
  return std::string(
             "SELECT g.gateway_id, h.online, coalesce(h.state_ms, 0), coalesce(l.first_seen_ms, "
             "0), max(coalesce(l.last_seen_ms, 0), coalesce(h.last_event_ms, 0)), "
             "coalesce(l.uplinks, 0), h.latitude, h.longitude, h.altitude FROM (SELECT "
             "gateway_id FROM lorawan_gateways WHERE org_id = ?1 UNION SELECT gateway_id FROM "
             "gateway_health WHERE org_id = ?1) g LEFT JOIN lorawan_gateways l ON l.org_id = ?1 "
             "AND l.gateway_id = g.gateway_id LEFT JOIN gateway_health h ON h.org_id = ?1 AND "
             "h.gateway_id = g.gateway_id") +
         extra + " ORDER BY g.gateway_id";
}

GatewayHealth HealthFromRow(Id org_id, const Stmt& st) {
  GatewayHealth g;
  g.org_id = org_id;
  g.gateway_id = st.Text(0);
  if (!st.IsNull(1)) g.online = st.Int(1) != 0;
  g.state_ms = st.Int(2);
  g.first_seen_ms = st.Int(3);
  g.last_seen_ms = st.Int(4);
  g.uplinks = st.Int(5);
  if (!st.IsNull(6)) g.location = GatewayPosition{st.Double(6), st.Double(7), st.Double(8)};
  return g;
}

class SqliteGatewayStore final : public GatewayStore {
 public:
  SqliteGatewayStore(Pool& pool, std::function<Status()> flush)
      : pool_(pool), flush_(std::move(flush)) {}

  Status RecordGatewayState(Id org_id, const std::string& gateway_id, bool online,
                            TimeMs ts) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Txn txn(*db, /*write=*/true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    bool changed = true;  // the first state counts as a transition
    {
      BYSANS_ASSIGN_OR_RETURN(
          auto prev,
          db->Prepare("SELECT online FROM gateway_health WHERE org_id=? AND gateway_id=?"));
      prev->Bind(1, org_id).Bind(2, gateway_id);
      if (prev->Step() && !prev->IsNull(0)) changed = (prev->Int(0) != 0) != online;
      BYSANS_RETURN_IF_ERROR(prev->status());
    }
    BYSANS_ASSIGN_OR_RETURN(
        auto up,
        db->Prepare("INSERT INTO gateway_health(org_id, gateway_id, online, state_ms, "
                    "last_event_ms) VALUES(?1, ?2, ?3, ?4, ?4) ON CONFLICT(org_id, gateway_id) "
                    "DO UPDATE SET online = excluded.online, state_ms = CASE WHEN online IS "
                    "excluded.online THEN state_ms ELSE excluded.state_ms END, last_event_ms = "
                    "max(coalesce(last_event_ms, 0), excluded.last_event_ms)"));
    BYSANS_RETURN_IF_ERROR(
        up->Bind(1, org_id).Bind(2, gateway_id).Bind(3, online).Bind(4, ts).Run());
    if (changed) {
      BYSANS_ASSIGN_OR_RETURN(
          auto hist, db->Prepare("INSERT INTO gateway_states(org_id, gateway_id, ts, online) "
                                 "VALUES(?, ?, ?, ?)"));
      BYSANS_RETURN_IF_ERROR(
          hist->Bind(1, org_id).Bind(2, gateway_id).Bind(3, ts).Bind(4, online).Run());
    }
    return txn.Commit();
  }

  Status RecordGatewayStats(Id org_id, const std::string& gateway_id, TimeMs ts,
                            const GatewayCounters& c,
                            const std::optional<GatewayPosition>& location) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Txn txn(*db, /*write=*/true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    BYSANS_ASSIGN_OR_RETURN(
        auto up,
        db->Prepare("INSERT INTO gateway_health(org_id, gateway_id, last_event_ms, latitude, "
                    "longitude, altitude) VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(org_id, "
                    "gateway_id) DO UPDATE SET last_event_ms = max(coalesce(last_event_ms, 0), "
                    "excluded.last_event_ms), latitude = coalesce(excluded.latitude, latitude), "
                    "longitude = coalesce(excluded.longitude, longitude), altitude = "
                    "coalesce(excluded.altitude, altitude)"));
    up->Bind(1, org_id).Bind(2, gateway_id).Bind(3, ts);
    if (location) {
      up->Bind(4, location->latitude).Bind(5, location->longitude).Bind(6, location->altitude);
    } else {
      up->BindNull(4).BindNull(5).BindNull(6);
    }
    BYSANS_RETURN_IF_ERROR(up->Run());
    BYSANS_ASSIGN_OR_RETURN(
        auto add,
        db->Prepare("INSERT INTO gateway_stats_hourly(org_id, gateway_id, hour_ms, rx_received, "
                    "rx_received_ok, tx_received, tx_emitted) VALUES(?, ?, ?, ?, ?, ?, ?) ON "
                    "CONFLICT(org_id, gateway_id, hour_ms) DO UPDATE SET rx_received = "
                    "rx_received + excluded.rx_received, rx_received_ok = rx_received_ok + "
                    "excluded.rx_received_ok, tx_received = tx_received + excluded.tx_received, "
                    "tx_emitted = tx_emitted + excluded.tx_emitted"));
    const TimeMs hour = ts - ((ts % kHourMs) + kHourMs) % kHourMs;
    BYSANS_RETURN_IF_ERROR(add->Bind(1, org_id)
                               .Bind(2, gateway_id)
                               .Bind(3, hour)
                               .Bind(4, c.rx_received)
                               .Bind(5, c.rx_received_ok)
                               .Bind(6, c.tx_received)
                               .Bind(7, c.tx_emitted)
                               .Run());
    return txn.Commit();
  }

  Result<std::vector<Id>> OrganizationsOfGateway(const std::string& gateway_id) override {
    // No flush: called per gateway event; the table lags the uplinks by about a second. Only
    // uplinks through bysans' own broker count: an organisation's integration cannot claim
    // another's gateway here (migration 42).
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("SELECT DISTINCT org_id FROM lorawan_gateways WHERE gateway_id=? "
                             "AND seen_locally ORDER BY org_id"));
    st->Bind(1, gateway_id);
    std::vector<Id> out;
    while (st->Step()) out.push_back(st->Int(0));
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

  Result<std::vector<GatewayHealth>> ListGatewayHealth(Id org_id) override {
    BYSANS_RETURN_IF_ERROR(flush_());
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare(HealthSql("")));
    st->Bind(1, org_id);
    std::vector<GatewayHealth> out;
    while (st->Step()) out.push_back(HealthFromRow(org_id, *st));
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

  Result<GatewayHealth> GetGatewayHealth(Id org_id, const std::string& gateway_id) override {
    BYSANS_RETURN_IF_ERROR(flush_());
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare(HealthSql(" WHERE g.gateway_id = ?2")));
    st->Bind(1, org_id).Bind(2, gateway_id);
    if (!st->Step()) {
      BYSANS_RETURN_IF_ERROR(st->status());
      return NotFound("gateway " + gateway_id + " not found");
    }
    return HealthFromRow(org_id, *st);
  }

  Result<std::vector<GatewayStateChange>> GatewayHistory(Id org_id, const std::string& gateway_id,
                                                         TimeMs from, TimeMs to) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("SELECT ts, online FROM gateway_states WHERE org_id=? AND "
                             "gateway_id=? AND ts BETWEEN ? AND ? ORDER BY ts, rowid LIMIT 10000"));
    st->Bind(1, org_id).Bind(2, gateway_id).Bind(3, from).Bind(4, to);
    std::vector<GatewayStateChange> out;
    while (st->Step()) out.push_back(GatewayStateChange{st->Int(0), st->Int(1) != 0});
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

  Result<std::vector<GatewayStatsBucket>> GatewayStatsHistory(Id org_id,
                                                              const std::string& gateway_id,
                                                              TimeMs from, TimeMs to,
                                                              int64_t bucket_ms) override {
    if (bucket_ms < kHourMs || bucket_ms % kHourMs != 0)
      return InvalidArgument("bucket must be a whole number of hours");
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st,
        db->Prepare("SELECT hour_ms - (hour_ms % ?3) AS b, sum(rx_received), sum(rx_received_ok), "
                    "sum(tx_received), sum(tx_emitted) FROM gateway_stats_hourly WHERE org_id=?1 "
                    "AND gateway_id=?2 AND hour_ms BETWEEN ?4 AND ?5 GROUP BY b ORDER BY b "
                    "LIMIT 10000"));
    st->Bind(1, org_id).Bind(2, gateway_id).Bind(3, bucket_ms).Bind(4, from).Bind(5, to);
    std::vector<GatewayStatsBucket> out;
    while (st->Step()) {
      out.push_back(GatewayStatsBucket{
          st->Int(0), GatewayCounters{st->Int(1), st->Int(2), st->Int(3), st->Int(4)}});
    }
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

  Result<std::vector<HeardDevice>> HeardDevices(Id org_id, const std::string& gateway_id) override {
    BYSANS_RETURN_IF_ERROR(flush_());
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    // Joined on the device's organisation too: a device moved to another organisation since.
    BYSANS_ASSIGN_OR_RETURN(
        auto st,
        db->Prepare("SELECT g.device_id, d.name, d.dev_eui, g.rssi, g.snr, "
                    "g.last_seen_ms, g.uplinks FROM gateway_devices g JOIN devices d ON "
                    "d.id = g.device_id AND d.org_id = g.org_id WHERE g.org_id=? AND "
                    "g.gateway_id=? ORDER BY g.last_seen_ms DESC, g.device_id LIMIT 10000"));
    st->Bind(1, org_id).Bind(2, gateway_id);
    std::vector<HeardDevice> out;
    while (st->Step()) {
      HeardDevice h;
      h.device_id = st->Int(0);
      h.name = st->Text(1);
      h.dev_eui = st->Text(2);
      if (!st->IsNull(3)) h.rssi = st->Double(3);
      if (!st->IsNull(4)) h.snr = st->Double(4);
      h.last_seen_ms = st->Int(5);
      h.uplinks = st->Int(6);
      out.push_back(std::move(h));
    }
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

  Result<int64_t> DeleteGatewayHistoryBefore(TimeMs cutoff) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Txn txn(*db, /*write=*/true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    int64_t removed = 0;
    for (const char* sql : {"DELETE FROM gateway_states WHERE ts < ?",
                            "DELETE FROM gateway_stats_hourly WHERE hour_ms < ?"}) {
      BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare(sql));
      BYSANS_RETURN_IF_ERROR(st->Bind(1, cutoff).Run());
      removed += db->Changes();
    }
    BYSANS_RETURN_IF_ERROR(txn.Commit());
    return removed;
  }

 private:
  Pool& pool_;
  std::function<Status()> flush_;
};

}  // namespace

std::unique_ptr<GatewayStore> NewSqliteGatewayStore(Pool& pool,
                                                    std::function<Status()> flush_touches) {
  return std::make_unique<SqliteGatewayStore>(pool, std::move(flush_touches));
}

}  // namespace bysans::sqlite
