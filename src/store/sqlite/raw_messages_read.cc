#include "store/sqlite/raw_messages_read.h"

#include <algorithm>
#include <vector>

#include "store/sqlite/raw_device_runs.h"
#include "store/sqlite/raw_log_codec.h"

namespace bysans::sqlite {
namespace {

bool Overlaps(TimeMs lo, TimeMs hi, const DeviceMessageFilter& f) {
  return hi >= f.from && lo <= f.to;
}

}  // namespace

namespace {

Result<int64_t> IndexedUpto(Db& db) {
  BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT raw_indexed_upto FROM seal_state"));
  int64_t upto = 0;
  if (st->Step()) upto = st->Int(0);
  BYSANS_RETURN_IF_ERROR(st->status());
  return upto;
}

// The index's half of FindRows.
Status FindIndexedRows(Db& db, const DeviceMessageFilter& f, std::vector<RunEntry>* rows,
                       int64_t* count_inside) {
  BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT first_log, t_min, t_max, n, logs FROM "
                                              "raw_device_runs WHERE dev = ?1 AND t_max >= ?2 AND "
                                              "t_min <= ?3 ORDER BY first_log"));
  st->Bind(1, f.device_id).Bind(2, f.from).Bind(3, f.to);
  while (st->Step()) {
    if (count_inside != nullptr && st->Int(1) >= f.from && st->Int(2) <= f.to) {
      *count_inside += st->Int(3);
      continue;
    }
    BYSANS_RETURN_IF_ERROR(DecodeRunLogs(st->Blob(4), st->Int(0), rows));
  }
  return st->status();
}

// The rows above the index whose oldest message is at most `t_min_upto`.
Status FindUnindexedRows(Db& db, TimeMs t_min_upto, std::vector<RunEntry>* rows) {
  BYSANS_ASSIGN_OR_RETURN(int64_t upto, IndexedUpto(db));
  BYSANS_ASSIGN_OR_RETURN(
      auto st, db.Prepare("SELECT id FROM raw_log WHERE id > ? AND t_min <= ? ORDER BY id"));
  st->Bind(1, upto).Bind(2, t_min_upto);
  while (st->Step()) rows->push_back(RunEntry{st->Int(0), kUnknown});
  return st->status();
}

}  // namespace

// The raw_log rows that may hold the device's messages, ascending, with the
// count each holds (kUnknown above the index). With `count_inside` set, runs
// wholly inside the filter's time range are only added to *count_inside.
Status FindRows(Db& db, const DeviceMessageFilter& f, std::vector<RunEntry>* rows,
                int64_t* count_inside) {
  BYSANS_RETURN_IF_ERROR(FindIndexedRows(db, f, rows, count_inside));
  return FindUnindexedRows(db, INT64_MAX, rows);
}

Status FindDeviceRows(Db& db, const std::vector<Id>& devices, TimeMs from, TimeMs to,
                      std::vector<DeviceInRow>* out) {
  std::vector<RunEntry> rows;
  for (Id device : devices) {
    rows.clear();
    DeviceMessageFilter f;
    f.device_id = device;
    f.from = from;
    f.to = to;
    BYSANS_RETURN_IF_ERROR(FindIndexedRows(db, f, &rows, nullptr));
    for (const RunEntry& e : rows) out->push_back(DeviceInRow{e.log_id, device, e.count});
  }
  rows.clear();
  BYSANS_RETURN_IF_ERROR(FindUnindexedRows(db, to, &rows));
  for (const RunEntry& e : rows) out->push_back(DeviceInRow{e.log_id, kErasedDevice, kUnknown});
  return Status::Ok();
}

namespace {

// Replaces decode status, error and notes with a re-decode's, if there was one.
class DecodeOverrides {
 public:
  static Result<DecodeOverrides> Open(Db& db) {
    DecodeOverrides o;
    BYSANS_ASSIGN_OR_RETURN(auto any, db.Prepare("SELECT EXISTS(SELECT 1 FROM raw_decode)"));
    if (any->Step() && any->Int(0) != 0) {
      BYSANS_ASSIGN_OR_RETURN(o.st_,
                              db.Prepare("SELECT status, error, notes FROM raw_decode WHERE id=?"));
    }
    BYSANS_RETURN_IF_ERROR(any->status());
    return o;
  }
  Status Apply(RawMessage* m) {
    if (!st_) return Status::Ok();
    st_->Bind(1, m->id);
    if (st_->Step()) {
      m->decode_status = static_cast<DecodeStatus>(st_->Int(0));
      m->decode_error = st_->Text(1);
      m->decode_errors.clear();
      m->decode_warnings.clear();
      if (!DecodeDecodeNotes(st_->Blob(2), &m->decode_errors, &m->decode_warnings))
        return Internal("corrupt raw_decode notes of message " + std::to_string(m->id));
    }
    BYSANS_RETURN_IF_ERROR(st_->status());
    return st_->Run();  // resets for the next message
  }

