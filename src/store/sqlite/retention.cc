// Retention of SqliteStore (SeriesStore::ApplyRetention, issue 18): expired readings leave the
// chunks while their hour summaries move to `chunk_hours` (kept until the aggregates' retention,
// so Aggregate with hour buckets answers the same), and expired raw messages leave raw_log
// (rows with nothing left are deleted). Every step is one short write transaction taken when no
// commit waits. README.md "Retention".
#include <algorithm>
#include <utility>

#include "store/sqlite/raw_messages_read.h"
#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {
namespace {

// A transaction's budget: a series looked at costs 1, a chunk row moved or deleted 4, and a
// chunk split 4 more per 1,024 points decoded, so one step touches at most 64 chunks, 256
// series or ~64k points and ingest waits for a few milliseconds at most (a single chunk is
// split in one step whatever its size: at most `seal_points` points).
constexpr int kStepBudget = 256;
constexpr int kChunkCost = 4;
constexpr int64_t kPointsPerChunkCost = 1024;
constexpr TimeMs kHourMs = 3'600'000;
constexpr TimeMs kDayMs = 86'400'000;

// The end (exclusive) of the period of `length` (an hour, a UTC day) holding `ts`.
TimeMs PeriodEnd(TimeMs ts, TimeMs length) {
  return ts - ((ts % length) + length) % length + length;
}

Status InsertHours(Db& db, int64_t sid, TimeMs t_min, int64_t seq, TimeMs t_max,
                   std::string_view hours) {
  BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("INSERT INTO chunk_hours(series_id, t_min, seq, "
                                              "t_max, hours) VALUES(?, ?, ?, ?, ?)"));
  st->Bind(1, sid).Bind(2, t_min).Bind(3, seq).Bind(4, t_max);
  return st->BindBlob(5, hours.data(), hours.size()).Run();
}

}  // namespace

