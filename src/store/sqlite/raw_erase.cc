// Erasure of raw messages (SeriesStore::EraseRawMessages): a message becomes a tombstone in its
// raw_log row (raw_log_codec.h: device 0, its time, nothing else), so the other messages keep
// their ids; its re-decode result goes; the by-device index stops counting it. The rewrite runs
// with secure_delete on, so the pages the old row occupied are zeroed rather than left on the
// free list, and a TRUNCATE checkpoint afterwards moves the new pages into the file and empties
// the WAL that still held the old ones.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "core/thread_name.h"
#include "store/sqlite/raw_log_codec.h"
#include "store/sqlite/raw_messages_read.h"
#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {
namespace {

// Rows rewritten per transaction: each is at most one commit's messages, so a transaction stays
// short and ingest (which takes the write gate first) is held up for milliseconds at most.
constexpr size_t kRowsPerTransaction = 16;

// secure_delete=ON for one connection's erasing transactions, then back to the connections'
// FAST (db.cc: zeroing only where it costs no extra I/O), which ordinary writes keep.
class SecureDelete {
 public:
  explicit SecureDelete(Db& db) : db_(db), on_(db.Exec("PRAGMA secure_delete=ON")) {}
  ~SecureDelete() { (void)db_.Exec("PRAGMA secure_delete=FAST"); }
  const Status& status() const { return on_; }

 private:
  Db& db_;
  Status on_;
};

// Subtracts the erased counts from the device's index rows that name the rows (one statement
// per run touched; runs left with no message are deleted).
Status SubtractFromIndex(Db& db, Id device, const std::map<int64_t, int64_t>& erased_per_row) {
  if (erased_per_row.empty()) return Status::Ok();
  BYSANS_ASSIGN_OR_RETURN(auto runs,
                          db.Prepare("SELECT first_log, n, logs FROM raw_device_runs WHERE dev=? "
                                     "AND first_log <= ? ORDER BY first_log"));
  runs->Bind(1, device).Bind(2, erased_per_row.rbegin()->first);
  struct Changed {
    int64_t first_log, n;
    std::vector<RunEntry> logs;
  };
  std::vector<Changed> changed;
  while (runs->Step()) {
    Changed c{runs->Int(0), runs->Int(1), {}};
    BYSANS_RETURN_IF_ERROR(DecodeRunLogs(runs->Blob(2), c.first_log, &c.logs));
    bool touched = false;
    for (const auto& [row, count] : erased_per_row)
      touched |= SubtractFromRun(row, count, &c.logs, &c.n);
    if (touched) changed.push_back(std::move(c));
  }
  BYSANS_RETURN_IF_ERROR(runs->status());
  for (const Changed& c : changed) {
    if (c.logs.empty()) {
      BYSANS_ASSIGN_OR_RETURN(
          auto del, db.Prepare("DELETE FROM raw_device_runs WHERE dev=? AND first_log=?"));
      BYSANS_RETURN_IF_ERROR(del->Bind(1, device).Bind(2, c.first_log).Run());
      continue;
    }
    // The run keeps its key, first_log, from which DecodeRunLogs counts: when the first row
    // lost all of the device's messages, an entry of 0 messages keeps its place.
    std::vector<RunEntry> logs = c.logs;
    if (logs.front().log_id != c.first_log) logs.insert(logs.begin(), RunEntry{c.first_log, 0});
    std::string blob;
    EncodeRunLogs(logs, &blob);
    BYSANS_ASSIGN_OR_RETURN(
        auto up, db.Prepare("UPDATE raw_device_runs SET n=?, logs=? WHERE dev=? AND first_log=?"));
    up->Bind(1, c.n).BindBlob(2, blob.data(), blob.size()).Bind(3, device).Bind(4, c.first_log);
    BYSANS_RETURN_IF_ERROR(up->Run());
  }
  return Status::Ok();
}

}  // namespace

