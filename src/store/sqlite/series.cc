// SeriesStore methods of SqliteStore: group-commit writer, open segment,
// sealing into chunks and hourly rollups, and the queries that merge them.
#include <algorithm>
#include <chrono>
#include <future>

#include "core/thread_name.h"
#include "core/wake_batch.h"
#include "store/share_codec.h"
#include "store/sqlite/log_codec.h"
#include "store/sqlite/raw_log_rows.h"
#include "store/sqlite/raw_messages_read.h"
#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {
namespace {

constexpr TimeMs kHour = 3'600'000;
constexpr TimeMs kTimeBound = int64_t{1} << 60;  // clamp for query ranges (~36 million years)

TimeMs FloorDiv(TimeMs a, TimeMs b) {
  TimeMs q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
TimeMs FloorTo(TimeMs t, TimeMs b) { return FloorDiv(t, b) * b; }

bool ByTs(const Point& a, const Point& b) { return a.ts < b.ts; }

// Keeps the last of each run of equal ts in a ts-sorted vector.
void KeepLastPerTs(std::vector<Point>& pts) {
  size_t w = 0;
  const size_t n = pts.size();
  for (size_t i = 0; i < n; ++i) {
    if (i + 1 < n && pts[i + 1].ts == pts[i].ts) continue;
    if (w != i) pts[w] = std::move(pts[i]);
    ++w;
  }
  pts.resize(w);
}

// Copies the points of a ts-sorted vector that fall in [from, to].
void CopyRange(const std::vector<Point>& src, TimeMs from, TimeMs to, std::vector<Point>* out) {
  auto lo = std::lower_bound(src.begin(), src.end(), from,
                             [](const Point& p, TimeMs t) { return p.ts < t; });
  for (auto it = lo; it != src.end() && it->ts <= to; ++it) out->push_back(*it);
}

}  // namespace

void SeriesBuf::Normalize() {
  if (sorted) return;
  std::stable_sort(pts.begin(), pts.end(), ByTs);
  KeepLastPerTs(pts);
  last_ts = pts.back().ts;  // not empty: an empty buffer is sorted
  sorted = true;
}

// ---------------------------------------------------------------- state load

Status SqliteStore::LoadSeriesState() {
  Db& db = *writer_db_;
  {
    BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT id, device_id, key, unit FROM series"));
    while (st->Step()) {
      SeriesInfo s{st->Int(0), st->Int(1), st->Text(2), st->Text(3)};
      next_series_id_ = std::max(next_series_id_, s.id + 1);
      if (s.device_id < 0) continue;  // a deleted series' tombstone (DeleteSeries)
      device_series_[s.device_id].push_back(s.id);
      series_by_key_[s.device_id][s.key] = s.id;
      series_.emplace(s.id, std::move(s));
    }
    BYSANS_RETURN_IF_ERROR(st->status());
  }
  int64_t sealed_upto = 0;
  {
    BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT sealed_upto FROM seal_state"));
    if (st->Step()) sealed_upto = st->Int(0);
    BYSANS_RETURN_IF_ERROR(st->status());
  }
  sealed_gen_ = sealed_upto;
  {
    // Chunks of a series never overlap in time, so the newest sealed point of
    // a series is the last point of its last chunk. Chunks of an unfinished
    // seal (seq > sealed_upto) are not sealed data; they are deleted below.
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db.Prepare("SELECT data FROM chunks WHERE series_id=? AND seq <= ? ORDER BY "
                            "t_min DESC LIMIT 1"));
    std::vector<Point> pts;
    for (auto& [sid, info] : series_) {
      st->Bind(1, sid).Bind(2, sealed_upto);
      if (st->Step()) {
        pts.clear();
        BYSANS_RETURN_IF_ERROR(DecodeChunk(st->Blob(0), &pts));
        if (!pts.empty()) {
          sealed_max_[sid] = pts.back().ts;
          info.SetLatest(pts.back());
        }
      }
      BYSANS_RETURN_IF_ERROR(st->status());
      (void)st->Run();  // reset for the next series
    }
  }
  BYSANS_RETURN_IF_ERROR(LoadRawLogState(db));
  open_ = std::make_shared<Segment>();
  open_->gen = sealed_upto + 1;
  // Crash recovery: every committed but unsealed reading is in points_log.
  BYSANS_ASSIGN_OR_RETURN(
      auto st, db.Prepare("SELECT rowid, series_id, ts, kind, num, str, quality FROM points_log "
                          "ORDER BY rowid"));
  while (st->Step()) {
    last_log_rowid_ = st->Int(0);
    const int64_t sid = st->Int(1);
    Point p;
    p.ts = st->Int(2);
    p.kind = static_cast<Kind>(st->Int(3));
    p.quality = static_cast<Quality>(st->Int(6));
    p.num = st->Double(4);
    if (p.kind == Kind::kString) p.str.assign(st->Text(5));
    auto info = series_.find(sid);
    if (info != series_.end() && (!info->second.latest || p.ts >= info->second.latest->ts))
      info->second.SetLatest(p);
    SeriesBuf& buf = open_->series[sid];
    buf.Append(std::move(p));
    ++open_->points;
  }
  BYSANS_RETURN_IF_ERROR(st->status());
  // Then the group commits' blobs, all newer than any points_log row.
  BYSANS_ASSIGN_OR_RETURN(auto blob_st, db.Prepare("SELECT id, data FROM points_blob ORDER BY id"));
  std::vector<SeriesPoints> groups;
  while (blob_st->Step()) {
    last_blob_id_ = blob_st->Int(0);
    groups.clear();
    BYSANS_RETURN_IF_ERROR(DecodeLogBlob(blob_st->Blob(1), &groups));
    for (SeriesPoints& g : groups) {
      auto info = series_.find(g.series_id);
      SeriesBuf& buf = open_->series[g.series_id];
      if (buf.pts.capacity() == 0) TakeSpare(g.series_id, &buf.pts);
      for (Point& p : g.pts) {
        if (info != series_.end() && (!info->second.latest || p.ts >= info->second.latest->ts))
          info->second.SetLatest(p);
        buf.Append(std::move(p));
        ++open_->points;
      }
    }
  }
  BYSANS_RETURN_IF_ERROR(blob_st->status());
  blob_st.reset();
  // Crash in the middle of a sliced seal: its chunks (seq > sealed_upto) belong
  // to series whose points are all still in the log, now in the open segment.
  if (!open_->series.empty()) {
    Txn txn(db, true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    BYSANS_ASSIGN_OR_RETURN(auto del,
                            db.Prepare("DELETE FROM chunks WHERE series_id=? AND seq > ?"));
    for (const auto& [sid, buf] : open_->series)
      BYSANS_RETURN_IF_ERROR(del->Bind(1, sid).Bind(2, sealed_upto).Run());
    del.reset();
    BYSANS_RETURN_IF_ERROR(txn.Commit());
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- writing

void SqliteStore::AppendShared(std::shared_ptr<const IngestBatch> batch, AppendDone done) {
  if (Status st = CheckIngestBatch(*batch); !st.ok()) {
    done(st);
    return;
  }
  Enqueue(PendingBatch{std::move(batch), std::move(done), nullptr});
}

void SqliteStore::Enqueue(PendingBatch p) {
  bool wake = false;
  {
    std::unique_lock lk(q_mu_);
    if (closing_) {
      lk.unlock();
      p.done(Unavailable("store is closing"));
      return;
    }
    if (queue_.size() >= opts_.max_queue_batches) {
      lk.unlock();
      p.done(Unavailable("ingest queue is full, try again later"));
      return;
    }
    // The writer waits only for an empty queue to get a batch (or, pacing, for an unpaced
    // one); it takes everything queued when it comes back from a commit, so other appends
    // need not wake it.
    const bool paced = p.batch->paced;
    if (!paced) ++unpaced_queued_;
    queue_.push_back(std::move(p));
    wake = queue_.size() == 1 ||
           (pacing_ &&
            (!paced || queue_.size() == static_cast<size_t>(opts_.group_commit_max_batches)));
  }
  if (wake) q_cv_.notify_one();
}

Status SqliteStore::RunSeriesOp(const std::shared_ptr<SeriesOp>& op) {
  std::promise<Status> p;
  auto f = p.get_future();
  // An empty unpaced batch: the writer commits it at once, with whatever else is queued.
  Enqueue(PendingBatch{std::make_shared<const IngestBatch>(),
                       [&p](Status s) { p.set_value(std::move(s)); }, op});
  BYSANS_RETURN_IF_ERROR(f.get());
  return op->status;
}

Result<SeriesRef> SqliteStore::CreateSeries(Id device_id, const std::string& key,
                                            const std::string& unit, bool* created) {
  if (key.empty()) return InvalidArgument("a series needs a key");
  auto op = std::make_shared<SeriesOp>();
  op->kind = SeriesOp::Kind::kCreate;
  op->device_id = device_id;
  op->key = key;
  op->unit = unit;
  BYSANS_RETURN_IF_ERROR(RunSeriesOp(op));
  if (created != nullptr) *created = op->created;
  return GetSeries(op->series_id);
}

Status SqliteStore::SetSeriesUnit(int64_t series_id, const std::string& unit) {
  auto op = std::make_shared<SeriesOp>();
  op->kind = SeriesOp::Kind::kSetUnit;
  op->series_id = series_id;
  op->unit = unit;
  return RunSeriesOp(op);
}

Status SqliteStore::Append(IngestBatch batch) {
  std::promise<Status> p;
  auto f = p.get_future();
  AppendAsync(std::move(batch), [&p](Status s) { p.set_value(std::move(s)); });
  return f.get();
}

void SqliteStore::WriterLoop() {
  NameThisThread("store-writer");
  const size_t max_group = static_cast<size_t>(std::max(1, opts_.group_commit_max_batches));
  const auto interval =
      std::chrono::microseconds(std::max<int64_t>(0, opts_.group_commit_interval_us));
  std::chrono::steady_clock::time_point last_start;
  for (;;) {
    std::vector<PendingBatch> group;
    {
      std::unique_lock lk(q_mu_);
      q_cv_.wait(lk, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty()) break;  // closing and drained
      // Pace commits of paced batches under load (group_commit_interval_us); an unpaced
      // append (or closing) wakes this wait, paced appends do not.
      if (interval.count() > 0 && unpaced_queued_ == 0) {
        pacing_ = true;
        q_cv_.wait_until(lk, last_start + interval, [&] {
          return closing_ || unpaced_queued_ > 0 || queue_.size() >= max_group;
        });
        pacing_ = false;
      }
      last_start = std::chrono::steady_clock::now();
      while (!queue_.empty() && group.size() < max_group) {
        if (!queue_.front().batch->paced) --unpaced_queued_;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    Status s = CommitGroup(group, 0, group.size());
    for (auto& p : group) {  // an erasure's seal: hand the segment over now (series_delete.cc)
      if (!p.op || p.op->kind != SeriesOp::Kind::kSeal) continue;
      std::unique_lock lk(seal_mu_);
      int64_t points = 0;
      {
        std::lock_guard slk(seg_mu_);
        points = open_->points;
      }
      if (seal_pending_) {
        p.op->seal_gen = -1;
      } else if (points == 0) {
        p.op->seal_gen = 0;
      } else {
        erase_seal_through_ = open_->gen;
        p.op->seal_gen = open_->gen;
        HandOverLocked();
        lk.unlock();
        seal_cv_.notify_all();
      }
    }
    {
      WakeBatch wakes;  // the callbacks' hand-offs to other threads: one wake-up each
      if (!s.ok() && group.size() > 1) {
        // Isolate the failing batch: commit the others one by one.
        for (size_t i = 0; i < group.size(); ++i) group[i].done(CommitGroup(group, i, i + 1));
      } else {
        for (auto& p : group) p.done(s);
      }
    }
    MaybeStartSeal(false);
  }
  // Closing: finish the running seal, then seal the rest.
  {
    std::lock_guard lk(seal_mu_);
    seal_closing_ = true;
  }
  seal_cv_.notify_all();
  MaybeStartSeal(true);
  std::unique_lock lk(seal_mu_);
  seal_cv_.wait(lk, [&] { return !seal_pending_; });
}

void SqliteStore::MaybeStartSeal(bool final) {
  std::unique_lock lk(seal_mu_);
  for (;;) {
    int64_t points = 0;
    bool given_up = false;
    {
      std::lock_guard slk(seg_mu_);
      points = open_->points;
      given_up = !seal_pending_ && sealing_ != nullptr;
    }
    if (points == 0 || (!final && points < opts_.seal_points)) return;
    if (given_up) return;  // closing after a failed seal: everything stays in the log
    if (!seal_pending_) break;
    // A seal is still running: let the open segment grow to 2 x seal_points,
    // then wait (back-pressure; bounds memory).
    if (!final && points < 2 * opts_.seal_points) return;
    seal_cv_.wait(lk, [&] { return !seal_pending_; });
  }
  HandOverLocked();
  lk.unlock();
  seal_cv_.notify_all();
}

void SqliteStore::HandOverLocked() {
  {
    std::lock_guard slk(seg_mu_);
    // Readers copy ranges of the sealing segment: sort it before it is shared.
    for (auto& [sid, buf] : open_->series) buf.Normalize();
    sealing_ = open_;
    open_ = std::make_shared<Segment>();
    open_->gen = sealing_->gen + 1;
  }
  seal_last_blob_ = last_blob_id_;
  seal_last_log_ = last_log_rowid_;
  seal_pending_ = true;
}

namespace {
const SeriesKeys kNoKeys;  // a device without series yet
}  // namespace

Status SqliteStore::CommitGroup(std::vector<PendingBatch>& group, size_t begin, size_t end) {
  Db& db = *writer_db_;
  commit_share_.clear();
  // The commit's points grouped by series, in commit order within a series.
  CommitPoints& applied = commit_points_;
  applied.Clear();
  std::vector<SeriesInfo> new_series;
  std::unordered_map<int64_t, std::string> unit_changes;
  // (device, key) → id for series created inside this transaction.
  std::map<std::pair<Id, std::string>, int64_t> pending;
  int64_t next_id = next_series_id_;
  int64_t last_blob = last_blob_id_;
  // This commit's raw messages (ids from first_id on) and their by-device entries.
  std::vector<const RawMessage*>& msgs = commit_msgs_;
  msgs.clear();
  const int64_t first_id = next_message_id_;
  RawRunsBuilder runs;
  bool index_now = false;  // this commit writes the index batch
  // Dedup keys enter the window as they are seen; a failed commit takes them back.
  size_t keys_added = 0;
  struct TakeBack {
    DedupWindow& w;
    size_t& n;
    bool committed = false;
    ~TakeBack() {
      if (!committed) w.RemoveNewest(n);
    }
  } take_back{dedup_, keys_added};
  // Erasure steps of this commit: latest values recomputed, series dropped (their keys are out
  // of series_by_key_ from the op on; put back if the commit fails).
  std::unordered_map<int64_t, std::optional<Point>> latest_resets;
  std::vector<int64_t> drops;
  struct DropsBack {
    SqliteStore& store;
    std::vector<int64_t>& drops;
    bool committed = false;
    ~DropsBack() {
      if (committed) return;
      std::lock_guard lk(store.cache_mu_);
      for (int64_t sid : drops) {
        const SeriesInfo& info = store.series_.at(sid);
        store.series_by_key_[info.device_id][info.key] = sid;
      }
    }
  } drops_back{*this, drops};
  // A series created in this transaction (by a reading or a CreateSeries).
  auto new_series_row = [&](Id dev, const std::string& key,
                            const std::string& unit) -> Result<int64_t> {
    const int64_t sid = next_id++;
    pending[{dev, key}] = sid;
    new_series.push_back(SeriesInfo{sid, dev, key, unit});
    BYSANS_ASSIGN_OR_RETURN(
        auto ins, db.Prepare("INSERT INTO series(id, device_id, key, unit) VALUES(?, ?, ?, ?)"));
    ins->Bind(1, sid).Bind(2, dev).Bind(3, key).Bind(4, unit);
    BYSANS_RETURN_IF_ERROR(ins->Run());
    return sid;
  };
  auto set_unit = [&](int64_t sid, const std::string& unit) -> Status {
    unit_changes[sid] = unit;
    BYSANS_ASSIGN_OR_RETURN(auto up, db.Prepare("UPDATE series SET unit=? WHERE id=?"));
    up->Bind(1, unit).Bind(2, sid);
    return up->Run();
  };
  // A series op (CreateSeries, SetSeriesUnit), in queue order with the readings.
  auto apply_op = [&](SeriesOp& op) -> Status {
    op.status = Status::Ok();
    if (op.kind == SeriesOp::Kind::kSetUnit) {
      const bool known = series_.count(op.series_id) > 0 ||
                         (op.series_id >= next_series_id_ && op.series_id < next_id);
      if (!known) {
        op.status = NotFound("no series with id " + std::to_string(op.series_id));
        return Status::Ok();
      }
      return set_unit(op.series_id, op.unit);
    }
    if (op.kind == SeriesOp::Kind::kSeal) return Status::Ok();  // after the commit
    if (op.kind == SeriesOp::Kind::kDrop || op.kind == SeriesOp::Kind::kRefreshLatest) {
      auto it = series_.find(op.series_id);
      // A series dropped earlier in this commit is still in series_ until the commit is
      // published: a second drop (two callers deleting it at once) finds no series, as it would
      // in a later commit.
      const bool dropped_here = std::find(drops.begin(), drops.end(), op.series_id) != drops.end();
      if (it == series_.end() || dropped_here) {
        op.status = NotFound("no series with id " + std::to_string(op.series_id));
        return Status::Ok();
      }
      if (op.kind == SeriesOp::Kind::kRefreshLatest) {
        BYSANS_ASSIGN_OR_RETURN(latest_resets[op.series_id], NewestPoint(db, op.series_id));
        return Status::Ok();
      }
      // A tombstone keeps the id taken; readings later in this commit start a new series.
      BYSANS_ASSIGN_OR_RETURN(
          auto up, db.Prepare("UPDATE series SET device_id=?, key='', unit='' WHERE id=?"));
      BYSANS_RETURN_IF_ERROR(up->Bind(1, -op.series_id).Bind(2, op.series_id).Run());
      {
        std::lock_guard lk(cache_mu_);
        series_by_key_[it->second.device_id].erase(it->second.key);
      }
      drops.push_back(op.series_id);
      return Status::Ok();
    }
    op.created = false;
    if (auto dk = series_by_key_.find(op.device_id); dk != series_by_key_.end()) {
      if (auto it = dk->second.find(op.key); it != dk->second.end()) {
        op.series_id = it->second;
        return Status::Ok();
      }
    }
    if (auto pk = pending.find({op.device_id, op.key}); pk != pending.end()) {
      op.series_id = pk->second;
      return Status::Ok();
    }
    BYSANS_ASSIGN_OR_RETURN(op.series_id, new_series_row(op.device_id, op.key, op.unit));
    op.created = true;
    return Status::Ok();
  };
  {
    Txn txn(db, true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    for (size_t b = begin; b < end; ++b) {
      if (group[b].op) {
        BYSANS_RETURN_IF_ERROR(apply_op(*group[b].op));
        continue;
      }
      const IngestBatch& batch = *group[b].batch;
      bool duplicate = false;  // a message's dedup key was already committed
      batch.duplicates = 0;    // counted anew if this transaction is retried
      const size_t batch_first = msgs.size();
      for (const RawMessage& m : batch.messages) {
        const int64_t id = first_id + static_cast<int64_t>(msgs.size());
        if (!m.dedup_key.empty()) {
          const uint64_t h = DedupWindow::Hash(m.dedup_key);
          BYSANS_ASSIGN_OR_RETURN(bool seen, IsDuplicate(db, m.dedup_key, h, first_id, msgs));
          if (seen) {
            duplicate = true;
            ++batch.duplicates;
            continue;
          }
          dedup_.Add(h, id);
          ++keys_added;
        }
        msgs.push_back(&m);
      }
      if (duplicate) continue;  // its readings were stored with the first copy
      if (batch.share_app_id != 0) AddToShareLog(batch, first_id, batch_first, msgs);
      // A batch's readings are usually one device's: its keys are looked up once.
      const SeriesKeys* keys = nullptr;
      Id keys_of = 0;
      for (const Reading& r : batch.readings) {
        if (keys == nullptr || keys_of != r.device_id) {
          auto dk = series_by_key_.find(r.device_id);
          keys = dk != series_by_key_.end() ? &dk->second : &kNoKeys;
          keys_of = r.device_id;
        }
        int64_t sid = 0;
        const std::string* known_unit = nullptr;  // the series' unit as of this transaction
        bool found = false;
        if (auto it = keys->find(r.key); it != keys->end()) {
          sid = it->second;
          found = true;
          auto uc = unit_changes.find(sid);
          known_unit = uc != unit_changes.end() ? &uc->second : &series_.at(sid).unit;
        }
        if (!found) {
          auto pk = pending.find({r.device_id, r.key});
          if (pk != pending.end()) {
            sid = pk->second;
            found = true;
            auto uc = unit_changes.find(sid);
            known_unit =
                uc != unit_changes.end() ? &uc->second : &new_series[sid - next_series_id_].unit;
          }
        }
        if (!found) {
          BYSANS_ASSIGN_OR_RETURN(sid, new_series_row(r.device_id, r.key, r.unit));
        } else if (!r.unit.empty() && r.unit != *known_unit) {
          BYSANS_RETURN_IF_ERROR(set_unit(sid, r.unit));
        }
        applied.Add(sid, ToPoint(r));
      }
    }
    // One raw_log row for the whole commit.
    BYSANS_RETURN_IF_ERROR(InsertRawLogRow(db, first_id, msgs, &runs, raw_zstd_));
    BYSANS_RETURN_IF_ERROR(InsertShareRows(db));
    if (applied.points() > 0) {
      // One log row for the whole commit (log_codec.h) instead of one row per reading.
      std::string blob;
      blob.reserve(applied.points() * 16 + applied.groups().size() * 4);
      EncodeLogBlob(applied.groups(), &blob);
      BYSANS_ASSIGN_OR_RETURN(auto blob_st, db.Prepare("INSERT INTO points_blob(data) VALUES(?)"));
      BYSANS_RETURN_IF_ERROR(blob_st->BindBlobUncopied(1, blob.data(), blob.size()).Run());
      last_blob = db.LastInsertId();
    }
    // The index batch is due: the rows collected so far and this commit's.
    if (raw_runs_.messages() + runs.messages() >= opts_.message_index_batch ||
        raw_runs_.logs() + runs.logs() >= opts_.message_index_rows) {
      RawRunsBuilder all = raw_runs_;
      all.Merge(runs);
      {
        std::lock_guard lk(erased_mu_);
        for (const ErasedInRow& e : erased_unindexed_) all.Subtract(e.device, e.log_id, e.count);
      }
      BYSANS_RETURN_IF_ERROR(all.Write(db));
      index_now = true;
    }
    BYSANS_RETURN_IF_ERROR(txn.Commit());
  }
  // Committed: publish to memory.
  take_back.committed = true;
  drops_back.committed = true;
  next_message_id_ += static_cast<int64_t>(msgs.size());
  if (index_now) {
    raw_runs_.Clear();
    std::lock_guard lk(erased_mu_);
    erased_unindexed_.clear();
  } else {
    raw_runs_.Merge(runs);
  }
  next_series_id_ = next_id;
  last_blob_id_ = last_blob;
  {
    std::lock_guard lk(cache_mu_);
    for (SeriesInfo& s : new_series) {
      device_series_[s.device_id].push_back(s.id);
      series_by_key_[s.device_id][s.key] = s.id;
      series_.emplace(s.id, std::move(s));
    }
    for (auto& [sid, unit] : unit_changes) series_[sid].unit = unit;
    for (auto& [sid, latest] : latest_resets) series_[sid].SetLatest(std::move(latest));
    // Each loop below touches one entry of each of a commit's ~1,000 series, ~15,000 in all:
    // a cache miss each. Looking them all up first lets those misses overlap.
    std::vector<SeriesInfo*> infos;
    infos.reserve(applied.groups().size());
    for (const SeriesPoints& g : applied.groups()) {
      infos.push_back(&series_.at(g.series_id));
      __builtin_prefetch(infos.back(), 1);
    }
    for (size_t i = 0; i < infos.size(); ++i) {
      const std::vector<Point>& pts = applied.groups()[i].pts;
      const Point* newest = nullptr;  // last write wins on equal ts
      for (const Point& p : pts)
        if (!newest || p.ts >= newest->ts) newest = &p;
      SeriesInfo& info = *infos[i];
      if (newest && (!info.latest || newest->ts >= info.latest->ts)) info.SetLatest(*newest);
    }
    for (int64_t sid : drops) {  // after the loop above: this commit's points may be theirs
      auto it = series_.find(sid);
      if (it == series_.end()) continue;
      auto& ids = device_series_[it->second.device_id];
      ids.erase(std::remove(ids.begin(), ids.end(), sid), ids.end());
      series_.erase(it);
    }
  }
  {
    std::lock_guard lk(seg_mu_);
    std::vector<SeriesBuf*> bufs;
    bufs.reserve(applied.groups().size());
    for (SeriesPoints& g : applied.groups()) {
      SeriesBuf& buf = open_->series[g.series_id];
      if (buf.pts.capacity() == 0) TakeSpare(g.series_id, &buf.pts);
      __builtin_prefetch(buf.pts.data() + buf.pts.size(), 1);  // where the next point goes
      bufs.push_back(&buf);
    }
    for (size_t i = 0; i < bufs.size(); ++i)
      for (Point& p : applied.groups()[i].pts) bufs[i]->Append(std::move(p));
    open_->points += static_cast<int64_t>(applied.points());
  }
  return Status::Ok();
}

void SqliteStore::AddToShareLog(const IngestBatch& batch, int64_t first_id, size_t batch_first,
                                const std::vector<const RawMessage*>& msgs) {
  auto row = std::find_if(commit_share_.begin(), commit_share_.end(),
                          [&](const ShareRow& r) { return r.app_id == batch.share_app_id; });
  if (row == commit_share_.end()) {
    commit_share_.push_back(ShareRow{batch.share_app_id, 0, 0, {}});
    row = commit_share_.end() - 1;
  }
  for (size_t i = batch_first; i < msgs.size(); ++i) {
    const RawMessage& m = *msgs[i];
    // Pipeline batches hold one message; in a batch of several the readings go with the first.
    std::span<const Reading> readings;
    if (i == batch_first) readings = batch.readings;
    if (row->records == 0) row->first_received_ms = m.received_ms;
    ++row->records;
    EncodeShareRecord(m.device_id, m.received_ms, first_id + static_cast<int64_t>(i),
                      batch.share_decoded, readings, &row->data);
  }
}

Status SqliteStore::InsertShareRows(Db& db) {
  for (const ShareRow& r : commit_share_) {
    BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("INSERT INTO share_log(app_id, records, "
                                                "first_received_ms, data) VALUES(?, ?, ?, ?)"));
    st->Bind(1, r.app_id).Bind(2, r.records).Bind(3, r.first_received_ms);
    BYSANS_RETURN_IF_ERROR(st->BindBlobUncopied(4, r.data.data(), r.data.size()).Run());
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- sealing

void SqliteStore::SealerLoop() {
  NameThisThread("store-sealer");
  std::unique_lock lk(seal_mu_);
  for (;;) {
    seal_cv_.wait(lk, [&] { return seal_pending_ || seal_stop_; });
    if (!seal_pending_) break;  // stopping and idle
    std::shared_ptr<Segment> seg;
    {
      std::lock_guard slk(seg_mu_);
      seg = sealing_;
    }
    const int64_t last_blob = seal_last_blob_;
    const int64_t last_log = seal_last_log_;
    lk.unlock();
    Status s = SealSegment(*seg, last_blob, last_log);
    lk.lock();
    if (s.ok()) {
      {
        // After the commit: a reader that no longer sees sealing_ reads a
        // snapshot with sealed_upto >= its generation.
        std::lock_guard slk(seg_mu_);
        sealing_.reset();
      }
      sealed_gen_ = seg->gen;
      seal_pending_ = false;
      seal_cv_.notify_all();
      lk.unlock();  // the writer takes seal_mu_ after every commit
      RecycleSegment(std::move(seg));
      lk.lock();
      continue;
    }
    // Failed: the segment stays visible in memory and its log stays in the
    // database. Retry (slices are idempotent: INSERT OR REPLACE), unless closing.
    if (seal_closing_ || seal_stop_) {
      seal_pending_ = false;
      seal_cv_.notify_all();
      continue;
    }
    seal_cv_.wait_for(lk, std::chrono::seconds(1), [&] { return seal_closing_ || seal_stop_; });
  }
}

void SqliteStore::RecycleSegment(std::shared_ptr<Segment> seg) {
  if (seg.use_count() != 1) return;  // still read: its last owner frees it
  std::unordered_map<int64_t, std::vector<Point>> spare;
  spare.reserve(seg->series.size());
  for (auto& [sid, buf] : seg->series) {
    buf.pts.clear();
    spare.emplace(sid, std::move(buf.pts));
  }
  seg.reset();
  std::unordered_map<int64_t, std::vector<Point>> older;
  {
    std::lock_guard lk(spare_mu_);
    older.swap(spare_pts_);
    spare_pts_ = std::move(spare);
  }
  // `older` (vectors of series the open segment has not asked for) is freed here, unlocked.
}

void SqliteStore::TakeSpare(int64_t series_id, std::vector<Point>* pts) {
  std::lock_guard lk(spare_mu_);
  auto it = spare_pts_.find(series_id);
  if (it == spare_pts_.end()) return;
  *pts = std::move(it->second);
  spare_pts_.erase(it);
}

Status SqliteStore::SealSegment(const Segment& seg, int64_t last_blob, int64_t last_log_rowid) {
  Db& db = *seal_db_;
  // Series whose points are all newer than their sealed data get a new chunk in
  // a slice; "late" series rewrite older chunks, so they wait for the final
  // transaction, where the rewrite becomes visible together with sealed_upto.
  std::vector<int64_t> fresh, late;
  fresh.reserve(seg.series.size());
  for (const auto& [sid, buf] : seg.series) {
    if (buf.pts.empty()) continue;
    auto it = sealed_max_.find(sid);
    if (it != sealed_max_.end() && buf.pts.front().ts <= it->second) {
      late.push_back(sid);
    } else {
      fresh.push_back(sid);
    }
  }
  std::sort(fresh.begin(), fresh.end());
  std::sort(late.begin(), late.end());
  // A slice ends at seal_slice_series series or seal_slice_points points,
  // whichever comes first (few series with many points each are as slow to
  // encode and write as many small ones).
  const size_t max_series = static_cast<size_t>(std::max(1, opts_.seal_slice_series));
  const size_t max_points = static_cast<size_t>(std::max<int64_t>(1, opts_.seal_slice_points));
  int slice_no = 0;
  for (size_t i = 0; i < fresh.size();) {
    {
      Txn txn(db, true, WriteTurn::kWhenIdle);
      BYSANS_RETURN_IF_ERROR(txn.begin_status());
      size_t series = 0, points = 0;
      for (; i < fresh.size() && series < max_series && points < max_points; ++i, ++series) {
        const std::vector<Point>& pts = seg.series.at(fresh[i]).pts;
        BYSANS_RETURN_IF_ERROR(SealSeries(db, fresh[i], pts, seg.gen));
        points += pts.size();
      }
      BYSANS_RETURN_IF_ERROR(txn.Commit());
    }
    if (opts_.after_seal_slice) opts_.after_seal_slice(slice_no);
    ++slice_no;
  }
  // An erasure waits for this seal: the log rows it deletes are overwritten (secure_delete).
  const bool erase = seg.gen <= erase_seal_through_.load();
  if (erase) BYSANS_RETURN_IF_ERROR(db.Exec("PRAGMA secure_delete=ON"));
  struct SecureOff {
    Db& db;
    bool on;
    ~SecureOff() {
      if (on) (void)db.Exec("PRAGMA secure_delete=FAST");
    }
  } secure_off{db, erase};
  {
    Txn txn(db, true, WriteTurn::kWhenIdle);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    for (int64_t sid : late)
      BYSANS_RETURN_IF_ERROR(SealSeries(db, sid, seg.series.at(sid).pts, seg.gen));
    {
      BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("UPDATE seal_state SET sealed_upto=?"));
      BYSANS_RETURN_IF_ERROR(st->Bind(1, seg.gen).Run());
    }
    if (last_log_rowid > 0) {  // rows written before points_blob existed
      BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("DELETE FROM points_log WHERE rowid <= ?"));
      BYSANS_RETURN_IF_ERROR(st->Bind(1, last_log_rowid).Run());
    }
    {
      BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("DELETE FROM points_blob WHERE id <= ?"));
      BYSANS_RETURN_IF_ERROR(st->Bind(1, last_blob).Run());
    }
    BYSANS_RETURN_IF_ERROR(txn.Commit());
  }
  std::vector<std::pair<int64_t, TimeMs>> oldest;
  oldest.reserve(seg.series.size());
  for (const auto& [sid, buf] : seg.series) {
    if (buf.pts.empty()) continue;
    oldest.emplace_back(sid, buf.pts.front().ts);
    auto [it, inserted] = sealed_max_.try_emplace(sid, buf.pts.back().ts);
    if (!inserted) it->second = std::max(it->second, buf.pts.back().ts);
  }
  // After the final commit, which makes the slices' chunks visible to retention too
  // (sealed_upto): a pass that marked the series done before may not have seen these points.
  retention_memo_.Sealed(oldest);
  return Status::Ok();
}

Status SqliteStore::SealSeries(Db& db, int64_t sid, const std::vector<Point>& pts, int64_t gen) {
  auto chunk_insert = [&](const std::vector<Point>& v) -> Status {
    std::string hours, data;
    EncodeHours(SummarizeHours(v), &hours);
    EncodeChunk(v, &data);
    BYSANS_ASSIGN_OR_RETURN(
        auto st,
        db.Prepare("INSERT OR REPLACE INTO chunks(series_id, t_min, seq, t_max, n, hours, data) "
                   "VALUES(?, ?, ?, ?, ?, ?, ?)"));
    st->Bind(1, sid).Bind(2, v.front().ts).Bind(3, gen).Bind(4, v.back().ts);
    st->Bind(5, static_cast<int64_t>(v.size())).BindBlob(6, hours.data(), hours.size());
    return st->BindBlob(7, data.data(), data.size()).Run();
  };
  auto it = sealed_max_.find(sid);
  const bool late = it != sealed_max_.end() && pts.front().ts <= it->second;
  // Common case: everything is newer than what is sealed: one new chunk.
  if (!late) return chunk_insert(pts);

  // Late or duplicate points: merge them with the chunks their time range
  // overlaps (newest write wins) and replace those chunks by one. Chunks of a
  // series therefore never overlap in time.
  std::vector<Point> merged;
  std::vector<std::pair<TimeMs, int64_t>> old_keys;
  {
    BYSANS_ASSIGN_OR_RETURN(auto st,
                            db.Prepare("SELECT t_min, seq, data FROM chunks WHERE series_id=? AND "
                                       "t_min <= ? AND t_max >= ?"));
    st->Bind(1, sid).Bind(2, pts.back().ts).Bind(3, pts.front().ts);
    while (st->Step()) {
      old_keys.emplace_back(st->Int(0), st->Int(1));
      BYSANS_RETURN_IF_ERROR(DecodeChunk(st->Blob(2), &merged));
    }
    BYSANS_RETURN_IF_ERROR(st->status());
  }
  std::stable_sort(merged.begin(), merged.end(), ByTs);
  merged.insert(merged.end(), pts.begin(), pts.end());
  std::stable_sort(merged.begin(), merged.end(), ByTs);  // old before new on equal ts
  KeepLastPerTs(merged);
  {
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db.Prepare("DELETE FROM chunks WHERE series_id=? AND t_min=? AND seq=?"));
    for (const auto& [t_min, seq] : old_keys)
      BYSANS_RETURN_IF_ERROR(st->Bind(1, sid).Bind(2, t_min).Bind(3, seq).Run());
  }
  return chunk_insert(merged);
}

// ---------------------------------------------------------------- reading

std::vector<SeriesInfo> SqliteStore::SeriesOf(Id device_id, const std::string& key) {
  std::vector<SeriesInfo> out;
  std::lock_guard lk(cache_mu_);
  auto it = device_series_.find(device_id);
  if (it == device_series_.end()) return out;
  for (int64_t sid : it->second) {
    const SeriesInfo& s = series_.at(sid);
    if (key.empty() || s.key == key) out.push_back(s);
  }
  return out;
}

std::vector<MemView> SqliteStore::SnapshotMemory(const std::vector<SeriesInfo>& series, TimeMs from,
                                                 TimeMs to) {
  std::vector<MemView> out(series.size());
  std::lock_guard lk(seg_mu_);
  for (size_t i = 0; i < series.size(); ++i) {
    MemView& v = out[i];
    v.open_gen = open_->gen;
    auto it = open_->series.find(series[i].id);
    if (it != open_->series.end()) {
      it->second.Normalize();
      CopyRange(it->second.pts, from, to, &v.open);
    }
    if (sealing_) {
      v.sealing_gen = sealing_->gen;
      auto st = sealing_->series.find(series[i].id);
      if (st != sealing_->series.end()) CopyRange(st->second.pts, from, to, &v.sealing);
    }
  }
  return out;
}

Status SqliteStore::ReadChunks(Db& db, int64_t sid, TimeMs from, TimeMs to, int64_t sealed_upto,
                               std::vector<Point>* out) {
  BYSANS_ASSIGN_OR_RETURN(auto st,
                          db.Prepare("SELECT data FROM chunks WHERE series_id=? AND t_min <= ? AND "
                                     "t_max >= ? AND seq <= ? ORDER BY t_min"));
  st->Bind(1, sid).Bind(2, to).Bind(3, from).Bind(4, sealed_upto);
  std::vector<Point> tmp;
  while (st->Step()) {
    tmp.clear();
    BYSANS_RETURN_IF_ERROR(DecodeChunk(st->Blob(0), &tmp));
    for (Point& p : tmp)
      if (p.ts >= from && p.ts <= to) out->push_back(std::move(p));
  }
  return st->status();
}

Status SqliteStore::ReadSeries(Db& db, int64_t sid, TimeMs from, TimeMs to, int64_t sealed_upto,
                               const MemView& mem, std::vector<Point>* out) {
  std::vector<Point> pts;
  BYSANS_RETURN_IF_ERROR(ReadChunks(db, sid, from, to, sealed_upto, &pts));
  bool sorted = std::is_sorted(pts.begin(), pts.end(), ByTs);
  auto add = [&](const std::vector<Point>& part) {
    if (part.empty()) return;
    if (!pts.empty() && part.front().ts <= pts.back().ts) sorted = false;
    pts.insert(pts.end(), part.begin(), part.end());
  };
  // Memory generations already in the snapshot's chunks are skipped.
  if (mem.sealing_gen > sealed_upto) add(mem.sealing);
  if (mem.open_gen > sealed_upto) add(mem.open);
  if (!sorted) {
    std::stable_sort(pts.begin(), pts.end(), ByTs);
    KeepLastPerTs(pts);
  }
  *out = std::move(pts);
  return Status::Ok();
}

Result<std::vector<Reading>> SqliteStore::QueryReadings(const ReadingQuery& q) {
  const TimeMs from = std::max(q.from, -kTimeBound);
  const TimeMs to = std::min(q.to, kTimeBound);
  const auto limit = static_cast<size_t>(std::clamp<int64_t>(q.limit, 0, 10'000'000));
  std::vector<Reading> out;
  if (from > to || limit == 0) return out;
  auto series = SeriesOf(q.device_id, q.key);
  if (series.empty()) return out;
  auto mem = SnapshotMemory(series, from, to);
  BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  Txn txn(*lease, false);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  BYSANS_ASSIGN_OR_RETURN(int64_t upto, ReadSealedUpto(*lease));
  std::vector<Point> pts;
  for (size_t i = 0; i < series.size(); ++i) {
    BYSANS_RETURN_IF_ERROR(ReadSeries(*lease, series[i].id, from, to, upto, mem[i], &pts));
    for (Point& p : pts) {
      if (q.quality && p.quality != *q.quality) continue;
      out.push_back(
          Reading{q.device_id, series[i].key, p.ts, ToValue(p), series[i].unit, p.quality});
    }
  }
  std::sort(out.begin(), out.end(), [&q](const Reading& a, const Reading& b) {
    if (a.ts != b.ts) return q.oldest_first ? a.ts < b.ts : a.ts > b.ts;
    return a.key < b.key;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

Result<std::vector<Bucket>> SqliteStore::Aggregate(const AggregateQuery& q) {
  if (q.bucket_ms <= 0) return InvalidArgument("bucket_ms must be positive");
  const TimeMs from = std::max(q.from, -kTimeBound);
  const TimeMs to = std::min(q.to, kTimeBound);
  std::vector<Bucket> out;
  if (from > to || q.key.empty()) return out;
  auto series = SeriesOf(q.device_id, q.key);
  if (series.empty()) return out;
  const int64_t sid = series[0].id;
  auto mem = SnapshotMemory(series, from, to);
  BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  Db& db = *lease;
  Txn txn(db, false);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  BYSANS_ASSIGN_OR_RETURN(int64_t upto, ReadSealedUpto(db));

  // Contributions in (mostly) time order; merged per bucket at the end.
  std::vector<Bucket> parts;
  auto add_summary = [&](TimeMs ts, int64_t n, double mn, double mx, double sum) {
    const TimeMs start = FloorTo(ts, q.bucket_ms);
    if (parts.empty() || parts.back().start != start) {
      parts.push_back(Bucket{start, n, mn, mx, sum});
      return;
    }
    Bucket& b = parts.back();
    b.min = std::min(b.min, mn);
    b.max = std::max(b.max, mx);
    b.sum += sum;
    b.count += n;
  };
  auto add_points = [&](const std::vector<Point>& pts, TimeMs lo, TimeMs hi) {
    for (const Point& p : pts)
      if (p.kind == Kind::kNumber && p.ts >= lo && p.ts <= hi)
        add_summary(p.ts, 1, p.num, p.num, p.num);
  };

  // Memory points newer than all sealed data can simply be added on top of
  // the chunks' hour summaries; otherwise (late data not yet sealed) read
  // exact points.
  std::vector<Point> mem_pts;
  bool fast = q.bucket_ms % kHour == 0;
  if (mem[0].sealing_gen > upto) mem_pts = mem[0].sealing;
  if (mem[0].open_gen > upto && !mem[0].open.empty()) {
    // Overlap between the two generations: take the exact path.
    if (!mem_pts.empty() && mem[0].open.front().ts <= mem_pts.back().ts) fast = false;
    mem_pts.insert(mem_pts.end(), mem[0].open.begin(), mem[0].open.end());
  }
  if (fast && !mem_pts.empty()) {
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db.Prepare("SELECT t_max FROM chunks WHERE series_id=? AND seq <= ? ORDER BY "
                            "t_min DESC LIMIT 1"));
    st->Bind(1, sid).Bind(2, upto);
    if (st->Step() && mem_pts.front().ts <= st->Int(0)) fast = false;
    BYSANS_RETURN_IF_ERROR(st->status());
  }
  if (!fast) {
    std::vector<Point> pts;
    BYSANS_RETURN_IF_ERROR(ReadSeries(db, sid, from, to, upto, mem[0], &pts));
    add_points(pts, from, to);
  } else {
    // Whole hours [h_from, h_to) from the chunks' hour summaries; points
    // outside them (partial hours at the edges) from the chunks' data.
    const TimeMs h_from = FloorTo(from + kHour - 1, kHour);
    const TimeMs h_to = FloorTo(to + 1, kHour);  // exclusive
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db.Prepare("SELECT t_min, t_max, hours, data FROM chunks WHERE series_id=? AND "
                            "t_min <= ? AND t_max >= ? AND seq <= ? ORDER BY t_min"));
    st->Bind(1, sid).Bind(2, to).Bind(3, from).Bind(4, upto);
    std::vector<HourSummary> hours;
    std::vector<Point> pts;
    while (st->Step()) {
      const TimeMs t_min = st->Int(0), t_max = st->Int(1);
      if (h_from < h_to) {
        hours.clear();
        BYSANS_RETURN_IF_ERROR(DecodeHours(st->Blob(2), &hours));
        for (const HourSummary& h : hours)
          if (h.hour >= h_from && h.hour < h_to) add_summary(h.hour, h.n, h.min, h.max, h.sum);
      }
      if (h_from >= h_to || t_min < h_from || t_max >= h_to) {
        pts.clear();
        BYSANS_RETURN_IF_ERROR(DecodeChunk(st->Blob(3), &pts));
        if (h_from >= h_to) {
          add_points(pts, from, to);
        } else {
          add_points(pts, from, h_from - 1);
          add_points(pts, h_to, to);
        }
      }
    }
    BYSANS_RETURN_IF_ERROR(st->status());
    add_points(mem_pts, from, to);
  }
  // Hours whose readings expired (retention.cc) answer from their kept summaries, whole hours.
  if (q.bucket_ms % kHour == 0) {
    const TimeMs h_from = FloorTo(from + kHour - 1, kHour);
    const TimeMs h_to = FloorTo(to + 1, kHour);  // exclusive
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db.Prepare("SELECT hours FROM chunk_hours WHERE series_id=? AND t_min < ? AND "
                            "t_max >= ? AND seq <= ? ORDER BY t_min"));
    st->Bind(1, sid).Bind(2, h_to).Bind(3, h_from).Bind(4, upto);
    std::vector<HourSummary> hours;
    while (h_from < h_to && st->Step()) {
      hours.clear();
      BYSANS_RETURN_IF_ERROR(DecodeHours(st->Blob(0), &hours));
      for (const HourSummary& h : hours)
        if (h.hour >= h_from && h.hour < h_to) add_summary(h.hour, h.n, h.min, h.max, h.sum);
    }
    BYSANS_RETURN_IF_ERROR(st->status());
  }
  // Merge contributions per bucket, oldest first.
  std::stable_sort(parts.begin(), parts.end(),
                   [](const Bucket& a, const Bucket& b) { return a.start < b.start; });
  for (const Bucket& b : parts) {
    if (!out.empty() && out.back().start == b.start) {
      Bucket& o = out.back();
      o.min = std::min(o.min, b.min);
      o.max = std::max(o.max, b.max);
      o.sum += b.sum;
      o.count += b.count;
    } else {
      out.push_back(b);
    }
  }
  return out;
}

Result<std::vector<std::string>> SqliteStore::Keys(Id device_id) {
  std::vector<std::string> out;
  for (const SeriesInfo& s : SeriesOf(device_id, "")) out.push_back(s.key);
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<SeriesRef>> SqliteStore::ListSeries(const std::vector<Id>& device_ids) {
  std::vector<SeriesRef> out;
  {
    std::lock_guard lk(cache_mu_);
    for (Id dev : device_ids) {
      auto it = device_series_.find(dev);
      if (it == device_series_.end()) continue;
      for (int64_t sid : it->second) {
        const SeriesInfo& s = series_.at(sid);
        out.push_back(RefOf(s));
        // A text the cache does not hold is longer than ListSeries gives (store.h).
        out.back().latest_text_omitted = s.latest_text_apart > 0;
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const SeriesRef& a, const SeriesRef& b) { return a.id < b.id; });
  return out;
}

Result<SeriesRef> SqliteStore::GetSeries(int64_t series_id) {
  std::vector<SeriesRef> out;
  {
    std::lock_guard lk(cache_mu_);
    auto it = series_.find(series_id);
    if (it == series_.end()) return NotFound("no series with id " + std::to_string(series_id));
    out.push_back(RefOf(it->second));
    if (!it->second.latest_text_apart) return std::move(out.front());
  }
  BYSANS_RETURN_IF_ERROR(ReadApartLatest(out, {0}));
  return std::move(out.front());
}

Result<std::vector<RawMessage>> SqliteStore::QueryMessages(const MessageQuery& q) {
  std::vector<RawMessage> out;
  const size_t limit = static_cast<size_t>(std::clamp<int64_t>(q.limit, 0, 10000));
  if (limit == 0) return out;
  BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  Txn txn(*lease, false);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  DeviceMessageFilter f{q.device_id, q.from, q.to, 0};
  BYSANS_RETURN_IF_ERROR(
      VisitDeviceMessages(*lease, f, MessageOrder::kNewestFirst, [&](RawMessage&& m) {
        out.push_back(std::move(m));
        return out.size() < limit;
      }));
  return out;
}

Result<std::map<Quality, int64_t>> SqliteStore::CountQuality(Id device_id) {
  std::map<Quality, int64_t> out;
  auto series = SeriesOf(device_id, "");
  if (series.empty()) return out;
  auto mem = SnapshotMemory(series, -kTimeBound, kTimeBound);
  BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  Txn txn(*lease, false);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  BYSANS_ASSIGN_OR_RETURN(int64_t upto, ReadSealedUpto(*lease));
  std::vector<Point> pts;
  for (size_t i = 0; i < series.size(); ++i) {
    BYSANS_RETURN_IF_ERROR(
        ReadSeries(*lease, series[i].id, -kTimeBound, kTimeBound, upto, mem[i], &pts));
    for (const Point& p : pts) ++out[p.quality];
  }
  return out;
}

}  // namespace bysans::sqlite