Result<SqliteStore::ExpireCost> SqliteStore::ExpireSeriesChunks(Db& db, const SeriesCut& cut,
                                                                int64_t sealed_upto, int budget,
                                                                RetentionCounts* counts) {
  struct Row {
    TimeMs t_min, t_max;
    int64_t seq, n;
    std::string hours, data;
  };
  ExpireCost cost;
  int& touched = cost.rows;
  std::vector<Row> rows;
  if (cut.keep_from > INT64_MIN) {
    // Only chunks holding expired points: every chunk older than keep_from has moved already.
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db.Prepare("SELECT t_min, seq, t_max, n, hours, data FROM chunks WHERE "
                            "series_id=? AND t_min < ? AND seq <= ? ORDER BY t_min LIMIT ?"));
    st->Bind(1, cut.series_id).Bind(2, cut.keep_from).Bind(3, sealed_upto).Bind(4, budget);
    while (st->Step()) {
      rows.push_back(Row{st->Int(0), st->Int(2), st->Int(1), st->Int(3), std::string(st->Blob(4)),
                         std::string(st->Blob(5))});
    }
    BYSANS_RETURN_IF_ERROR(st->status());
  }
  if (!rows.empty()) {
    BYSANS_ASSIGN_OR_RETURN(
        auto del, db.Prepare("DELETE FROM chunks WHERE series_id=? AND t_min=? AND seq=?"));
    std::vector<Point> pts;
    for (const Row& r : rows) {
      if (cost.points >= kStepBudget * kPointsPerChunkCost / kChunkCost) return cost;  // more
      ++touched;
      BYSANS_RETURN_IF_ERROR(del->Bind(1, cut.series_id).Bind(2, r.t_min).Bind(3, r.seq).Run());
      if (r.t_max < cut.keep_from) {  // wholly expired: its summaries move as they are
        BYSANS_RETURN_IF_ERROR(InsertHours(db, cut.series_id, r.t_min, r.seq, r.t_max, r.hours));
        counts->readings += r.n;
        continue;
      }
      // Split at keep_from: the expired points' summaries move, the rest stays a chunk.
      pts.clear();
      BYSANS_RETURN_IF_ERROR(DecodeChunk(r.data, &pts));
      cost.points += static_cast<int64_t>(pts.size());
      const auto split = std::partition_point(pts.begin(), pts.end(),
                                              [&](const Point& p) { return p.ts < cut.keep_from; });
      const std::vector<Point> expired(pts.begin(), split);
      const std::vector<Point> kept(split, pts.end());
      if (!expired.empty()) {
        std::string hours;
        EncodeHours(SummarizeHours(expired), &hours);
        BYSANS_RETURN_IF_ERROR(
            InsertHours(db, cut.series_id, r.t_min, r.seq, expired.back().ts, hours));
      }
      // The rest in chunks of one UTC day each: the housekeeping's cutoffs are whole days
      // (model/retention.h RetentionCutoffsAt), so the next passes move them whole (no
      // decoding) instead of decoding and rewriting one long chunk again every day.
      for (auto from = kept.begin(); from != kept.end();) {
        const TimeMs day_end = PeriodEnd(from->ts, kDayMs);
        const auto to =
            std::partition_point(from, kept.end(), [&](const Point& p) { return p.ts < day_end; });
        BYSANS_RETURN_IF_ERROR(InsertChunk(db, cut.series_id, r.seq, std::vector<Point>(from, to)));
        from = to;
      }
      counts->readings += static_cast<int64_t>(expired.size());
    }
  }
  if (cut.hours_before > INT64_MIN && touched < budget) {
    // Whole hours go: every summary of an hour before the cutoff's hour, none after it, even
    // where two rows share an hour (a seal's boundary inside it).
    const TimeMs cutoff_hour = PeriodEnd(cut.hours_before, kHourMs) - kHourMs;
    struct HoursRow {
      TimeMs t_min, t_max;
      int64_t seq;
      std::string hours;
    };
    std::vector<HoursRow> old;
    {
      BYSANS_ASSIGN_OR_RETURN(auto st,
                              db.Prepare("SELECT t_min, seq, t_max, hours FROM chunk_hours WHERE "
                                         "series_id=? AND t_min < ? ORDER BY t_min LIMIT ?"));
      st->Bind(1, cut.series_id).Bind(2, cutoff_hour).Bind(3, budget - touched);
      while (st->Step())
        old.push_back(HoursRow{st->Int(0), st->Int(2), st->Int(1), std::string(st->Blob(3))});
      BYSANS_RETURN_IF_ERROR(st->status());
    }
    BYSANS_ASSIGN_OR_RETURN(
        auto del, db.Prepare("DELETE FROM chunk_hours WHERE series_id=? AND t_min=? AND seq=?"));
    std::vector<HourSummary> hours;
    for (const HoursRow& r : old) {
      ++touched;
      BYSANS_RETURN_IF_ERROR(del->Bind(1, cut.series_id).Bind(2, r.t_min).Bind(3, r.seq).Run());
      if (r.t_max < cutoff_hour) {
        ++counts->aggregate_chunks;
        continue;
      }
      // Straddles the cutoff's hour: the row keeps its later hours, from that hour on.
      hours.clear();
      BYSANS_RETURN_IF_ERROR(DecodeHours(r.hours, &hours));
      std::erase_if(hours, [&](const HourSummary& h) { return h.hour < cutoff_hour; });
      std::string kept;
      EncodeHours(hours, &kept);
      BYSANS_RETURN_IF_ERROR(InsertHours(db, cut.series_id, cutoff_hour, r.seq, r.t_max, kept));
    }
  }
  cost.done = touched < budget;
  return cost;
}

Status SqliteStore::ExpireChunks(const std::vector<SeriesCut>& cuts, RetentionCounts* counts) {
  BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  Db& db = *lease;
  // A step lost in a crash is only done again by the next pass: no fsync per step (as the
  // sealer's connection; WAL frames still become durable in order).
  ScopedPragma sync(db, "PRAGMA synchronous=NORMAL", "PRAGMA synchronous=FULL");
  BYSANS_RETURN_IF_ERROR(sync.status());
  size_t next = 0;
  while (next < cuts.size()) {
    if (eraser_stopping_.load()) return Unavailable("store is closing");
    Txn txn(db, true, WriteTurn::kWhenIdle);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    BYSANS_ASSIGN_OR_RETURN(int64_t upto, ReadSealedUpto(db));
    RetentionCounts step;
    // Marked done while this transaction holds the write lock (no seal commits in between),
    // forgotten again if it does not commit.
    std::vector<int64_t> done;
    for (int budget = kStepBudget; next < cuts.size() && budget > 0;) {
      const SeriesCut& cut = cuts[next];
      const int chunks_left = std::max(1, (budget - 1) / kChunkCost);
      BYSANS_ASSIGN_OR_RETURN(ExpireCost cost,
                              ExpireSeriesChunks(db, cut, upto, chunks_left, &step));
      if (cost.done) {  // else: more in the next step
        retention_memo_.SetSeriesDone(cut.series_id, cut.keep_from, cut.hours_before);
        done.push_back(cut.series_id);
        ++next;
      }
      budget -= 1 + cost.rows * kChunkCost +
                static_cast<int>(cost.points / kPointsPerChunkCost) * kChunkCost;
    }
    if (Status st = txn.Commit(); !st.ok()) {
      for (int64_t sid : done) retention_memo_.ForgetSeries(sid);
      return st;
    }
    *counts += step;
  }
  return Status::Ok();
}

