#include "pg_reader.h"

#include <endian.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include "model/model.h"

namespace bench {
namespace {

// The snapshot's xmin and xmax, then every message above $1 (one statement: one snapshot).
constexpr const char* kPollSql =
    "SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint, r.id, "
    "r.device_id, r.payload FROM pg_current_snapshot() s LEFT JOIN LATERAL (SELECT id, device_id, "
    "%s AS payload FROM raw_messages WHERE id > $1) r ON true";

int64_t Int8(const PGresult* r, int row, int col) {
  uint64_t v = 0;
  std::memcpy(&v, PQgetvalue(r, row, col), sizeof v);
  return static_cast<int64_t>(be64toh(v));
}

bool Ok(PGconn* c, PGresult* r, const char* what) {
  const auto st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return true;
  std::fprintf(stderr, "bench_mqtt_load: %s: %s", what, PQerrorMessage(c));
  return false;
}

PGconn* Connect(const std::string& url) {
  PGconn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) == CONNECTION_OK) return c;
  std::fprintf(stderr, "bench_mqtt_load: cannot connect to PostgreSQL: %s", PQerrorMessage(c));
  PQfinish(c);
  return nullptr;
}

// The first column of a one-row text query, as a number (-1 on an error).
int64_t QueryInt(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  int64_t v = -1;
  if (Ok(c, r, sql.c_str()) && PQntuples(r) == 1)
    v = std::strtoll(PQgetvalue(r, 0, 0), nullptr, 10);
  PQclear(r);
  return v;
}

}  // namespace

PgReader::~PgReader() {
  if (conn_) PQfinish(conn_);
}

bool PgReader::Open(const std::string& url) {
  conn_ = Connect(url);
  if (!conn_) return false;
  // A generic plan of `id > $1` expects a third of the table and scans all of it; each poll
  // must read only the index range above the watermark.
  PGresult* set = PQexec(conn_, "SET plan_cache_mode = force_custom_plan");
  const bool set_ok = Ok(conn_, set, "SET plan_cache_mode");
  PQclear(set);
  if (!set_ok) return false;
  for (const bool payloads : {false, true}) {
    char sql[512];
    std::snprintf(sql, sizeof sql, kPollSql, payloads ? "payload" : "NULL::bytea");
    PGresult* r = PQprepare(conn_, payloads ? "poll_payloads" : "poll_ids", sql, 1, nullptr);
    const bool ok = Ok(conn_, r, "prepare");
    PQclear(r);
    if (!ok) return false;
  }
  watermark_ = QueryInt(conn_, "SELECT coalesce(max(id), 0) FROM raw_messages");
  return watermark_ >= 0;
}

int64_t PgReader::Poll(bool payloads, const std::function<void(int64_t, std::string_view)>& f) {
  const std::string wm = std::to_string(watermark_);
  const char* params[] = {wm.c_str()};
  PGresult* r = PQexecPrepared(conn_, payloads ? "poll_payloads" : "poll_ids", 1, params, nullptr,
                               nullptr, /*resultFormat=binary*/ 1);
  if (!Ok(conn_, r, "poll") || PQntuples(r) < 1) {
    PQclear(r);
    return -1;
  }
  const int64_t xmin = Int8(r, 0, 0);
  const int64_t xmax = Int8(r, 0, 1);
  int64_t newest = pending_.empty() ? watermark_ : pending_.back().first;
  for (int i = 0; i < PQntuples(r); ++i) {
    if (PQgetisnull(r, i, 2)) continue;  // no message above the watermark
    const int64_t id = Int8(r, i, 2);
    if (!above_.insert(id).second) continue;
    ++seen_;
    if (id > newest) newest = id;
    if (payloads)
      f(Int8(r, i, 3),
        std::string_view(PQgetvalue(r, i, 4), static_cast<size_t>(PQgetlength(r, i, 4))));
  }
  PQclear(r);
  if (pending_.empty() || newest > pending_.back().first) pending_.emplace_back(newest, xmax);
  int64_t safe = watermark_;
  while (!pending_.empty() && pending_.front().second <= xmin) {
    safe = pending_.front().first;
    pending_.pop_front();
  }
  if (safe > watermark_) {
    watermark_ = safe;
    std::erase_if(above_, [&](int64_t id) { return id <= watermark_; });
  }
  return seen_;
}

int CountStoredPostgres(const std::string& url) {
  PGconn* c = Connect(url);
  if (!c) return 1;
  using bysans::DecodeStatus;
  using bysans::Transport;
  const std::string error = std::to_string(static_cast<int>(DecodeStatus::kError));
  const std::string mqtt = std::to_string(static_cast<int>(Transport::kMqtt));
  const std::string lorawan = std::to_string(static_cast<int>(Transport::kLorawan));
  PGresult* r = PQexec(
      c, ("SELECT count(*) FILTER (WHERE transport = " + mqtt + " AND decode_status <> " + error +
          "), count(*), count(*) FILTER (WHERE transport = " + lorawan + " AND decode_status <> " +
          error + "), count(*) FILTER (WHERE transport = " + lorawan +
          " AND decode_status = " + error + ") FROM raw_messages")
             .c_str());
  std::vector<std::string> counts;
  if (Ok(c, r, "count raw_messages"))
    for (int i = 0; i < 4; ++i) counts.emplace_back(PQgetvalue(r, 0, i));
  PQclear(r);
  const int64_t points = QueryInt(c, "SELECT count(*) FROM readings");
  r = PQexec(c, ("SELECT count(*), decode_error FROM raw_messages WHERE decode_status = " + error +
                 " GROUP BY 2 ORDER BY 1 DESC LIMIT 20")
                    .c_str());
  if (Ok(c, r, "decode errors"))
    for (int i = 0; i < PQntuples(r); ++i)
      std::fprintf(stderr, "bench_mqtt_load: %s stored with the decode error: %s\n",
                   PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
  PQclear(r);
  PQfinish(c);
  if (counts.size() != 4 || points < 0) return 1;
  std::printf("mqtt=%s all=%s lorawan=%s lorawan_errors=%s points=%" PRId64 "\n", counts[0].c_str(),
              counts[1].c_str(), counts[2].c_str(), counts[3].c_str(), points);
  return 0;
}

}  // namespace bench