 private:
  std::unique_ptr<Stmt> st_;
};

constexpr const char* kLogRowSql = "SELECT n, t_min, t_max, data FROM raw_log WHERE id=?";

// Steps a kLogRowSql statement onto row `log_id`.
Status StepLogRow(Stmt& st, int64_t log_id) {
  st.Bind(1, log_id);
  if (st.Step()) return Status::Ok();
  BYSANS_RETURN_IF_ERROR(st.status());
  return Internal("raw_device_runs names a missing raw_log row " + std::to_string(log_id));
}

bool Matches(const RawLogEntry& e, const DeviceMessageFilter& f) {
  return e.device_id == f.device_id && e.received_ms >= f.from && e.received_ms <= f.to &&
         e.id > f.after_id;
}

}  // namespace

Status VisitDeviceMessages(Db& db, const DeviceMessageFilter& f, MessageOrder order,
                           const std::function<bool(RawMessage&&)>& visit) {
  std::vector<RunEntry> rows;
  BYSANS_RETURN_IF_ERROR(FindRows(db, f, &rows, nullptr));
  if (order == MessageOrder::kNewestFirst) std::reverse(rows.begin(), rows.end());
  BYSANS_ASSIGN_OR_RETURN(auto overrides, DecodeOverrides::Open(db));
  BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare(kLogRowSql));
  std::vector<RawMessage> found;  // of one row, in id order
  for (const RunEntry& row : rows) {
    if (row.count == 0) continue;  // an older erasure's placeholder: the row may be gone
    BYSANS_RETURN_IF_ERROR(StepLogRow(*st, row.log_id));
    const bool may_match =
        row.log_id + st->Int(0) - 1 > f.after_id && Overlaps(st->Int(1), st->Int(2), f);
    found.clear();
    if (may_match) {
      RawLogReader reader(st->Blob(3), row.log_id);
      RawLogEntry e;
      while (reader.Next(&e)) {
        if (Matches(e, f)) found.push_back(e.ToMessage());
      }
      BYSANS_RETURN_IF_ERROR(reader.status());
    }
    BYSANS_RETURN_IF_ERROR(st->Run());  // reset: the row's blob is no longer needed
    if (order == MessageOrder::kNewestFirst) std::reverse(found.begin(), found.end());
    for (RawMessage& m : found) {
      BYSANS_RETURN_IF_ERROR(overrides.Apply(&m));
      if (!visit(std::move(m))) return Status::Ok();
    }
  }
  return Status::Ok();
}

Result<int64_t> CountDeviceMessages(Db& db, const DeviceMessageFilter& f) {
  int64_t count = 0;
  std::vector<RunEntry> rows;
  BYSANS_RETURN_IF_ERROR(FindRows(db, f, &rows, f.after_id == 0 ? &count : nullptr));
  BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare(kLogRowSql));
  for (const RunEntry& row : rows) {
    if (row.count == 0) continue;  // an older erasure's placeholder: the row may be gone
    BYSANS_RETURN_IF_ERROR(StepLogRow(*st, row.log_id));
    const TimeMs t_min = st->Int(1), t_max = st->Int(2);
    const bool after = row.log_id > f.after_id;
    if (row.count != kUnknown && after && t_min >= f.from && t_max <= f.to) {
      count += row.count;  // the whole row is in range: no need to read it
    } else if (row.log_id + st->Int(0) - 1 > f.after_id && Overlaps(t_min, t_max, f)) {
      RawLogReader reader(st->Blob(3), row.log_id);
      RawLogEntry e;
      while (reader.Next(&e)) count += Matches(e, f) ? 1 : 0;
      BYSANS_RETURN_IF_ERROR(reader.status());
    }
    BYSANS_RETURN_IF_ERROR(st->Run());
  }
  return count;
}

}  // namespace bysans::sqlite
