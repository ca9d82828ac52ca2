// TargetStore on SQLite (migration 16): data targets, share log reads, cursors, dead letters
// and the delivery log. The share log itself is written by CommitGroup (series.cc). Header
// values are sealed with the store's SecretBox (core/secret_box.h).
#include <algorithm>
#include <atomic>

#include "store/share_codec.h"
#include "store/sqlite/store_impl.h"
#include "store/target_columns.h"

namespace bysans::sqlite {
namespace {

int64_t ClampLimit(int64_t l) { return std::clamp<int64_t>(l, 1, 10000); }

constexpr const char* kTargetCols =
    "id, org_id, app_id, name, type, url, format, batch_size, timeout_ms, device_ids, "
    "headers_sealed, paused, max_attempts, max_age_ms, cursor, created_ms, updated_ms, topic, qos, "
    "retain, username, password_sealed IS NOT NULL, ngsild";

DataTarget TargetFrom(const Stmt& s) {
  DataTarget t;
  t.id = s.Int(0);
  t.org_id = s.Int(1);
  t.app_id = s.Int(2);
  t.name = s.Text(3);
  t.type = s.Text(4);
  t.url = s.Text(5);
  t.format = s.Text(6);
  t.batch_size = static_cast<int>(s.Int(7));
  t.timeout_ms = s.Int(8);
  t.device_ids = ParseTargetDeviceIds(s.Text(9));
  t.header_names = TargetHeaderNames(s.Text(10));
  t.paused = s.Int(11) != 0;
  t.max_attempts = static_cast<int>(s.Int(12));
  t.max_age_ms = s.Int(13);
  t.cursor = s.Int(14);
  t.created_ms = s.Int(15);
  t.updated_ms = s.Int(16);
  t.topic = s.Text(17);
  t.qos = static_cast<int>(s.Int(18));
  t.retain = s.Int(19) != 0;
  t.username = s.Text(20);
  t.has_password = s.Int(21) != 0;
  t.ngsild_json = s.Text(22);
  return t;
}

DeadLetter LetterFrom(const Stmt& s) {
  DeadLetter d;
  d.id = s.Int(0);
  d.target_id = s.Int(1);
  std::vector<ShareRecord> one;
  if (DecodeShareRow(0, s.Blob(3), -1, &one).ok() && !one.empty()) d.record = std::move(one[0]);
  d.record.position = s.Int(2);
  d.error = s.Text(4);
  d.attempts = static_cast<int>(s.Int(5));
  d.created_ms = s.Int(6);
  d.replay = s.Int(7) != 0;
  return d;
}
constexpr const char* kLetterCols =
    "id, target_id, position, record, error, attempts, created_ms, replay";

class SqliteTargetStore final : public TargetStore {
 public:
  SqliteTargetStore(Pool& pool, const SecretBox& box) : pool_(pool), box_(box) {}

  Result<DataTarget> CreateTarget(DataTarget t, const std::map<std::string, std::string>& headers,
                                  const std::optional<std::string>& password) override {
    BYSANS_ASSIGN_OR_RETURN(std::string sealed, SealTargetHeaders(box_, headers));
    std::optional<std::string> password_box;
    if (password && !password->empty()) {
      BYSANS_ASSIGN_OR_RETURN(password_box, box_.SealText(*password));
    }
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    {
      Txn txn(*db, true);
      BYSANS_RETURN_IF_ERROR(txn.begin_status());
      BYSANS_ASSIGN_OR_RETURN(t.cursor, End(*db, t.app_id));
      BYSANS_ASSIGN_OR_RETURN(
          auto q, db->Prepare("INSERT INTO data_targets(org_id, app_id, name, type, url, format, "
                              "batch_size, timeout_ms, device_ids, headers_sealed, paused, "
                              "max_attempts, max_age_ms, cursor, created_ms, updated_ms, topic, "
                              "qos, retain, username, password_sealed, ngsild) "
                              "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                              "?, ?)"));
      q->Bind(1, t.org_id).Bind(2, t.app_id).Bind(3, t.name).Bind(4, t.type).Bind(5, t.url);
      q->Bind(6, t.format).Bind(7, t.batch_size).Bind(8, t.timeout_ms);
      q->Bind(9, TargetDeviceIdsJson(t.device_ids)).Bind(10, sealed).Bind(11, t.paused);
      q->Bind(12, t.max_attempts).Bind(13, t.max_age_ms).Bind(14, t.cursor);
      q->Bind(15, t.created_ms).Bind(16, t.created_ms).Bind(17, t.topic).Bind(18, t.qos);
      q->Bind(19, t.retain).Bind(20, t.username);
      if (password_box) {
        q->Bind(21, *password_box);
      } else {
        q->BindNull(21);
      }
      q->Bind(22, t.ngsild_json);
      BYSANS_RETURN_IF_ERROR(q->Run());
      t.id = db->LastInsertId();
      BYSANS_RETURN_IF_ERROR(txn.Commit());
    }
    t.updated_ms = t.created_ms;
    t.has_password = password_box.has_value();
    t.header_names = HeaderNamesOf(headers);
    generation_.fetch_add(1);
    return t;
  }

  Result<DataTarget> GetTarget(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare(std::string("SELECT ") + kTargetCols +
                                                " FROM data_targets WHERE id=?"));
    q->Bind(1, id);
    if (q->Step()) return TargetFrom(*q);
    BYSANS_RETURN_IF_ERROR(q->status());
    return NotFound("no data target with id " + std::to_string(id));
  }

