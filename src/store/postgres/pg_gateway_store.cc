// GatewayStore on PostgreSQL (migration 5): gateway_health (state and location per gateway),
// gateway_states (transitions), gateway_stats_hourly (counters summed per hour) and
// gateway_devices (written by PostgresMqttStore's batched touches, read here), beside
// lorawan_gateways (uplinks; seen_locally from migration 21).
#include "store/postgres/pg_gateway_store.h"

#include <utility>

#include "store/postgres/pool.h"
#include "store/postgres/sql_text.h"

namespace bysans {
namespace {

using pg::Pool;

constexpr int64_t kHourMs = 3'600'000;

// The organisation's gateways ($1): those seen in its uplinks and those that sent it gateway
// events; `extra` narrows them (e.g. to one gateway, $2).
std::string HealthSql(const char* extra) {
  return std::string(
             "SELECT g.gateway_id, h.online, coalesce(h.state_ms, 0), coalesce(l.first_seen_ms, "
             "0), greatest(coalesce(l.last_seen_ms, 0), coalesce(h.last_event_ms, 0)), "
             "coalesce(l.uplinks, 0), h.latitude, h.longitude, h.altitude FROM (SELECT "
             "gateway_id FROM lorawan_gateways WHERE org_id = $1 UNION SELECT gateway_id FROM "
             "gateway_health WHERE org_id = $1) g LEFT JOIN lorawan_gateways l ON l.org_id = $1 "
             "AND l.gateway_id = g.gateway_id LEFT JOIN gateway_health h ON h.org_id = $1 AND "
             "h.gateway_id = g.gateway_id") +
         extra + " ORDER BY g.gateway_id";
}

GatewayHealth HealthFromRow(Id org_id, const pqxx::row& r) {
  GatewayHealth g;
  g.org_id = org_id;
  g.gateway_id = r[0].as<std::string>();
  if (!r[1].is_null()) g.online = r[1].as<bool>();
  g.state_ms = r[2].as<int64_t>();
  g.first_seen_ms = r[3].as<int64_t>();
  g.last_seen_ms = r[4].as<int64_t>();
  g.uplinks = r[5].as<int64_t>();
  if (!r[6].is_null())
    g.location = GatewayPosition{r[6].as<double>(), r[7].as<double>(), r[8].as<double>()};
  return g;
}

class PgGatewayStore final : public GatewayStore {
 public:
  PgGatewayStore(Pool& pool, std::function<Status()> flush)
      : pool_(pool), flush_(std::move(flush)) {}

  Status RecordGatewayState(Id org_id, const std::string& gateway_id, bool online,
                            TimeMs ts) override {
    return pool_.Transact<Status>("record gateway state", [&](pqxx::work& tx) {
      // Creates or locks the gateway's row and reads its state: a second node recording a state
      // of the same gateway waits here, then sees this one's (no transition lost or doubled).
      auto prev = tx.exec_params(
          "INSERT INTO gateway_health AS h (org_id, gateway_id) VALUES ($1, $2) ON CONFLICT "
          "(org_id, gateway_id) DO UPDATE SET online = h.online RETURNING online",
          org_id, gateway_id);
      // The first state (or the first after stats only) counts as a transition.
      const bool changed = prev[0][0].is_null() || prev[0][0].as<bool>() != online;
      tx.exec_params(
          "UPDATE gateway_health SET state_ms = CASE WHEN online IS NOT DISTINCT FROM $3 THEN "
          "state_ms ELSE $4 END, online = $3, last_event_ms = greatest(coalesce(last_event_ms, "
          "0), $4) WHERE org_id = $1 AND gateway_id = $2",
          org_id, gateway_id, online, ts);
      if (changed)
        tx.exec_params(
            "INSERT INTO gateway_states (org_id, gateway_id, ts, online) VALUES ($1, $2, $3, $4)",
            org_id, gateway_id, ts, online);
      return Status::Ok();
    });
  }

