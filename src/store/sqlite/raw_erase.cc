// Erasure of raw messages (SeriesStore::EraseRawMessages): a message becomes a tombstone in its
// raw_log row (raw_log_codec.h: device 0, its time, nothing else), so the other messages keep
// their ids; its re-decode result goes; the by-device index stops counting it. The rewrite runs
// with secure_delete on, so the pages the old row occupied are zeroed rather than left on the
// free list, and a TRUNCATE checkpoint afterwards moves the new pages into the file and empties
// the WAL that still held the old ones.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>

#include "core/thread_name.h"
#include "store/sqlite/raw_log_codec.h"
#include "store/sqlite/raw_messages_read.h"
#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {
namespace {

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
    // DecodeRunLogs counts from the key, first_log: when the first row lost all of the
    // device's messages, the run is keyed by its new first row (the rows of a device's runs
    // never overlap, so the key stays unique), and no entry names a row retention may delete.
    std::string blob;
    EncodeRunLogs(c.logs, &blob);
    BYSANS_ASSIGN_OR_RETURN(auto up, db.Prepare("UPDATE raw_device_runs SET first_log=?, n=?, "
                                                "logs=? WHERE dev=? AND first_log=?"));
    up->Bind(1, c.logs.front().log_id).Bind(2, c.n).BindBlob(3, blob.data(), blob.size());
    BYSANS_RETURN_IF_ERROR(up->Bind(4, device).Bind(5, c.first_log).Run());
  }
  return Status::Ok();
}

// Deletes the re-decode results of messages `lo`..`hi` (a row whose messages all went).
Status DeleteDecodeResults(Db& db, Id lo, Id hi) {
  BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("DELETE FROM raw_decode WHERE id >= ? AND id <= ?"));
  return st->Bind(1, lo).Bind(2, hi).Run();
}

// Retention's fast path (RawEraseOptions::whole_rows_before): when the index's counts of the
// row's listed devices (`holders`, all of one row) add up to the row's `n`, every message of
// the row is theirs (none of another device, no tombstone); when the row's newest message is
// also older than `before`, every one of them has expired, so the row and its messages'
// re-decode results go without the row being read or decompressed. Returns whether it went.
// Erasures between the index's reading and this transaction only turn listed devices'
// messages into tombstones, so the row may still go whole.
Result<bool> DeleteIfWhollyExpired(Db& db, std::span<const DeviceInRow> holders, TimeMs before,
                                   const std::function<bool(Id, TimeMs)>& match) {
  int64_t listed = 0;
  for (const DeviceInRow& h : holders) {
    if (h.count < 0) return false;  // above the index: not known
    listed += h.count;
  }
  const int64_t log_id = holders.front().log_id;
  int64_t n = 0;
  TimeMs t_max = 0;
  {
    // n and t_max come before the blob in the record: its overflow pages are not read.
    BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT n, t_max FROM raw_log WHERE id=?"));
    st->Bind(1, log_id);
    if (!st->Step()) {
      BYSANS_RETURN_IF_ERROR(st->status());
      return false;
    }
    n = st->Int(0);
    t_max = st->Int(1);
  }
  if (listed != n || t_max >= before) return false;
  for (const DeviceInRow& h : holders) {
    if (!match(h.device, t_max)) return false;
  }
  BYSANS_ASSIGN_OR_RETURN(auto del, db.Prepare("DELETE FROM raw_log WHERE id=?"));
  BYSANS_RETURN_IF_ERROR(del->Bind(1, log_id).Run());
  BYSANS_RETURN_IF_ERROR(DeleteDecodeResults(db, log_id, log_id + n - 1));
  return true;
}

}  // namespace