  Result<std::vector<DataTarget>> ListTargets(Id app_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto q,
                            db->Prepare(std::string("SELECT ") + kTargetCols +
                                        " FROM data_targets WHERE ?=0 OR app_id=? ORDER BY id"));
    q->Bind(1, app_id).Bind(2, app_id);
    std::vector<DataTarget> out;
    while (q->Step()) out.push_back(TargetFrom(*q));
    BYSANS_RETURN_IF_ERROR(q->status());
    return out;
  }

  Result<int64_t> CountTargets(Id org_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto q,
                            db->Prepare("SELECT count(*) FROM data_targets WHERE org_id=?"));
    q->Bind(1, org_id);
    int64_t n = 0;
    if (q->Step()) n = q->Int(0);
    BYSANS_RETURN_IF_ERROR(q->status());
    return n;
  }

  Status UpdateTarget(const DataTarget& t,
                      const std::optional<std::map<std::string, std::string>>& headers,
                      const std::optional<std::string>& password) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    std::string sealed;
    if (headers) {
      BYSANS_ASSIGN_OR_RETURN(sealed, SealTargetHeaders(box_, *headers));
    }
    std::optional<std::string> password_box;
    if (password && !password->empty()) {
      BYSANS_ASSIGN_OR_RETURN(password_box, box_.SealText(*password));
    }
    BYSANS_ASSIGN_OR_RETURN(
        auto q, db->Prepare("UPDATE data_targets SET name=?, type=?, url=?, format=?, "
                            "batch_size=?, timeout_ms=?, device_ids=?, "
                            "headers_sealed=CASE WHEN ? THEN ? ELSE headers_sealed END, "
                            "paused=?, max_attempts=?, max_age_ms=?, updated_ms=?, topic=?, "
                            "qos=?, retain=?, username=?, "
                            "password_sealed=CASE WHEN ? THEN ? ELSE password_sealed END, "
                            "ngsild=? WHERE id=?"));
    q->Bind(1, t.name).Bind(2, t.type).Bind(3, t.url).Bind(4, t.format).Bind(5, t.batch_size);
    q->Bind(6, t.timeout_ms)
        .Bind(7, TargetDeviceIdsJson(t.device_ids))
        .Bind(8, headers.has_value());
    q->Bind(9, sealed).Bind(10, t.paused).Bind(11, t.max_attempts).Bind(12, t.max_age_ms);
    q->Bind(13, t.updated_ms).Bind(14, t.topic).Bind(15, t.qos).Bind(16, t.retain);
    q->Bind(17, t.username).Bind(18, password.has_value());
    if (password_box) {
      q->Bind(19, *password_box);
    } else {
      q->BindNull(19);
    }
    q->Bind(20, t.ngsild_json).Bind(21, t.id);
    BYSANS_RETURN_IF_ERROR(q->Run());
    if (db->Changes() == 0) return NotFound("no data target with id " + std::to_string(t.id));
    generation_.fetch_add(1);
    return Status::Ok();
  }

  Status SetTargetPaused(Id id, bool paused) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare("UPDATE data_targets SET paused=? WHERE id=?"));
    BYSANS_RETURN_IF_ERROR(q->Bind(1, paused).Bind(2, id).Run());
    if (db->Changes() == 0) return NotFound("no data target with id " + std::to_string(id));
    generation_.fetch_add(1);
    return Status::Ok();
  }

  Status DeleteTarget(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare("DELETE FROM data_targets WHERE id=?"));
    BYSANS_RETURN_IF_ERROR(q->Bind(1, id).Run());
    if (db->Changes() == 0) return NotFound("no data target with id " + std::to_string(id));
    generation_.fetch_add(1);
    return Status::Ok();
  }

  Result<std::map<std::string, std::string>> TargetHeaders(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto q,
                            db->Prepare("SELECT headers_sealed FROM data_targets WHERE id=?"));
    q->Bind(1, id);
    if (!q->Step()) {
      BYSANS_RETURN_IF_ERROR(q->status());
      return NotFound("no data target with id " + std::to_string(id));
    }
    return OpenTargetHeaders(box_, q->Text(0));
  }

  Result<std::string> TargetPassword(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto q,
                            db->Prepare("SELECT password_sealed FROM data_targets WHERE id=?"));
    q->Bind(1, id);
    if (!q->Step()) {
      BYSANS_RETURN_IF_ERROR(q->status());
      return NotFound("no data target with id " + std::to_string(id));
    }
    if (q->IsNull(0)) return std::string();
    return box_.UnsealText(q->Text(0));
  }

  int64_t targets_generation() const override { return generation_.load(); }

  Result<std::vector<ShareRecord>> ReadShareLog(Id app_id, int64_t after, size_t limit) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT id, data FROM share_log WHERE app_id=? "
                                                "AND id>=? ORDER BY id LIMIT ?"));
    // Rows are whole group commits: a few rows hold `limit` records.
    q->Bind(1, app_id).Bind(2, ShareRowOf(after)).Bind(3, static_cast<int64_t>(limit));
    std::vector<ShareRecord> out;
    while (out.size() < limit && q->Step()) {
      BYSANS_RETURN_IF_ERROR(DecodeShareRow(q->Int(0), q->Blob(1), after, &out));
    }
    BYSANS_RETURN_IF_ERROR(q->status());
    if (out.size() > limit) out.resize(limit);
    return out;
  }

  Result<int64_t> ShareLogEnd(Id app_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    return End(*db, app_id);
  }

  Result<ShareBacklog> ShareBacklogAfter(Id app_id, int64_t after) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    ShareBacklog b;
    BYSANS_ASSIGN_OR_RETURN(
        auto q, db->Prepare("SELECT coalesce(sum(records), 0) FROM share_log WHERE app_id=? AND "
                            "id>?"));
    q->Bind(1, app_id).Bind(2, ShareRowOf(after));
    if (q->Step()) b.records = q->Int(0);
    BYSANS_RETURN_IF_ERROR(q->status());
    // The cursor's own row: the records after its index.
    BYSANS_ASSIGN_OR_RETURN(auto own, db->Prepare("SELECT records, first_received_ms FROM "
                                                  "share_log WHERE app_id=? AND id=?"));
    own->Bind(1, app_id).Bind(2, ShareRowOf(after));
    if (own->Step()) b.records += std::max<int64_t>(0, own->Int(0) - ShareIndexOf(after) - 1);
    BYSANS_RETURN_IF_ERROR(own->status());
    if (b.records > 0) {
      std::vector<ShareRecord> first;
      BYSANS_ASSIGN_OR_RETURN(auto head, db->Prepare("SELECT id, data FROM share_log WHERE "
                                                     "app_id=? AND id>=? ORDER BY id LIMIT 2"));
      head->Bind(1, app_id).Bind(2, ShareRowOf(after));
      while (first.empty() && head->Step())
        BYSANS_RETURN_IF_ERROR(DecodeShareRow(head->Int(0), head->Blob(1), after, &first));
      BYSANS_RETURN_IF_ERROR(head->status());
      if (!first.empty()) b.oldest_received_ms = first.front().received_ms;
    }
    return b;
  }

  Status SetCursor(Id target_id, int64_t position) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare("UPDATE data_targets SET cursor=max(cursor, ?) "
                                                "WHERE id=?"));
    return q->Bind(1, position).Bind(2, target_id).Run();
  }

  Status PruneShareLog(Id app_id, int64_t upto) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    // Whole rows only: the row of `upto` is kept unless `upto` is its last record.
    BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare("DELETE FROM share_log WHERE app_id=? AND (id<? "
                                                "OR (id=? AND records<=?))"));
    q->Bind(1, app_id).Bind(2, ShareRowOf(upto)).Bind(3, ShareRowOf(upto));
    q->Bind(4, ShareIndexOf(upto) + 1);
    return q->Run();
  }

  Status AddDeadLetter(Id target_id, const ShareRecord& r, const std::string& error, int attempts,
                       TimeMs now) override {
    std::string blob;
    EncodeShareRecord(r.device_id, r.received_ms, r.message_id, r.decoded_json, r.readings, &blob);
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto q, db->Prepare("INSERT INTO target_dead_letters(target_id, position, record, error, "
                            "attempts, created_ms, replay) VALUES(?, ?, ?, ?, ?, ?, 0)"));
    q->Bind(1, target_id).Bind(2, r.position).BindBlob(3, blob.data(), blob.size());
    return q->Bind(4, error).Bind(5, attempts).Bind(6, now).Run();
  }

  Status QueueReplay(Id target_id, const std::vector<ShareRecord>& records, const std::string& note,
                     TimeMs now) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Txn txn(*db, true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    BYSANS_ASSIGN_OR_RETURN(
        auto q, db->Prepare("INSERT INTO target_dead_letters(target_id, position, record, error, "
                            "attempts, created_ms, replay) VALUES(?, 0, ?, ?, 0, ?, 1)"));
    std::string blob;
    for (const ShareRecord& r : records) {
      blob.clear();
      EncodeShareRecord(r.device_id, r.received_ms, r.message_id, r.decoded_json, r.readings,
                        &blob);
      q->Bind(1, target_id).BindBlob(2, blob.data(), blob.size()).Bind(3, note).Bind(4, now);
      BYSANS_RETURN_IF_ERROR(q->Run());
    }
    q.reset();
    return txn.Commit();
  }

  Result<Paged<DeadLetter>> ListDeadLetters(Id target_id, Page page) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Paged<DeadLetter> out;
    BYSANS_ASSIGN_OR_RETURN(auto n, db->Prepare("SELECT count(*) FROM target_dead_letters WHERE "
                                                "target_id=?"));
    n->Bind(1, target_id);
    if (n->Step()) out.total = n->Int(0);
    BYSANS_RETURN_IF_ERROR(n->status());
    BYSANS_ASSIGN_OR_RETURN(
        auto q, db->Prepare(std::string("SELECT ") + kLetterCols +
                            " FROM target_dead_letters WHERE target_id=? ORDER BY id LIMIT ? "
                            "OFFSET ?"));
    q->Bind(1, target_id)
        .Bind(2, ClampLimit(page.limit))
        .Bind(3, std::max<int64_t>(0, page.offset));
    while (q->Step()) out.items.push_back(LetterFrom(*q));
    BYSANS_RETURN_IF_ERROR(q->status());
    return out;
  }

  Result<int64_t> ReplayDeadLetters(Id target_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare("UPDATE target_dead_letters SET replay=1 WHERE "
                                                "target_id=? AND replay=0"));
    BYSANS_RETURN_IF_ERROR(q->Bind(1, target_id).Run());
    return db->Changes();
  }

  Result<std::vector<DeadLetter>> ReplayQueue(Id target_id, size_t limit) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto q, db->Prepare(std::string("SELECT ") + kLetterCols +
                            " FROM target_dead_letters WHERE target_id=? AND replay=1 ORDER BY "
                            "id LIMIT ?"));
    q->Bind(1, target_id).Bind(2, static_cast<int64_t>(limit));
    std::vector<DeadLetter> out;
    while (q->Step()) out.push_back(LetterFrom(*q));
    BYSANS_RETURN_IF_ERROR(q->status());
    return out;
  }

  Status DeleteDeadLetters(const std::vector<Id>& ids) override {
    return ForEachLetter(ids, "DELETE FROM target_dead_letters WHERE id=?", nullptr);
  }

  Status RequeueDeadLetters(const std::vector<Id>& ids, const std::string& error) override {
    return ForEachLetter(ids,
                         "UPDATE target_dead_letters SET replay=0, attempts=attempts+1, error=? "
                         "WHERE id=?",
                         &error);
  }

  Status AppendDelivery(const TargetDelivery& d, int keep) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto q,
                            db->Prepare("INSERT INTO target_deliveries(target_id, ts, ok, records, "
                                        "first_position, last_position, error, duration_ms) "
                                        "VALUES(?, ?, ?, ?, ?, ?, ?, ?)"));
    q->Bind(1, d.target_id).Bind(2, d.ts).Bind(3, d.ok).Bind(4, d.records);
    q->Bind(5, d.first_position).Bind(6, d.last_position).Bind(7, d.error);
    BYSANS_RETURN_IF_ERROR(q->Bind(8, d.duration_ms).Run());
    const int64_t id = db->LastInsertId();
    if (id % 64 != 0) return Status::Ok();  // trim now and then
    BYSANS_ASSIGN_OR_RETURN(
        auto trim, db->Prepare("DELETE FROM target_deliveries WHERE target_id=? AND id<=(SELECT "
                               "id FROM target_deliveries WHERE target_id=? ORDER BY id DESC "
                               "LIMIT 1 OFFSET ?)"));
    return trim->Bind(1, d.target_id).Bind(2, d.target_id).Bind(3, keep).Run();
  }

  Result<Paged<TargetDelivery>> ListDeliveries(Id target_id, Page page) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Paged<TargetDelivery> out;
    BYSANS_ASSIGN_OR_RETURN(auto n, db->Prepare("SELECT count(*) FROM target_deliveries WHERE "
                                                "target_id=?"));
    n->Bind(1, target_id);
    if (n->Step()) out.total = n->Int(0);
    BYSANS_RETURN_IF_ERROR(n->status());
    BYSANS_ASSIGN_OR_RETURN(
        auto q, db->Prepare("SELECT id, target_id, ts, ok, records, first_position, "
                            "last_position, error, duration_ms FROM target_deliveries WHERE "
                            "target_id=? ORDER BY id DESC LIMIT ? OFFSET ?"));
    q->Bind(1, target_id)
        .Bind(2, ClampLimit(page.limit))
        .Bind(3, std::max<int64_t>(0, page.offset));
    while (q->Step()) {
      TargetDelivery d;
      d.id = q->Int(0);
      d.target_id = q->Int(1);
      d.ts = q->Int(2);
      d.ok = q->Int(3) != 0;
      d.records = static_cast<int>(q->Int(4));
      d.first_position = q->Int(5);
      d.last_position = q->Int(6);
      d.error = q->Text(7);
      d.duration_ms = q->Int(8);
      out.items.push_back(std::move(d));
    }
    BYSANS_RETURN_IF_ERROR(q->status());
    return out;
  }

 private:
  static Result<int64_t> End(Db& db, Id app_id) {
    BYSANS_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT id, records FROM share_log WHERE app_id=? "
                                               "ORDER BY id DESC LIMIT 1"));
    q->Bind(1, app_id);
    int64_t end = 0;
    if (q->Step()) end = SharePosition(q->Int(0), std::max<int64_t>(0, q->Int(1) - 1));
    BYSANS_RETURN_IF_ERROR(q->status());
    return end;
  }

  Status ForEachLetter(const std::vector<Id>& ids, const char* sql, const std::string* error) {
    if (ids.empty()) return Status::Ok();
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Txn txn(*db, true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare(sql));
    for (Id id : ids) {
      int at = 1;
      if (error) q->Bind(at++, *error);
      BYSANS_RETURN_IF_ERROR(q->Bind(at, id).Run());
    }
    q.reset();
    return txn.Commit();
  }

  Pool& pool_;
  const SecretBox& box_;
  std::atomic<int64_t> generation_{1};
};

}  // namespace

std::unique_ptr<TargetStore> NewSqliteTargetStore(Pool& pool, const SecretBox& box) {
  return std::make_unique<SqliteTargetStore>(pool, box);
}

}  // namespace bysans::sqlite