  Status RecordGatewayStats(Id org_id, const std::string& gateway_id, TimeMs ts,
                            const GatewayCounters& c,
                            const std::optional<GatewayPosition>& location) override {
    const GatewayPosition at = location.value_or(GatewayPosition{});
    const TimeMs hour = pg::FloorTo(ts, kHourMs);
    return pool_.Transact<Status>("record gateway stats", [&](pqxx::work& tx) {
      tx.exec_params(
          "INSERT INTO gateway_health AS h (org_id, gateway_id, last_event_ms, latitude, "
          "longitude, altitude) SELECT $1, $2, $3, l.lat, l.lon, l.alt FROM (SELECT CASE WHEN $4 "
          "THEN $5::float8 END AS lat, CASE WHEN $4 THEN $6::float8 END AS lon, CASE WHEN $4 THEN "
          "$7::float8 END AS alt) l ON CONFLICT (org_id, gateway_id) DO UPDATE SET "
          "last_event_ms = greatest(coalesce(h.last_event_ms, 0), excluded.last_event_ms), "
          "latitude = coalesce(excluded.latitude, h.latitude), longitude = "
          "coalesce(excluded.longitude, h.longitude), altitude = coalesce(excluded.altitude, "
          "h.altitude)",
          org_id, gateway_id, ts, location.has_value(), at.latitude, at.longitude, at.altitude);
      tx.exec_params(
          "INSERT INTO gateway_stats_hourly AS s (org_id, gateway_id, hour_ms, rx_received, "
          "rx_received_ok, tx_received, tx_emitted) VALUES ($1, $2, $3, $4, $5, $6, $7) ON "
          "CONFLICT (org_id, gateway_id, hour_ms) DO UPDATE SET rx_received = s.rx_received + "
          "excluded.rx_received, rx_received_ok = s.rx_received_ok + excluded.rx_received_ok, "
          "tx_received = s.tx_received + excluded.tx_received, tx_emitted = s.tx_emitted + "
          "excluded.tx_emitted",
          org_id, gateway_id, hour, c.rx_received, c.rx_received_ok, c.tx_received, c.tx_emitted);
      return Status::Ok();
    });
  }

  Result<std::vector<Id>> OrganizationsOfGateway(const std::string& gateway_id) override {
    // No flush: called per gateway event; the table lags the uplinks by about a second. Only
    // uplinks through bysans' own broker count: an organisation's integration cannot claim
    // another's gateway here (migration 21).
    using R = Result<std::vector<Id>>;
    return pool_.Run<R>("organisations of gateway", [&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      auto r = tx.exec_params(
          "SELECT DISTINCT org_id FROM lorawan_gateways WHERE gateway_id = $1 AND seen_locally "
          "ORDER BY org_id",
          gateway_id);
      std::vector<Id> out;
      for (const auto& row : r) out.push_back(row[0].as<int64_t>());
      return R(std::move(out));
    });
  }

  Result<std::vector<GatewayHealth>> ListGatewayHealth(Id org_id) override {
    BYSANS_RETURN_IF_ERROR(flush_());
    using R = Result<std::vector<GatewayHealth>>;
    return pool_.Run<R>("list gateway health", [&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      auto r = tx.exec_params(HealthSql(""), org_id);
      std::vector<GatewayHealth> out;
      for (const auto& row : r) out.push_back(HealthFromRow(org_id, row));
      return R(std::move(out));
    });
  }

  Result<GatewayHealth> GetGatewayHealth(Id org_id, const std::string& gateway_id) override {
    BYSANS_RETURN_IF_ERROR(flush_());
    using R = Result<GatewayHealth>;
    return pool_.Run<R>("get gateway health", [&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      auto r = tx.exec_params(HealthSql(" WHERE g.gateway_id = $2"), org_id, gateway_id);
      if (r.empty()) return R(NotFound("gateway " + gateway_id + " not found"));
      return R(HealthFromRow(org_id, r[0]));
    });
  }

  Result<std::vector<GatewayStateChange>> GatewayHistory(Id org_id, const std::string& gateway_id,
                                                         TimeMs from, TimeMs to) override {
    using R = Result<std::vector<GatewayStateChange>>;
    return pool_.Run<R>("gateway history", [&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      auto r = tx.exec_params(
          "SELECT ts, online FROM gateway_states WHERE org_id = $1 AND gateway_id = $2 AND ts "
          "BETWEEN $3 AND $4 ORDER BY ts, id LIMIT 10000",
          org_id, gateway_id, from, to);
      std::vector<GatewayStateChange> out;
      for (const auto& row : r)
        out.push_back(GatewayStateChange{row[0].as<int64_t>(), row[1].as<bool>()});
      return R(std::move(out));
    });
  }