Status SqliteStore::EraseInRows(const RawEraseMatch& match, std::span<const DeviceInRow> rows,
                                const RawEraseOptions& o, RawEraseTally* tally) {
  BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  Db& db = *lease;
  std::optional<SecureDelete> secure;
  if (o.secure) {
    secure.emplace(db);
    BYSANS_RETURN_IF_ERROR(secure->status());
  }
  // Retention's steps need no fsync of their own (README.md "Retention"); an erasure's do.
  ScopedPragma sync(db, o.secure ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
                    "PRAGMA synchronous=FULL");
  BYSANS_RETURN_IF_ERROR(sync.status());
  Txn txn(db, true, WriteTurn::kWhenIdle);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  int64_t upto = 0, newest = 0;
  {
    BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT raw_indexed_upto, (SELECT MAX(id) FROM "
                                                "raw_log) FROM seal_state"));
    if (st->Step()) {
      upto = st->Int(0);
      newest = st->Int(1);
    }
    BYSANS_RETURN_IF_ERROR(st->status());
  }
  // device → (row → messages erased in it), for rows the index covers and rows it does not yet.
  std::map<Id, std::map<int64_t, int64_t>> indexed, unindexed;
  RawEraseTally done;
  ZstdCompressor z;  // one context for every row rewritten here
  for (size_t next = 0; next < rows.size();) {
    // The entries of one row, one per device.
    size_t end = next;
    while (end < rows.size() && rows[end].log_id == rows[next].log_id) ++end;
    const std::span<const DeviceInRow> holders = rows.subspan(next, end - next);
    const int64_t log_id = rows[next].log_id;
    next = end;
    // A row of tombstones only goes whole when the index covers it (no by-device entry still
    // names it: the counts reach 0 below) and it is not the newest (the next id is counted from
    // it at open).
    const bool may_delete = o.delete_empty_rows && log_id <= upto && log_id != newest;
    if (may_delete && o.whole_rows_before > INT64_MIN) {
      BYSANS_ASSIGN_OR_RETURN(bool gone,
                              DeleteIfWhollyExpired(db, holders, o.whole_rows_before, match));
      if (gone) {
        for (const DeviceInRow& h : holders) {
          indexed[h.device][log_id] += h.count;
          done.messages += h.count;
        }
        ++done.rows_deleted;
        ++done.rows_unread;
        continue;
      }
    }
    BYSANS_ASSIGN_OR_RETURN(auto get,
                            db.Prepare("SELECT data FROM raw_log WHERE id=? AND t_min <= ?"));
    get->Bind(1, log_id).Bind(2, o.rows_from_before);
    if (!get->Step()) {
      BYSANS_RETURN_IF_ERROR(get->status());
      continue;
    }
    // Every message of the row, the erased ones as tombstones.
    std::vector<RawMessage> msgs;
    std::vector<Id> gone;
    std::map<Id, int64_t> gone_of;  // device → messages erased in this row
    bool all_gone = true;
    {
      RawLogReader reader(get->Blob(0), log_id);
      RawLogEntry e;
      while (reader.NextEntry(&e)) {
        RawMessage m;
        if (e.device_id != kErasedDevice && match(e.device_id, e.received_ms)) {
          gone.push_back(e.id);
          ++gone_of[e.device_id];
        } else if (e.device_id != kErasedDevice) {
          m = e.ToMessage();
          all_gone = false;
        }
        m.received_ms = e.received_ms;  // a tombstone keeps only its time (and its place)
        msgs.push_back(std::move(m));
      }
      BYSANS_RETURN_IF_ERROR(reader.status());
    }
    BYSANS_RETURN_IF_ERROR(get->Run());
    if (gone.empty()) continue;
    if (may_delete && all_gone) {
      BYSANS_ASSIGN_OR_RETURN(auto del, db.Prepare("DELETE FROM raw_log WHERE id=?"));
      BYSANS_RETURN_IF_ERROR(del->Bind(1, log_id).Run());
      ++done.rows_deleted;
    } else {
      std::vector<const RawMessage*> ptrs;
      for (const RawMessage& m : msgs) ptrs.push_back(&m);
      std::string plain, packed;
      EncodeRawLog(ptrs, &plain);
      BYSANS_ASSIGN_OR_RETURN(std::string_view data, CompressRawLog(plain, z, &packed));
      BYSANS_ASSIGN_OR_RETURN(auto put, db.Prepare("UPDATE raw_log SET data=? WHERE id=?"));
      BYSANS_RETURN_IF_ERROR(put->BindBlob(1, data.data(), data.size()).Bind(2, log_id).Run());
    }
    // Their re-decode results: one range for a row whose messages all went (retention's usual
    // case: a few hundred lookups fewer per row), else one by one.
    if (all_gone) {
      const auto [lo, hi] = std::minmax_element(gone.begin(), gone.end());
      BYSANS_RETURN_IF_ERROR(DeleteDecodeResults(db, *lo, *hi));
    } else {
      BYSANS_ASSIGN_OR_RETURN(auto redecoded, db.Prepare("DELETE FROM raw_decode WHERE id=?"));
      for (Id id : gone) BYSANS_RETURN_IF_ERROR(redecoded->Bind(1, id).Run());
    }
    for (const auto& [device, count] : gone_of)
      (log_id <= upto ? indexed : unindexed)[device][log_id] += count;
    done.messages += static_cast<int64_t>(gone.size());
  }
  for (const auto& [device, per_row] : indexed)
    BYSANS_RETURN_IF_ERROR(SubtractFromIndex(db, device, per_row));
  // Rows the index does not cover yet: the writer subtracts them when it writes its batch. It
  // cannot be inside a commit now (this transaction holds SQLite's write lock).
  size_t noted = 0;
  {
    std::lock_guard lk(erased_mu_);
    for (const auto& [device, per_row] : unindexed) {
      for (const auto& [row, count] : per_row) {
        erased_unindexed_.push_back({device, row, count});
        ++noted;
      }
    }
  }
  Status committed = txn.Commit();
  if (!committed.ok()) {
    std::lock_guard lk(erased_mu_);
    erased_unindexed_.resize(erased_unindexed_.size() - noted);
    return committed;
  }
  tally->messages += done.messages;
  tally->rows_deleted += done.rows_deleted;
  tally->rows_unread += done.rows_unread;
  return Status::Ok();
}

