#include "store/postgres/maintenance.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <pqxx/pqxx>

#include "store/postgres/sql_text.h"

namespace bysans::pg {
namespace {

constexpr int64_t kHourMs = 3'600'000;

int64_t I64(const pqxx::field& f) { return std::strtoll(f.c_str(), nullptr, 10); }

// The per-series limit of one step: the step's rows shared by the series it looks at.
int64_t PerSeries(size_t n) {
  return std::max<int64_t>(1, kRetentionStepRows / static_cast<int64_t>(std::max<size_t>(n, 1)));
}

// `pending` minus its first `n`, with the series of `full` (more to do) in front.
void Advance(std::vector<int64_t>& pending, size_t n, const std::vector<int64_t>& full) {
  std::vector<int64_t> next(full);
  next.insert(next.end(), pending.begin() + static_cast<ptrdiff_t>(n), pending.end());
  pending = std::move(next);
}

// Deletes the rows of `table` (key column `col`) up to each series' `upto` found by `select`
// (rows: series id, count, upto; the count equal to the limit when there may be more).
int64_t DeleteUpTo(pqxx::work& w, const pqxx::result& found, const char* table, const char* col,
                   int64_t limit, std::vector<int64_t>* full) {
  std::vector<int64_t> ids, upto;
  for (const auto& row : found) {
    if (I64(row[1]) == 0) continue;
    ids.push_back(I64(row[0]));
    upto.push_back(I64(row[2]));
    if (I64(row[1]) >= limit) full->push_back(ids.back());
  }
  if (ids.empty()) return 0;
  // Each series' rows up to `upto` are exactly the ones counted (the oldest first, all below
  // the bound), so a range delete per series removes them.
  pqxx::result d = w.exec_params(std::string("DELETE FROM ") + table +
                                     " t USING unnest($1::bigint[], $2::bigint[]) d(id, upto) "
                                     "WHERE t.series_id = d.id AND t." +
                                     col + " <= d.upto",
                                 IntArray(ids), IntArray(upto));
  return static_cast<int64_t>(d.affected_rows());
}

// One step over the first series of `pending`: `find` ($1 the series ids, $2 `bound`, $3 the
// per-series limit) gives each series' count and last key of the rows to go, which are deleted.
int64_t Step(pqxx::connection_base& c, std::vector<int64_t>& pending, int64_t bound,
             const char* table, const char* col, const char* find) {
  const size_t n = std::min(pending.size(), kRetentionStepSeries);
  if (n == 0) return 0;
  const int64_t limit = PerSeries(n);
  pqxx::work w(c);
  pqxx::result found = w.exec_params(
      find,
      IntArray(std::vector<int64_t>(pending.begin(), pending.begin() + static_cast<ptrdiff_t>(n))),
      bound, limit);
  std::vector<int64_t> full;
  const int64_t deleted = DeleteUpTo(w, found, table, col, limit, &full);
  w.commit();
  Advance(pending, n, full);
  return deleted;
}

}  // namespace

int64_t DeleteRawMessages(pqxx::connection_base& c, Id device, TimeMs from, TimeMs to,
                          int64_t batch) {
  int64_t erased = 0;
  // Keyset cursor (received_ms, id): each batch starts where the last one ended instead of
  // scanning again over the index entries the earlier batches left dead.
  int64_t after_ms = std::numeric_limits<int64_t>::min();
  int64_t after_id = std::numeric_limits<int64_t>::min();
  for (;;) {
    pqxx::work w(c);
    pqxx::result r = w.exec_params(
        "WITH b AS (SELECT id, received_ms FROM raw_messages WHERE device_id = $1 "
        "AND received_ms >= $2 AND received_ms <= $3 AND (received_ms, id) > ($4, $5) "
        "ORDER BY received_ms, id LIMIT $6), "
        "d AS (DELETE FROM raw_messages WHERE id = ANY(ARRAY(SELECT id FROM b)) RETURNING id), "
        "l AS (SELECT received_ms, id FROM b ORDER BY received_ms DESC, id DESC LIMIT 1) "
        "SELECT (SELECT count(*) FROM b), (SELECT count(*) FROM d), "
        "coalesce((SELECT received_ms FROM l), 0), coalesce((SELECT id FROM l), 0)",
        device, from, to, after_ms, after_id, batch);
    w.commit();
    erased += I64(r[0][1]);
    if (I64(r[0][0]) < batch) return erased;
    after_ms = I64(r[0][2]);
    after_id = I64(r[0][3]);
  }
}

std::vector<Id> DevicesWithRawBefore(pqxx::connection_base& c, const std::vector<Id>& devices,
                                     TimeMs before) {
  pqxx::nontransaction n(c);
  pqxx::result r = n.exec_params(
      "SELECT d FROM unnest($1::bigint[]) d WHERE EXISTS (SELECT 1 FROM raw_messages "
      "WHERE device_id = d AND received_ms < $2) ORDER BY d",
      IntArray(std::vector<int64_t>(devices.begin(), devices.end())), before);
  std::vector<Id> out;
  for (const auto& row : r) out.push_back(I64(row[0]));
  return out;
}

std::vector<int64_t> SeriesWithReadings(pqxx::connection_base& c, const std::vector<Id>& devices) {
  pqxx::nontransaction n(c);
  pqxx::result r = n.exec_params(
      "SELECT s.id FROM series s WHERE s.device_id = ANY($1::bigint[]) AND EXISTS (SELECT 1 "
      "FROM readings r WHERE r.series_id = s.id) ORDER BY s.id",
      IntArray(std::vector<int64_t>(devices.begin(), devices.end())));
  std::vector<int64_t> out;
  for (const auto& row : r) out.push_back(I64(row[0]));
  return out;
}

int64_t ExpireReadingsStep(pqxx::connection_base& c, std::vector<int64_t>& pending, TimeMs before) {
  // The oldest expired readings of each series (at most `limit`), never its newest reading.
  return Step(
      c, pending, before, "readings", "ts",
      "SELECT s.id, x.n, coalesce(x.upto, 0) FROM unnest($1::bigint[]) s(id) "
      "CROSS JOIN LATERAL (SELECT max(ts) AS newest FROM readings WHERE series_id = s.id) m "
      "CROSS JOIN LATERAL (SELECT count(*) AS n, max(y.ts) AS upto FROM (SELECT r.ts "
      "FROM readings r WHERE r.series_id = s.id AND r.ts < least($2::bigint, m.newest) "
      "ORDER BY r.ts LIMIT $3) y) x WHERE m.newest IS NOT NULL");
}

int64_t ExpireHoursStep(pqxx::connection_base& c, std::vector<int64_t>& pending, TimeMs before) {
  // An hour goes when it is before the cutoff's hour and before the hour of the series' oldest
  // remaining reading: its readings are all gone (the hourly rows of hours that still have
  // readings are what Aggregate reads for them).
  return Step(
      c, pending, FloorTo(before, kHourMs), "readings_hourly", "hour",
      "SELECT c.id, x.n, coalesce(x.upto, 0) FROM unnest($1::bigint[]) c(id) "
      "CROSS JOIN LATERAL (SELECT min(r.ts) AS t FROM readings r WHERE r.series_id = c.id) o "
      "CROSS JOIN LATERAL (SELECT count(*) AS n, max(y.hour) AS upto FROM (SELECT h.hour "
      "FROM readings_hourly h WHERE h.series_id = c.id AND h.hour < least($2::bigint, "
      "coalesce(o.t - ((o.t % 3600000) + 3600000) % 3600000, $2::bigint)) "
      "ORDER BY h.hour LIMIT $3) y) x");
}

void Vacuum(pqxx::connection_base& c, const std::vector<std::string>& tables, bool index_cleanup) {
  if (tables.empty()) return;
  pqxx::nontransaction n(c);
  // This backend's counts of the rows it deleted are flushed now, not up to a second later
  // (after the VACUUM, where they would count the removed rows as dead again).
  n.exec("SELECT pg_stat_force_next_flush()");
  std::string list;
  for (const std::string& t : tables) list += (list.empty() ? "" : ", ") + t;
  n.exec(std::string("VACUUM ") + (index_cleanup ? "(INDEX_CLEANUP ON) " : "") + list);
}

}  // namespace bysans::pg
