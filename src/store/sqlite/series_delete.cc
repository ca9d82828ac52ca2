// The erasure primitives of SqliteStore (SeriesStore::DeleteReadings, DeleteSeries): readings
// physically removed from the log, the chunks and memory, freed bytes overwritten, WAL
// truncated. README.md "Erasure".
#include <chrono>
#include <thread>

#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {
namespace {

constexpr int kChunksPerStep = 64;  // chunks rewritten per transaction: ingest waits for one step
constexpr auto kSealWait = std::chrono::seconds(120);
constexpr int64_t kScrubPagesPerStep = 1024;  // free pages overwritten per transaction (4 MiB)

}  // namespace

Result<int64_t> ReadSealedUpto(Db& db) {
  BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT sealed_upto FROM seal_state"));
  if (!st->Step()) {
    BYSANS_RETURN_IF_ERROR(st->status());
    return Internal("seal_state row missing");
  }
  return st->Int(0);
}

Status InsertChunk(Db& db, int64_t sid, int64_t seq, const std::vector<Point>& v) {
  std::string hours, data;
  EncodeHours(SummarizeHours(v), &hours);
  EncodeChunk(v, &data);
  BYSANS_ASSIGN_OR_RETURN(
      auto st, db.Prepare("INSERT OR REPLACE INTO chunks(series_id, t_min, seq, t_max, n, hours, "
                          "data) VALUES(?, ?, ?, ?, ?, ?, ?)"));
  st->Bind(1, sid).Bind(2, v.front().ts).Bind(3, seq).Bind(4, v.back().ts);
  st->Bind(5, static_cast<int64_t>(v.size())).BindBlob(6, hours.data(), hours.size());
  return st->BindBlob(7, data.data(), data.size()).Run();
}

Status SqliteStore::SealForErase() {
  const auto deadline = std::chrono::steady_clock::now() + kSealWait;
  for (;;) {
    {
      // A running seal first: the writer does not wait for it (ingest goes on), this call does.
      std::unique_lock lk(seal_mu_);
      if (!seal_cv_.wait_until(lk, deadline, [&] { return !seal_pending_ || seal_stop_; }))
        return Unavailable("the store is busy sealing; try the deletion again");
      if (seal_stop_) return Unavailable("store is closing");
    }
    auto op = std::make_shared<SeriesOp>();
    op->kind = SeriesOp::Kind::kSeal;
    BYSANS_RETURN_IF_ERROR(RunSeriesOp(op));
    if (op->seal_gen == 0) return Status::Ok();  // nothing unsealed
    if (op->seal_gen < 0) continue;              // a seal started meanwhile: wait for it
    std::unique_lock lk(seal_mu_);
    if (!seal_cv_.wait_until(lk, deadline,
                             [&] { return sealed_gen_ >= op->seal_gen || seal_stop_; }))
      return Unavailable("the store is busy sealing; try the deletion again");
    if (sealed_gen_ < op->seal_gen) return Unavailable("store is closing");
    return Status::Ok();
  }
}