Status SqliteStore::EraseInRows(Id device, TimeMs from, TimeMs to, std::span<const RunEntry> rows,
                                int64_t* erased) {
  BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  Db& db = *lease;
  SecureDelete secure(db);
  BYSANS_RETURN_IF_ERROR(secure.status());
  Txn txn(db, true, WriteTurn::kWhenIdle);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  int64_t upto = 0;
  {
    BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT raw_indexed_upto FROM seal_state"));
    if (st->Step()) upto = st->Int(0);
    BYSANS_RETURN_IF_ERROR(st->status());
  }
  std::map<int64_t, int64_t> indexed, unindexed;  // row → messages erased in it
  int64_t total = 0;
  ZstdCompressor z;  // one context for every row rewritten here
  for (const RunEntry& row : rows) {
    BYSANS_ASSIGN_OR_RETURN(auto get, db.Prepare("SELECT data FROM raw_log WHERE id=?"));
    get->Bind(1, row.log_id);
    if (!get->Step()) {
      BYSANS_RETURN_IF_ERROR(get->status());
      continue;
    }
    // Every message of the row, the erased ones as tombstones.
    std::vector<RawMessage> msgs;
    std::vector<Id> gone;
    {
      RawLogReader reader(get->Blob(0), row.log_id);
      RawLogEntry e;
      while (reader.NextEntry(&e)) {
        RawMessage m;
        if (e.device_id == device && e.received_ms >= from && e.received_ms <= to) {
          gone.push_back(e.id);
        } else if (e.device_id != kErasedDevice) {
          m = e.ToMessage();
        }
        m.received_ms = e.received_ms;  // a tombstone keeps only its time (and its place)
        msgs.push_back(std::move(m));
      }
      BYSANS_RETURN_IF_ERROR(reader.status());
    }
    BYSANS_RETURN_IF_ERROR(get->Run());
    if (gone.empty()) continue;
    std::vector<const RawMessage*> ptrs;
    for (const RawMessage& m : msgs) ptrs.push_back(&m);
    std::string plain, packed;
    EncodeRawLog(ptrs, &plain);
    BYSANS_ASSIGN_OR_RETURN(std::string_view data, CompressRawLog(plain, z, &packed));
    BYSANS_ASSIGN_OR_RETURN(auto put, db.Prepare("UPDATE raw_log SET data=? WHERE id=?"));
    BYSANS_RETURN_IF_ERROR(put->BindBlob(1, data.data(), data.size()).Bind(2, row.log_id).Run());
    BYSANS_ASSIGN_OR_RETURN(auto redecoded, db.Prepare("DELETE FROM raw_decode WHERE id=?"));
    for (Id id : gone) BYSANS_RETURN_IF_ERROR(redecoded->Bind(1, id).Run());
    (row.log_id <= upto ? indexed : unindexed)[row.log_id] += static_cast<int64_t>(gone.size());
    total += static_cast<int64_t>(gone.size());
  }
  BYSANS_RETURN_IF_ERROR(SubtractFromIndex(db, device, indexed));
  // Rows the index does not cover yet: the writer subtracts them when it writes its batch. It
  // cannot be inside a commit now (this transaction holds SQLite's write lock).
  size_t noted = 0;
  {
    std::lock_guard lk(erased_mu_);
    for (const auto& [row, count] : unindexed) erased_unindexed_.push_back({device, row, count});
    noted = unindexed.size();
  }
  Status committed = txn.Commit();
  if (!committed.ok()) {
    std::lock_guard lk(erased_mu_);
    erased_unindexed_.resize(erased_unindexed_.size() - noted);
    return committed;
  }
  *erased += total;
  return Status::Ok();
}

