// SqliteStore's raw-message state on the writer thread: the next message id,
// the index batch not yet written (raw_device_runs.h) and the dedup window
// (dedup_window.h), loaded at open; and the dedup check inside a commit.
#include <algorithm>

#include "store/sqlite/raw_log_codec.h"
#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {

Status SqliteStore::LoadRawLogState(Db& db) {
  {
    BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT id + n FROM raw_log ORDER BY id DESC "
                                                "LIMIT 1"));
    next_message_id_ = st->Step() ? st->Int(0) : 1;
    BYSANS_RETURN_IF_ERROR(st->status());
  }
  raw_runs_.Clear();
  {
    // Rows committed after the last index batch.
    BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT id, data FROM raw_log WHERE id > (SELECT "
                                                "raw_indexed_upto FROM seal_state) ORDER BY id"));
    while (st->Step()) {
      RawLogReader reader(st->Blob(1), st->Int(0));
      RawLogEntry e;
      while (reader.Next(&e)) raw_runs_.Add(e.device_id, st->Int(0), e.received_ms);
      BYSANS_RETURN_IF_ERROR(reader.status());
    }
    BYSANS_RETURN_IF_ERROR(st->status());
  }
  // The keys of (at least) the newest dedup_.capacity() messages, newest rows first.
  std::vector<std::pair<int64_t, uint64_t>> keys;  // (id, hash)
  size_t scanned = 0;
  BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT id, data FROM raw_log ORDER BY id DESC"));
  while (scanned < dedup_.capacity() && st->Step()) {
    RawLogReader reader(st->Blob(1), st->Int(0));
    RawLogEntry e;
    while (reader.Next(&e)) {
      ++scanned;
      if (!e.dedup_key.empty()) keys.emplace_back(e.id, DedupWindow::Hash(e.dedup_key));
    }
    BYSANS_RETURN_IF_ERROR(reader.status());
  }
  BYSANS_RETURN_IF_ERROR(st->status());
  std::sort(keys.begin(), keys.end());
  for (const auto& [id, h] : keys) dedup_.Add(h, id);
  return Status::Ok();
}

Result<bool> SqliteStore::IsDuplicate(Db& db, std::string_view key, uint64_t h, int64_t first_id,
                                      const std::vector<const RawMessage*>& pending) {
  for (int64_t id : dedup_.Candidates(h)) {
    if (id >= first_id) {
      if (pending[static_cast<size_t>(id - first_id)]->dedup_key == key) return true;
      continue;
    }
    // A committed message: compare with the key in its raw_log row.
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db.Prepare("SELECT id, data FROM raw_log WHERE id <= ? ORDER BY id DESC LIMIT 1"));
    st->Bind(1, id);
    if (st->Step()) {
      RawLogReader reader(st->Blob(1), st->Int(0));
      RawLogEntry e;
      while (reader.Next(&e)) {
        if (e.id == id) {
          if (e.dedup_key == key) return true;
          break;
        }
      }
      BYSANS_RETURN_IF_ERROR(reader.status());
    }
    BYSANS_RETURN_IF_ERROR(st->status());
  }
  return false;
}

}  // namespace bysans::sqlite