Status SqliteStore::ExpireRawMessages(const std::vector<Id>& device_ids, TimeMs before,
                                      RetentionCounts* counts) {
  std::vector<DeviceInRow> rows;
  std::vector<Id> devices;  // those the memo cannot answer for
  int64_t newest_row = 0;
  {
    BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
    Db& db = *lease;
    Txn txn(db, false);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    {
      BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT IFNULL(MAX(id), 0) FROM raw_log"));
      if (st->Step()) newest_row = st->Int(0);
      BYSANS_RETURN_IF_ERROR(st->status());
    }
    // Devices done for this cutoff up to some row: trusted unless a row committed since then
    // holds a message received before the cutoff (an import, a clock set back).
    int64_t oldest_upto = INT64_MAX;
    std::vector<Id> trusted;
    for (Id device : device_ids) {
      const int64_t upto = retention_memo_.RawDoneUpto(device, before);
      if (upto < 0) {
        devices.push_back(device);
      } else {
        trusted.push_back(device);
        oldest_upto = std::min(oldest_upto, upto);
      }
    }
    if (oldest_upto < newest_row) {
      BYSANS_ASSIGN_OR_RETURN(
          auto st, db.Prepare("SELECT 1 FROM raw_log WHERE id > ? AND t_min < ? LIMIT 1"));
      st->Bind(1, oldest_upto).Bind(2, before);
      const bool old_message_since = st->Step();
      BYSANS_RETURN_IF_ERROR(st->status());
      if (old_message_since) {
        devices = device_ids;
      } else {  // checked up to newest_row: the next pass looks at newer rows only
        for (Id device : trusted) retention_memo_.SetRawDone(device, before, newest_row);
      }
    }
    if (!devices.empty())
      BYSANS_RETURN_IF_ERROR(FindDeviceRows(db, devices, INT64_MIN, before - 1, &rows));
  }
  std::sort(devices.begin(), devices.end());
  RawEraseOptions o;
  o.delete_empty_rows = true;
  o.rows_per_transaction = 64;
  o.rows_from_before = before - 1;  // rows above the index whose messages are all newer: skipped
  // Rows holding only these devices' messages, all expired, go without being read.
  o.whole_rows_before = before;
  RawEraseTally tally;
  Status st = EraseRawRows(
      [&](Id device, TimeMs t) {
        return t < before && std::binary_search(devices.begin(), devices.end(), device);
      },
      std::move(rows), o, eraser_stopping_, &tally);
  counts->raw_messages += tally.messages;
  counts->raw_rows += tally.rows_deleted;
  counts->raw_rows_unread += tally.rows_unread;
  if (st.ok() && !eraser_stopping_.load()) {
    // Every row up to newest_row was found and worked off (rows after it: checked next time).
    for (Id device : devices) retention_memo_.SetRawDone(device, before, newest_row);
  }
  return st;
}

Result<RetentionCounts> SqliteStore::ApplyRetention(const std::vector<Id>& device_ids,
                                                    const RetentionCutoffs& c) {
  RetentionCounts counts;
  if (c.readings_before || c.aggregates_before) {
    std::vector<SeriesCut> cuts;
    {
      std::lock_guard lk(cache_mu_);
      for (Id device : device_ids) {
        auto it = device_series_.find(device);
        if (it == device_series_.end()) continue;
        for (int64_t sid : it->second) {
          const SeriesInfo& s = series_.at(sid);
          if (!s.latest) continue;  // no reading yet
          SeriesCut cut{sid, INT64_MIN, c.aggregates_before.value_or(INT64_MIN)};
          // The newest reading stays, whatever its age.
          if (c.readings_before) cut.keep_from = std::min(*c.readings_before, s.latest->ts);
          if (!retention_memo_.SeriesDone(sid, cut.keep_from, cut.hours_before))
            cuts.push_back(cut);
        }
      }
    }
    BYSANS_RETURN_IF_ERROR(ExpireChunks(cuts, &counts));
  }
  if (c.raw_before) BYSANS_RETURN_IF_ERROR(ExpireRawMessages(device_ids, *c.raw_before, &counts));
  return counts;
}

}  // namespace bysans::sqlite