Result<int64_t> SqliteStore::EraseRawMessages(Id device_id, TimeMs from, TimeMs to) {
  std::vector<RunEntry> rows;
  {
    BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
    Txn txn(*lease, false);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    DeviceMessageFilter f;
    f.device_id = device_id;
    f.from = from;
    f.to = to;
    BYSANS_RETURN_IF_ERROR(FindRows(*lease, f, &rows, nullptr));
  }
  // Rows committed after the look-up hold messages received after it began: newer than any
  // `to` in the past, and a device being deleted sends none.
  std::sort(rows.begin(), rows.end(),
            [](const RunEntry& a, const RunEntry& b) { return a.log_id < b.log_id; });
  rows.erase(std::unique(rows.begin(), rows.end(),
                         [](const RunEntry& a, const RunEntry& b) { return a.log_id == b.log_id; }),
             rows.end());
  int64_t erased = 0;
  for (size_t i = 0; i < rows.size() && !eraser_stopping_.load(); i += kRowsPerTransaction) {
    const size_t n = std::min(kRowsPerTransaction, rows.size() - i);
    BYSANS_RETURN_IF_ERROR(
        EraseInRows(device_id, from, to, std::span<const RunEntry>(rows).subspan(i, n), &erased));
  }
  if (erased > 0) {
    BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
    // Best effort under load: a checkpoint that readers hold back is retried by the next one;
    // the WAL's old frames are overwritten as it starts over.
    (void)lease->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  return erased;
}

void SqliteStore::WakeEraser() {
  {
    std::lock_guard lk(eraser_mu_);
    eraser_wake_ = true;
  }
  eraser_cv_.notify_all();
}

Status SqliteStore::EraseNextQueued(bool* found) {
  *found = false;
  Id queued = 0, device = 0;
  TimeMs from = 0, to = 0;
  {
    BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, lease->Prepare("SELECT id, device_id, t_from, t_to FROM "
                                                    "erasures WHERE not_before_ms <= ? ORDER BY "
                                                    "not_before_ms, id LIMIT 1"));
    st->Bind(1, opts_.clock->NowMs());
    if (!st->Step()) return st->status();
    queued = st->Int(0);
    device = st->Int(1);
    from = st->Int(2);
    to = st->Int(3);
  }
  *found = true;
  BYSANS_ASSIGN_OR_RETURN(int64_t erased, EraseRawMessages(device, from, to));
  if (eraser_stopping_.load()) return Status::Ok();  // the entry stays: resumed after a restart
  if (from == INT64_MIN && to == INT64_MAX) {        // a deleted device: its readings go too
    BYSANS_ASSIGN_OR_RETURN(std::vector<SeriesRef> series, ListSeries({device}));
    for (const SeriesRef& s : series) {
      Status st = DeleteSeries(s.id);
      if (!st.ok() && st.code() != Code::kNotFound) return st;
      if (eraser_stopping_.load()) return Status::Ok();
    }
    if (!series.empty()) {
      spdlog::info("store: erased {} series of deleted device {}", series.size(), device);
    }
  }
  BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  BYSANS_ASSIGN_OR_RETURN(auto done, lease->Prepare("DELETE FROM erasures WHERE id=?"));
  BYSANS_RETURN_IF_ERROR(done->Bind(1, queued).Run());
  if (erased > 0)
    spdlog::info("store: erased {} raw messages of deleted device {}", erased, device);
  return Status::Ok();
}

void SqliteStore::EraserLoop() {
  NameThisThread("store-eraser");
  std::unique_lock lk(eraser_mu_);
  while (!eraser_stop_) {
    // Due entries are looked for every second (a second pass waits kEraseAgainAfterMs) and at
    // once when a delete queued one.
    eraser_cv_.wait_for(lk, std::chrono::seconds(1), [&] { return eraser_stop_ || eraser_wake_; });
    if (eraser_stop_) break;
    eraser_wake_ = false;
    lk.unlock();
    for (bool found = true; found && !eraser_stopping_.load();) {
      if (Status st = EraseNextQueued(&found); !st.ok()) {
        spdlog::warn("store: erasure of a deleted device's messages failed, retrying: {}",
                     st.message());
        break;
      }
    }
    lk.lock();
  }
}

}  // namespace bysans::sqlite