Status SqliteStore::EraseRawRows(const RawEraseMatch& match, std::vector<DeviceInRow> rows,
                                 const RawEraseOptions& o, const std::atomic<bool>& stop,
                                 RawEraseTally* tally) {
  auto key = [](const DeviceInRow& e) { return std::pair(e.log_id, e.device); };
  std::sort(rows.begin(), rows.end(),
            [&](const DeviceInRow& a, const DeviceInRow& b) { return key(a) < key(b); });
  rows.erase(
      std::unique(rows.begin(), rows.end(),
                  [&](const DeviceInRow& a, const DeviceInRow& b) { return key(a) == key(b); }),
      rows.end());
  // Each row is at most one commit's messages, so a transaction stays short and ingest (which
  // takes the write gate first) is held up for milliseconds at most.
  const size_t per_txn = std::max<size_t>(1, o.rows_per_transaction);
  for (size_t i = 0; i < rows.size() && !stop.load();) {
    // per_txn rows, each with all its entries
    size_t end = i;
    for (size_t taken = 0; end < rows.size() && taken < per_txn; ++taken) {
      const int64_t log_id = rows[end].log_id;
      while (end < rows.size() && rows[end].log_id == log_id) ++end;
    }
    BYSANS_RETURN_IF_ERROR(
        EraseInRows(match, std::span<const DeviceInRow>(rows).subspan(i, end - i), o, tally));
    i = end;
  }
  return Status::Ok();
}

Result<int64_t> SqliteStore::EraseRawMessages(Id device_id, TimeMs from, TimeMs to) {
  std::vector<DeviceInRow> rows;
  {
    BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
    Txn txn(*lease, false);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    BYSANS_RETURN_IF_ERROR(FindDeviceRows(*lease, {device_id}, from, to, &rows));
  }
  // Rows committed after the look-up hold messages received after it began: newer than any
  // `to` in the past, and a device being deleted sends none.
  RawEraseTally tally;
  RawEraseOptions o;
  o.secure = true;
  BYSANS_RETURN_IF_ERROR(
      EraseRawRows([&](Id device, TimeMs t) { return device == device_id && t >= from && t <= to; },
                   std::move(rows), o, eraser_stopping_, &tally));
  const int64_t erased = tally.messages;
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
    retention_memo_.ForgetDevice(device);
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