Status SqliteStore::EraseChunks(int64_t sid, TimeMs from, TimeMs to) {
  BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  Db& db = *lease;
  BYSANS_RETURN_IF_ERROR(db.Exec("PRAGMA secure_delete=ON"));
  struct SecureOff {
    Db& db;
    ~SecureOff() { (void)db.Exec("PRAGMA secure_delete=FAST"); }
  } secure_off{db};
  // Chunks in (t_min, seq) order from a cursor: a rewritten chunk may still span the range
  // (points on both sides) and must not be visited again.
  TimeMs after_t = INT64_MIN;
  int64_t after_seq = INT64_MIN;
  for (;;) {
    Txn txn(db, true, WriteTurn::kWhenIdle);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    // Chunks of an unfinished seal (seq > sealed_upto) hold only readings committed after
    // SealForErase: they are left alone (kept whole).
    BYSANS_ASSIGN_OR_RETURN(int64_t upto, ReadSealedUpto(db));
    struct Row {
      TimeMs t_min, t_max;
      int64_t seq;
      std::string data;
    };
    std::vector<Row> rows;
    {
      BYSANS_ASSIGN_OR_RETURN(
          auto st, db.Prepare("SELECT t_min, seq, t_max, data FROM chunks WHERE series_id=? AND "
                              "(t_min, seq) > (?, ?) AND t_min <= ? AND t_max >= ? AND seq <= ? "
                              "ORDER BY t_min, seq LIMIT ?"));
      st->Bind(1, sid).Bind(2, after_t).Bind(3, after_seq).Bind(4, to).Bind(5, from);
      st->Bind(6, upto).Bind(7, int64_t{kChunksPerStep});
      while (st->Step()) {
        const std::string_view blob = st->Blob(3);
        rows.push_back(Row{st->Int(0), st->Int(2), st->Int(1), std::string(blob)});
      }
      BYSANS_RETURN_IF_ERROR(st->status());
    }
    if (rows.empty()) break;
    BYSANS_ASSIGN_OR_RETURN(
        auto del, db.Prepare("DELETE FROM chunks WHERE series_id=? AND t_min=? AND seq=?"));
    std::vector<Point> pts;
    for (const Row& r : rows) {
      after_t = r.t_min;
      after_seq = r.seq;
      pts.clear();
      if (r.t_min < from || r.t_max > to) {  // partly in the range: keep the rest
        BYSANS_RETURN_IF_ERROR(DecodeChunk(r.data, &pts));
        std::erase_if(pts, [&](const Point& p) { return p.ts >= from && p.ts <= to; });
      }
      BYSANS_RETURN_IF_ERROR(del->Bind(1, sid).Bind(2, r.t_min).Bind(3, r.seq).Run());
      if (!pts.empty()) BYSANS_RETURN_IF_ERROR(InsertChunk(db, sid, r.seq, pts));
    }
    del.reset();
    BYSANS_RETURN_IF_ERROR(txn.Commit());
  }
  // Hour summaries that retention kept of expired readings (retention.cc) go whole when they
  // overlap the range.
  for (;;) {
    Txn txn(db, true, WriteTurn::kWhenIdle);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    std::vector<std::pair<TimeMs, int64_t>> keys;
    {
      BYSANS_ASSIGN_OR_RETURN(
          auto st, db.Prepare("SELECT t_min, seq FROM chunk_hours WHERE series_id=? AND t_min <= "
                              "? AND t_max >= ? LIMIT ?"));
      st->Bind(1, sid).Bind(2, to).Bind(3, from).Bind(4, int64_t{kChunksPerStep});
      while (st->Step()) keys.emplace_back(st->Int(0), st->Int(1));
      BYSANS_RETURN_IF_ERROR(st->status());
    }
    if (keys.empty()) break;
    BYSANS_ASSIGN_OR_RETURN(
        auto del, db.Prepare("DELETE FROM chunk_hours WHERE series_id=? AND t_min=? AND seq=?"));
    for (const auto& [t_min, seq] : keys)
      BYSANS_RETURN_IF_ERROR(del->Bind(1, sid).Bind(2, t_min).Bind(3, seq).Run());
    del.reset();
    BYSANS_RETURN_IF_ERROR(txn.Commit());
  }
  // Rows an older version left in points_log (recovered into memory at open, sealed since).
  Txn txn(db, true, WriteTurn::kWhenIdle);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  BYSANS_ASSIGN_OR_RETURN(
      auto st, db.Prepare("DELETE FROM points_log WHERE series_id=? AND ts >= ? AND ts <= ?"));
  BYSANS_RETURN_IF_ERROR(st->Bind(1, sid).Bind(2, from).Bind(3, to).Run());
  st.reset();
  return txn.Commit();
}

Status SqliteStore::ScrubFreePages() {
  BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  Db& db = *lease;
  auto pragma = [&](const char* sql) -> Result<int64_t> {
    BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare(sql));
    int64_t v = 0;
    if (st->Step()) v = st->Int(0);
    BYSANS_RETURN_IF_ERROR(st->status());
    (void)st->Run();  // reset
    return v;
  };
  BYSANS_ASSIGN_OR_RETURN(int64_t page_size, pragma("PRAGMA page_size"));
  BYSANS_ASSIGN_OR_RETURN(int64_t free_pages, pragma("PRAGMA freelist_count"));
  BYSANS_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS erase_scratch(id INTEGER PRIMARY KEY, b BLOB NOT NULL)"));
  // Zero blobs take the free pages first (SQLite reuses its free list before it grows the
  // file), a bounded number per transaction; then they are deleted again.
  for (int64_t left = free_pages; left > 0; left -= kScrubPagesPerStep) {
    Txn txn(db, true, WriteTurn::kWhenIdle);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    BYSANS_ASSIGN_OR_RETURN(auto st,
                            db.Prepare("INSERT INTO erase_scratch(b) VALUES(zeroblob(?))"));
    BYSANS_RETURN_IF_ERROR(st->Bind(1, std::min(left, kScrubPagesPerStep) * (page_size - 8)).Run());
    st.reset();
    BYSANS_RETURN_IF_ERROR(txn.Commit());
  }
  Txn txn(db, true, WriteTurn::kWhenIdle);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  BYSANS_RETURN_IF_ERROR(db.Exec("DELETE FROM erase_scratch"));
  return txn.Commit();
}

