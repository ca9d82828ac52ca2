// SubjectErasureStore on SQLite (migration 24): the jobs in `subject_erasures`, and the erasure
// of a device's downlinks, alarms and share-log copies in a time range, and of its contacts.
// Deletions run with secure_delete=ON (the old cells' pages are zeroed); ScrubFiles (the store's
// ScrubFreePages + ScrubWal, series_delete.cc) then leaves nothing of them in the file or the WAL.
#include <functional>

#include "store/share_codec.h"
#include "store/sqlite/store_impl.h"
#include "store/subject_erasure_store.h"

namespace bysans::sqlite {
namespace {

constexpr const char* kJobCols =
    "id, org_id, state, request, report, error, user_id, api_key_id, requested_by, created_ms, "
    "updated_ms";

SubjectErasureJob JobFrom(const Stmt& s) {
  SubjectErasureJob j;
  j.id = s.Int(0);
  j.org_id = s.Int(1);
  j.state = s.Text(2);
  j.request_json = s.Text(3);
  j.report_json = s.Text(4);
  j.error = s.Text(5);
  if (!s.IsNull(6)) j.user_id = s.Int(6);
  if (!s.IsNull(7)) j.api_key_id = s.Int(7);
  j.requested_by = s.Text(8);
  j.created_ms = s.Int(9);
  j.updated_ms = s.Int(10);
  return j;
}

// secure_delete=ON for the connection while erasing; back to the pool's FAST (db.cc) after.
class SecureDeleteOn {
 public:
  explicit SecureDeleteOn(Db& db) : db_(db), status_(db.Exec("PRAGMA secure_delete=ON")) {}
  ~SecureDeleteOn() { (void)db_.Exec("PRAGMA secure_delete=FAST"); }
  const Status& status() const { return status_; }

 private:
  Db& db_;
  Status status_;
};

class SqliteSubjectErasureStore final : public SubjectErasureStore {
 public:
  SqliteSubjectErasureStore(Pool& pool, const Clock& clock, std::function<Status()> scrub)
      : pool_(pool), clock_(clock), scrub_(std::move(scrub)) {}

  Result<SubjectErasureJob> CreateSubjectErasure(SubjectErasureJob job) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    job.created_ms = job.updated_ms = clock_.NowMs();
    BYSANS_ASSIGN_OR_RETURN(
        auto q, db->Prepare("INSERT INTO subject_erasures(org_id, state, request, report, error, "
                            "user_id, api_key_id, requested_by, created_ms, updated_ms) "
                            "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    q->Bind(1, job.org_id).Bind(2, job.state).Bind(3, job.request_json).Bind(4, job.report_json);
    q->Bind(5, job.error);
    if (job.user_id) q->Bind(6, *job.user_id);
    if (job.api_key_id) q->Bind(7, *job.api_key_id);
    q->Bind(8, job.requested_by).Bind(9, job.created_ms).Bind(10, job.updated_ms);
    BYSANS_RETURN_IF_ERROR(q->Run());
    job.id = db->LastInsertId();
    return job;
  }

  Result<SubjectErasureJob> GetSubjectErasure(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare(std::string("SELECT ") + kJobCols +
                                                " FROM subject_erasures WHERE id=?"));
    q->Bind(1, id);
    if (q->Step()) return JobFrom(*q);
    BYSANS_RETURN_IF_ERROR(q->status());
    return NotFound("no subject erasure with id " + std::to_string(id));
  }

  Result<std::vector<SubjectErasureJob>> ListSubjectErasures(Id org_id) override {
    return List(" WHERE org_id=? ORDER BY id DESC", org_id);
  }

  Result<std::vector<SubjectErasureJob>> UnfinishedSubjectErasures() override {
    return List(" WHERE state IN ('queued', 'running') ORDER BY id", std::nullopt);
  }

  Status UpdateSubjectErasure(const SubjectErasureJob& job) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare("UPDATE subject_erasures SET state=?, report=?, "
                                                "error=?, updated_ms=? WHERE id=?"));
    q->Bind(1, job.state).Bind(2, job.report_json).Bind(3, job.error).Bind(4, clock_.NowMs());
    BYSANS_RETURN_IF_ERROR(q->Bind(5, job.id).Run());
    if (db->Changes() == 0) return NotFound("no subject erasure with id " + std::to_string(job.id));
    return Status::Ok();
  }

  Result<int64_t> EraseDownlinks(Id device_id, TimeMs from, TimeMs to, bool dry_run) override {
    return EraseRows("downlinks WHERE device_id=? AND created_ms>=? AND created_ms<=?", dry_run,
                     device_id, from, to);
  }

  Result<int64_t> EraseAlarms(Id device_id, TimeMs from, TimeMs to, bool dry_run) override {
    return EraseRows("alarms WHERE device_id=? AND raised_ms>=? AND raised_ms<=?", dry_run,
                     device_id, from, to);
  }

  Result<int64_t> EraseDeviceContacts(Id device_id, bool dry_run) override {
    return EraseRows("contacts WHERE device_id=?", dry_run, device_id);
  }

