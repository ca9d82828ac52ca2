#include "store/postgres/pg_latest_values.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

#include "store/postgres/sql_text.h"

namespace bysans::pg {
namespace {

// Devices whose rows the writer keeps between commits (decoded, some hundreds of bytes each: ~20
// MB at six keys a device); past this it starts again (one read of each device's row at its
// next commit).
constexpr size_t kMaxHeld = 50'000;
// Rounds of a write: a device whose row another writer inserted first (both saw none) takes a
// second; its row is locked from then on.
constexpr int kMaxRounds = 8;

int64_t I64(const pqxx::field& f) { return std::strtoll(f.c_str(), nullptr, 10); }

// An unreadable row (it never should be) is rewritten from what comes next, never a reason to
// stop ingest.
LatestRow RowOf(Id device, const pqxx::field& f) {
  Result<LatestRow> row = DecodeLatestRow(std::string_view(f.c_str(), f.size()));
  if (row.ok()) return std::move(row).value();
  spdlog::error("store: the latest values of device {} are unreadable; they are rewritten", device);
  return {};
}

// Puts `e` in `row`, or in `apart` when it does not fit there; returns whether the row changed.
bool Place(LatestRow& row, LatestEntry e, std::vector<LatestEntry>& apart) {
  const LatestEntry* packed = FindLatest(row, e.key);
  if (FitsPacked(e) && (packed || row.size() < kMaxPackedKeys))
    return MergeLatest(row, std::move(e));
  const bool older_packed = packed && packed->ts <= e.ts;
  std::string key = e.key;
  apart.push_back(std::move(e));
  return older_packed && RemoveLatest(row, key);
}

// Writes the entries kept apart (one per series), each unless the stored one is newer; in series
// order, so that two writers of the same series wait for each other instead of deadlocking. A
// series deleted meanwhile is skipped.
void WriteApart(pqxx::work& w, std::vector<LatestEntry> apart) {
  if (apart.empty()) return;
  std::sort(apart.begin(), apart.end(),
            [](const LatestEntry& a, const LatestEntry& b) { return a.series < b.series; });
  std::vector<int64_t> series, ts, kinds, qualities;
  std::vector<double> nums;
  std::vector<std::string> txts;
  for (LatestEntry& e : apart) {
    series.push_back(e.series);
    ts.push_back(e.ts);
    kinds.push_back(e.kind);
    nums.push_back(e.num);
    qualities.push_back(e.quality);
    txts.push_back(std::move(e.txt));
  }
  w.exec_params(
      "INSERT INTO series_latest AS l (series_id, device_id, ts, kind, num, txt, quality) "
      "SELECT u.s, s.device_id, u.t, u.k, u.n, u.x, u.q FROM unnest($1::bigint[], $2::bigint[], "
      "$3::smallint[], $4::float8[], $5::text[], $6::smallint[]) WITH ORDINALITY "
      "u(s, t, k, n, x, q, o) JOIN series s ON s.id = u.s ORDER BY u.o "
      "ON CONFLICT (series_id) DO UPDATE SET ts = excluded.ts, kind = excluded.kind, "
      "num = excluded.num, txt = excluded.txt, quality = excluded.quality "
      "WHERE l.ts <= excluded.ts",
      IntArray(series), IntArray(ts), IntArray(kinds), DoubleArray(nums), TextArray(txts),
      IntArray(qualities));
}

}  // namespace

void LatestValues::Load(pqxx::work& w, const std::vector<int64_t>& devices) {
  pqxx::result r = w.exec_params(
      "SELECT device_id, version, vals FROM device_latest WHERE device_id = ANY($1::bigint[])",
      IntArray(devices));
  for (int64_t d : devices) held_[d] = Held{};
  for (const auto& row : r) {
    const Id d = I64(row[0]);
    held_[d] = Held{I64(row[1]), RowOf(d, row[2])};
  }
}

void LatestValues::Lock(pqxx::work& w, const std::vector<int64_t>& devices) {
  // ORDER BY under FOR UPDATE: the rows are locked one by one in device order.
  pqxx::result r = w.exec_params(
      "SELECT device_id, version FROM device_latest WHERE device_id = ANY($1::bigint[]) "
      "ORDER BY device_id FOR UPDATE",
      IntArray(devices));
  std::unordered_set<Id> present;
  std::vector<int64_t> stale;
  for (const auto& row : r) {
    const Id d = I64(row[0]);
    present.insert(d);
    auto it = held_.find(d);
    if (it == held_.end() || it->second.version != I64(row[1])) stale.push_back(d);
  }
  for (int64_t d : devices)
    if (!present.count(d)) held_[d] = Held{};  // no row: inserted
  if (!stale.empty()) Load(w, stale);
}

void LatestValues::Write(pqxx::work& w, std::map<Id, std::vector<LatestEntry>> entries,
                         const std::map<std::pair<Id, std::string>, std::string>& units) {
  if (held_.size() > kMaxHeld) held_.clear();
  std::vector<int64_t> pending;  // in device order (the map's)
  for (const auto& [d, list] : entries) pending.push_back(d);
  std::map<Id, std::vector<LatestEntry>> apart;  // as placed in the round that wrote the device
  for (int round = 0; !pending.empty(); ++round) {
    if (round == kMaxRounds)
      throw std::runtime_error("device_latest: rows kept changing under the writer");
    Lock(w, pending);
    std::unordered_map<Id, LatestRow> merged;
    std::vector<int64_t> up_ids, up_versions, in_ids;
    std::vector<std::string> up_vals, in_vals;
    for (int64_t d : pending) {
      LatestRow row = held_[d].row;
      bool changed = false;
      std::vector<LatestEntry>& own_apart = apart[d];
      own_apart.clear();
      for (const LatestEntry& e : entries[d]) changed |= Place(row, e, own_apart);
      for (auto u = units.lower_bound({d, std::string()}); u != units.end() && u->first.first == d;
           ++u) {
        LatestEntry* e = FindLatest(row, u->first.second);
        if (e && e->unit != u->second) {
          e->unit = u->second;
          changed = true;
        }
      }
      if (!changed) continue;
      std::string text = EncodeLatestRow(row);
      if (held_[d].version == 0) {
        in_ids.push_back(d);
        in_vals.push_back(std::move(text));
      } else {
        up_ids.push_back(d);
        up_versions.push_back(held_[d].version);
        up_vals.push_back(std::move(text));
      }
      merged[d] = std::move(row);
    }
    std::vector<pqxx::result> done;
    if (!up_ids.empty())
      done.push_back(w.exec_params(
          "UPDATE device_latest d SET vals = u.v, version = nextval('device_latest_version') "
          "FROM unnest($1::bigint[], $2::bigint[], $3::text[]) u(id, ver, v) "
          "WHERE d.device_id = u.id AND d.version = u.ver RETURNING d.device_id, d.version",
          IntArray(up_ids), IntArray(up_versions), TextArray(up_vals)));
    if (!in_ids.empty())
      done.push_back(w.exec_params(
          "INSERT INTO device_latest (device_id, vals) SELECT * FROM unnest($1::bigint[], "
          "$2::text[]) ON CONFLICT (device_id) DO NOTHING RETURNING device_id, version",
          IntArray(in_ids), TextArray(in_vals)));
    for (const pqxx::result& r : done)
      for (const auto& row : r) {
        const Id d = I64(row[0]);
        held_[d] = Held{I64(row[1]), std::move(merged[d])};
        merged.erase(d);
      }
    // What was sent and not written: another writer inserted those rows first (or, never while
    // the rows are locked, changed them).
    pending.clear();
    for (auto& [d, row] : merged) pending.push_back(d);
    std::sort(pending.begin(), pending.end());
  }
  std::vector<LatestEntry> all_apart;
  for (auto& [d, list] : apart)
    for (LatestEntry& e : list) all_apart.push_back(std::move(e));
  WriteApart(w, std::move(all_apart));
}

void LatestValues::Modify(pqxx::work& w, Id device, const std::function<void(LatestRow&)>& change) {
  pqxx::result r =
      w.exec_params("SELECT vals FROM device_latest WHERE device_id = $1 FOR UPDATE", device);
  LatestRow row;
  std::string before;
  if (!r.empty()) {
    before = r[0][0].c_str();
    row = RowOf(device, r[0][0]);
  }
  change(row);
  std::string after = EncodeLatestRow(row);
  if (!r.empty() && after == before) return;
  if (row.empty()) {
    if (!r.empty()) w.exec_params("DELETE FROM device_latest WHERE device_id = $1", device);
    return;
  }
  w.exec_params(
      "INSERT INTO device_latest (device_id, vals) VALUES ($1, $2) ON CONFLICT (device_id) DO "
      "UPDATE SET vals = excluded.vals, version = excluded.version",
      device, after);
}

void LatestValues::Replace(pqxx::work& w, Id device, int64_t series, const std::string& key,
                           const std::optional<LatestEntry>& e) {
  std::vector<LatestEntry> apart;
  Modify(w, device, [&](LatestRow& row) {  // the device's row locked first, as by the writers
    RemoveLatest(row, key);
    if (!e) return;
    LatestEntry entry = *e;
    entry.series = series;
    Place(row, std::move(entry), apart);
  });
  w.exec_params("DELETE FROM series_latest WHERE series_id = $1", series);
  WriteApart(w, std::move(apart));
}

}  // namespace bysans::pg