Status SqliteStore::ScrubWal() {
  BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  Db& db = *lease;
  // Most frames are copied without holding anyone up; then, writers held, the rest and the
  // truncation (readers still in a transaction make it busy: a few tries).
  (void)db.Exec("PRAGMA wal_checkpoint(PASSIVE)");
  for (int attempt = 0; attempt < 50; ++attempt) {
    gate_.Lock(WriteTurn::kInOrder);
    auto st = db.Prepare("PRAGMA wal_checkpoint(TRUNCATE)");
    bool busy = true;
    Status status = st.status();
    if (st.ok() && (*st)->Step()) busy = (*st)->Int(0) != 0;
    if (st.ok()) {
      status = (*st)->status();
      (void)(*st)->Run();  // reset
    }
    gate_.Unlock();
    if (!status.ok()) return status;
    if (!busy) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Unavailable("the WAL could not be truncated (readers busy); try the deletion again");
}

Result<std::optional<Point>> SqliteStore::NewestPoint(Db& db, int64_t sid) {
  std::optional<Point> newest;
  BYSANS_ASSIGN_OR_RETURN(int64_t upto, ReadSealedUpto(db));
  {
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db.Prepare("SELECT data FROM chunks WHERE series_id=? AND seq <= ? ORDER BY "
                            "t_max DESC LIMIT 1"));
    st->Bind(1, sid).Bind(2, upto);
    if (st->Step()) {
      std::vector<Point> pts;
      BYSANS_RETURN_IF_ERROR(DecodeChunk(st->Blob(0), &pts));
      if (!pts.empty()) newest = pts.back();
    }
    BYSANS_RETURN_IF_ERROR(st->status());
    (void)st->Run();  // reset
  }
  std::lock_guard lk(seg_mu_);
  const Point* in_memory = nullptr;
  for (const std::shared_ptr<Segment>& seg : {sealing_, open_}) {
    if (!seg || seg->gen <= upto) continue;
    auto it = seg->series.find(sid);
    if (it == seg->series.end()) continue;
    for (const Point& p : it->second.pts) {  // arrival order: the last of equal ts wins
      const TimeMs best = in_memory ? in_memory->ts : newest ? newest->ts : INT64_MIN;
      if ((!in_memory && !newest) || p.ts >= best) in_memory = &p;
    }
  }
  if (in_memory) return std::optional<Point>(std::in_place, *in_memory);
  return newest;
}

Status SqliteStore::DeleteReadings(int64_t series_id, TimeMs from, TimeMs to) {
  BYSANS_RETURN_IF_ERROR(GetSeries(series_id).status());
  if (from > to) return Status::Ok();
  BYSANS_RETURN_IF_ERROR(SealForErase());
  BYSANS_RETURN_IF_ERROR(EraseChunks(series_id, from, to));
  auto refresh = std::make_shared<SeriesOp>();
  refresh->kind = SeriesOp::Kind::kRefreshLatest;
  refresh->series_id = series_id;
  BYSANS_RETURN_IF_ERROR(RunSeriesOp(refresh));
  BYSANS_RETURN_IF_ERROR(ScrubFreePages());
  return ScrubWal();
}

Status SqliteStore::DeleteSeries(int64_t series_id) {
  BYSANS_RETURN_IF_ERROR(GetSeries(series_id).status());
  // Dropped first: from then on no reading can join it; the ones committed before are sealed
  // by SealForErase and erased from the chunks.
  auto drop = std::make_shared<SeriesOp>();
  drop->kind = SeriesOp::Kind::kDrop;
  drop->series_id = series_id;
  BYSANS_RETURN_IF_ERROR(RunSeriesOp(drop));
  BYSANS_RETURN_IF_ERROR(SealForErase());
  BYSANS_RETURN_IF_ERROR(EraseChunks(series_id, INT64_MIN, INT64_MAX));
  retention_memo_.ForgetSeries(series_id);  // no reading can join it any more
  BYSANS_RETURN_IF_ERROR(ScrubFreePages());
  return ScrubWal();
}

}  // namespace bysans::sqlite