  Result<std::vector<GatewayStatsBucket>> GatewayStatsHistory(Id org_id,
                                                              const std::string& gateway_id,
                                                              TimeMs from, TimeMs to,
                                                              int64_t bucket_ms) override {
    if (bucket_ms < kHourMs || bucket_ms % kHourMs != 0)
      return InvalidArgument("bucket must be a whole number of hours");
    using R = Result<std::vector<GatewayStatsBucket>>;
    return pool_.Run<R>("gateway stats history", [&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      // Buckets as on SQLite (hour_ms - hour_ms % bucket: UTC days for 86,400,000).
      auto r = tx.exec_params(
          "SELECT hour_ms - (hour_ms % $3) AS b, sum(rx_received), sum(rx_received_ok), "
          "sum(tx_received), sum(tx_emitted) FROM gateway_stats_hourly WHERE org_id = $1 AND "
          "gateway_id = $2 AND hour_ms BETWEEN $4 AND $5 GROUP BY b ORDER BY b LIMIT 10000",
          org_id, gateway_id, bucket_ms, from, to);
      std::vector<GatewayStatsBucket> out;
      for (const auto& row : r)
        out.push_back(GatewayStatsBucket{
            row[0].as<int64_t>(), GatewayCounters{row[1].as<int64_t>(), row[2].as<int64_t>(),
                                                  row[3].as<int64_t>(), row[4].as<int64_t>()}});
      return R(std::move(out));
    });
  }

  Result<std::vector<HeardDevice>> HeardDevices(Id org_id, const std::string& gateway_id) override {
    BYSANS_RETURN_IF_ERROR(flush_());
    using R = Result<std::vector<HeardDevice>>;
    return pool_.Run<R>("heard devices", [&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      // Joined on the device's organisation too: a device moved to another organisation since.
      auto r = tx.exec_params(
          "SELECT g.device_id, d.name, coalesce(d.dev_eui, ''), g.rssi, g.snr, g.last_seen_ms, "
          "g.uplinks FROM gateway_devices g JOIN devices d ON d.id = g.device_id AND d.org_id = "
          "g.org_id WHERE g.org_id = $1 AND g.gateway_id = $2 ORDER BY g.last_seen_ms DESC, "
          "g.device_id LIMIT 10000",
          org_id, gateway_id);
      std::vector<HeardDevice> out;
      for (const auto& row : r) {
        HeardDevice h;
        h.device_id = row[0].as<int64_t>();
        h.name = row[1].as<std::string>();
        h.dev_eui = row[2].as<std::string>();
        if (!row[3].is_null()) h.rssi = row[3].as<double>();
        if (!row[4].is_null()) h.snr = row[4].as<double>();
        h.last_seen_ms = row[5].as<int64_t>();
        h.uplinks = row[6].as<int64_t>();
        out.push_back(std::move(h));
      }
      return R(std::move(out));
    });
  }

  Result<int64_t> DeleteGatewayHistoryBefore(TimeMs cutoff) override {
    return pool_.Transact<Result<int64_t>>("delete gateway history", [&](pqxx::work& tx) {
      int64_t removed = 0;
      for (const char* sql : {"DELETE FROM gateway_states WHERE ts < $1",
                              "DELETE FROM gateway_stats_hourly WHERE hour_ms < $1"})
        removed += tx.exec_params(sql, cutoff).affected_rows();
      return Result<int64_t>(removed);
    });
  }

 private:
  Pool& pool_;
  std::function<Status()> flush_;
};

}  // namespace

std::unique_ptr<GatewayStore> NewPostgresGatewayStore(pg::Pool& pool,
                                                      std::function<Status()> flush_touches) {
  return std::make_unique<PgGatewayStore>(pool, std::move(flush_touches));
}

}  // namespace bysans
