// MqttStore downlinks on PostgreSQL (downlinks): the history per device and the queue of the
// CoAP devices' downlinks. Taking a queued downlink is one statement that claims the row with
// FOR UPDATE SKIP LOCKED, so two callers (two nodes answering the same device) never take the
// same downlink.
#include <utility>

#include "store/postgres/pg_mqtt_parts.h"
#include "store/postgres/pool.h"
#include "store/postgres/sql_text.h"

namespace bysans::pg {
namespace {

constexpr const char* kColumns =
    "id, device_id, created_ms, fport, data, confirmed, topic, status, error, object";

Downlink FromRow(const pqxx::row& r) {
  Downlink d;
  d.id = r[0].as<int64_t>();
  d.device_id = r[1].as<int64_t>();
  d.created_ms = r[2].as<int64_t>();
  d.fport = r[3].as<int>();
  d.data = FromByteaHex(r[4].c_str());
  d.confirmed = r[5].as<bool>();
  d.topic = r[6].as<std::string>();
  d.status = r[7].as<std::string>();
  d.error = r[8].as<std::string>();
  d.object_json = r[9].as<std::string>();
  return d;
}

}  // namespace

Result<Downlink> AppendDownlink(Pool& pool, Downlink d) {
  return pool.Run<Result<Downlink>>("append downlink", [&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(
        "INSERT INTO downlinks (device_id, created_ms, fport, data, confirmed, topic, status, "
        "error, object) VALUES ($1, $2, $3, $4::bytea, $5, $6, $7, $8, $9) RETURNING id",
        d.device_id, d.created_ms, d.fport, ByteaHex(d.data), d.confirmed, d.topic, d.status,
        d.error, d.object_json);
    d.id = r[0][0].as<int64_t>();
    return Result<Downlink>(std::move(d));
  });
}

Status SetDownlinkStatus(Pool& pool, Id id, const std::string& status, const std::string& error) {
  return pool.Run<Status>("set downlink status", [&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    tx.exec_params("UPDATE downlinks SET status = $2, error = $3 WHERE id = $1", id, status, error);
    return Status::Ok();
  });
}

Result<std::vector<Downlink>> ListDownlinks(Pool& pool, Id device_id, int64_t limit) {
  using R = Result<std::vector<Downlink>>;
  return pool.Run<R>("list downlinks", [&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(std::string("SELECT ") + kColumns +
                                " FROM downlinks WHERE device_id = $1 ORDER BY id DESC LIMIT $2",
                            device_id, limit);
    std::vector<Downlink> out;
    out.reserve(r.size());
    for (const auto& row : r) out.push_back(FromRow(row));
    return R(std::move(out));
  });
}

Result<TakenDownlink> TakeQueuedDownlink(Pool& pool, Id device_id, const std::string& topic) {
  // One statement: the oldest queued downlink not locked by another caller is claimed and marked
  // sent; `queued` counts (up to 1,001, as SQLite) the queued ones as the statement's snapshot saw
  // them, the one taken included. A downlink locked by a concurrent SetDownlinkStatus is skipped
  // for this call (the next one may then go first).
  return pool.Run<Result<TakenDownlink>>("take queued downlink", [&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(
        "WITH next AS (SELECT id FROM downlinks WHERE topic = $2 AND device_id = $1 AND "
        "status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED), "
        "taken AS (UPDATE downlinks d SET status = 'sent', error = '' FROM next "
        "WHERE d.id = next.id RETURNING d.id, d.device_id, d.created_ms, d.fport, d.data, "
        "d.confirmed, d.topic, d.status, d.error, d.object), "
        "queued AS (SELECT count(*) AS n FROM (SELECT 1 FROM downlinks WHERE topic = $2 AND "
        "device_id = $1 AND status = 'queued' LIMIT 1001) q) "
        "SELECT t.*, queued.n FROM queued LEFT JOIN taken t ON true",
        device_id, topic);
    TakenDownlink out;
    const auto& row = r[0];
    const int64_t queued = row[10].as<int64_t>();
    if (!row[0].is_null()) out.downlink = FromRow(row);
    out.still_queued = out.downlink ? queued - 1 : queued;
    return Result<TakenDownlink>(std::move(out));
  });
}

Result<std::vector<Id>> DevicesWithQueuedDownlinks(Pool& pool, const std::string& topic,
                                                   size_t limit) {
  using R = Result<std::vector<Id>>;
  return pool.Run<R>("devices with queued downlinks", [&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    // The partial index downlinks_queued (topic, device_id, id) WHERE status = 'queued'.
    auto r = tx.exec_params(
        "SELECT DISTINCT device_id FROM downlinks WHERE status = 'queued' AND topic = $1 LIMIT $2",
        topic, static_cast<int64_t>(limit));
    std::vector<Id> out;
    out.reserve(r.size());
    for (const auto& row : r) out.push_back(row[0].as<int64_t>());
    return R(std::move(out));
  });
}

}  // namespace bysans::pg