  Result<int64_t> EraseShareCopies(Id app_id, Id device_id, TimeMs from, TimeMs to,
                                   bool dry_run) override {
    BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
    Db& db = *lease;
    SecureDeleteOn secure(db);
    BYSANS_RETURN_IF_ERROR(secure.status());
    // One transaction per share-log row, so ingest (which appends to the log) waits for one
    // row's rewrite at most.
    std::vector<int64_t> rows;
    {
      BYSANS_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT id FROM share_log WHERE app_id=? AND "
                                                 "first_received_ms<=? ORDER BY id"));
      q->Bind(1, app_id).Bind(2, to);
      while (q->Step()) rows.push_back(q->Int(0));
      BYSANS_RETURN_IF_ERROR(q->status());
    }
    auto matches = [&](const ShareRecord& r) {
      return r.device_id == device_id && r.received_ms >= from && r.received_ms <= to;
    };
    int64_t total = 0;
    for (int64_t row : rows) {
      Txn txn(db, !dry_run, WriteTurn::kWhenIdle);
      BYSANS_RETURN_IF_ERROR(txn.begin_status());
      std::vector<ShareRecord> records;
      {
        BYSANS_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT data FROM share_log WHERE id=?"));
        q->Bind(1, row);
        if (!q->Step()) {
          BYSANS_RETURN_IF_ERROR(q->status());
          continue;
        }
        BYSANS_RETURN_IF_ERROR(DecodeShareRow(row, q->Blob(0), -1, &records));
      }
      int64_t n = 0;
      std::string blob;
      for (const ShareRecord& r : records) {
        if (matches(r)) {
          ++n;  // a tombstone keeps the record's place (its position)
          EncodeShareRecord(0, r.received_ms, 0, {}, {}, &blob);
        } else {
          EncodeShareRecord(r.device_id, r.received_ms, r.message_id, r.decoded_json, r.readings,
                            &blob);
        }
      }
      total += n;
      if (n == 0 || dry_run) continue;
      BYSANS_ASSIGN_OR_RETURN(auto up, db.Prepare("UPDATE share_log SET data=? WHERE id=?"));
      BYSANS_RETURN_IF_ERROR(up->BindBlob(1, blob.data(), blob.size()).Bind(2, row).Run());
      up.reset();
      BYSANS_RETURN_IF_ERROR(txn.Commit());
    }
    // Dead letters of the application's targets: one record each.
    std::vector<Id> letters;
    {
      BYSANS_ASSIGN_OR_RETURN(
          auto q, db.Prepare("SELECT l.id, l.record FROM target_dead_letters l JOIN data_targets t "
                             "ON t.id = l.target_id WHERE t.app_id=?"));
      q->Bind(1, app_id);
      while (q->Step()) {
        std::vector<ShareRecord> one;
        if (!DecodeShareRow(0, q->Blob(1), -1, &one).ok()) continue;
        if (!one.empty() && matches(one.front())) letters.push_back(q->Int(0));
      }
      BYSANS_RETURN_IF_ERROR(q->status());
    }
    total += static_cast<int64_t>(letters.size());
    if (!dry_run && !letters.empty()) {
      Txn txn(db, true, WriteTurn::kWhenIdle);
      BYSANS_RETURN_IF_ERROR(txn.begin_status());
      BYSANS_ASSIGN_OR_RETURN(auto del, db.Prepare("DELETE FROM target_dead_letters WHERE id=?"));
      for (Id id : letters) BYSANS_RETURN_IF_ERROR(del->Bind(1, id).Run());
      del.reset();
      BYSANS_RETURN_IF_ERROR(txn.Commit());
    }
    return total;
  }

  Status ScrubFiles() override { return scrub_(); }

 private:
  Result<std::vector<SubjectErasureJob>> List(const char* where, std::optional<Id> org) {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto q, db->Prepare(std::string("SELECT ") + kJobCols + " FROM subject_erasures" + where));
    if (org) q->Bind(1, *org);
    std::vector<SubjectErasureJob> out;
    while (q->Step()) out.push_back(JobFrom(*q));
    BYSANS_RETURN_IF_ERROR(q->status());
    return out;
  }

  // Counts, and unless `dry_run` deletes, the rows of "<table> WHERE <condition on device,
  // from, to>".
  // Deletes (or counts) the rows of "<table> WHERE …" with `args` bound in order.
  template <typename... Args>
  Result<int64_t> EraseRows(const std::string& table_where, bool dry_run, const Args&... args) {
    BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
    Db& db = *lease;
    auto bind = [&](Stmt& q) {
      int i = 0;
      (q.Bind(++i, args), ...);
    };
    if (dry_run) {
      BYSANS_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT count(*) FROM " + table_where));
      bind(*q);
      int64_t n = q->Step() ? q->Int(0) : 0;
      BYSANS_RETURN_IF_ERROR(q->status());
      return n;
    }
    SecureDeleteOn secure(db);
    BYSANS_RETURN_IF_ERROR(secure.status());
    Txn txn(db, true, WriteTurn::kWhenIdle);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    BYSANS_ASSIGN_OR_RETURN(auto del, db.Prepare("DELETE FROM " + table_where));
    bind(*del);
    BYSANS_RETURN_IF_ERROR(del->Run());
    const int64_t n = db.Changes();
    del.reset();
    BYSANS_RETURN_IF_ERROR(txn.Commit());
    return n;
  }

  Pool& pool_;
  const Clock& clock_;
  std::function<Status()> scrub_;
};

}  // namespace

std::unique_ptr<SubjectErasureStore> NewSqliteSubjectErasureStore(Pool& pool, const Clock& clock,
                                                                  std::function<Status()> scrub) {
  return std::make_unique<SqliteSubjectErasureStore>(pool, clock, std::move(scrub));
}

}  // namespace bysans::sqlite
