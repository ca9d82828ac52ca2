// DecoderStore over the SqliteStore's connection pool (store/decoder_store.h).
#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>

#include "store/decoder_store.h"
#include "store/sqlite/raw_log_codec.h"
#include "store/sqlite/raw_messages_read.h"
#include "store/sqlite/store_impl.h"

namespace bysans {

const char* DecoderKindName(DecoderKind k) {
  switch (k) {
    case DecoderKind::kJs:
      return "js";
    case DecoderKind::kCayenneLpp:
      return "cayenne_lpp";
    case DecoderKind::kSenml:
      return "senml";
  }
  return "js";
}

std::optional<DecoderKind> ParseDecoderKind(std::string_view s) {
  if (s == "js") return DecoderKind::kJs;
  if (s == "cayenne_lpp") return DecoderKind::kCayenneLpp;
  if (s == "senml") return DecoderKind::kSenml;
  return std::nullopt;
}

namespace sqlite {
namespace {

constexpr char kSelect[] =
    "SELECT d.id, d.org_id, d.name, d.kind, d.version, v.code, d.created_ms, d.updated_ms, "
    "v.contract "
    "FROM decoders d JOIN decoder_versions v ON v.decoder_id = d.id AND v.version = d.version ";

StoredDecoder Row(const Stmt& s) {
  StoredDecoder d;
  d.id = s.Int(0);
  d.org_id = s.Int(1);
  d.name = s.Text(2);
  d.kind = static_cast<DecoderKind>(s.Int(3));
  d.version = s.Int(4);
  d.code = s.Text(5);
  d.created_ms = s.Int(6);
  d.updated_ms = s.Int(7);
  d.contract = s.Text(8);
  return d;
}

class SqliteDecoderStore final : public DecoderStore {
 public:
  explicit SqliteDecoderStore(Pool& pool) : pool_(pool) {}

  Result<StoredDecoder> CreateDecoder(StoredDecoder d, Id created_by, TimeMs now) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Txn txn(*db, true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    {
      BYSANS_ASSIGN_OR_RETURN(auto st,
                              db->Prepare("INSERT INTO decoders(org_id, name, kind, version, "
                                          "created_ms, updated_ms) VALUES(?,?,?,1,?,?)"));
      st->Bind(1, d.org_id).Bind(2, d.name).Bind(3, static_cast<int64_t>(d.kind));
      st->Bind(4, now).Bind(5, now);
      BYSANS_RETURN_IF_ERROR(st->Run());
    }
    d.id = db->LastInsertId();
    d.version = 1;
    d.created_ms = d.updated_ms = now;
    BYSANS_RETURN_IF_ERROR(InsertVersion(*db, d.id, 1, d, now, created_by));
    BYSANS_RETURN_IF_ERROR(txn.Commit());
    Bump();
    return d;
  }

  Result<StoredDecoder> GetDecoder(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    return Get(*db, id);
  }

  Result<Paged<StoredDecoder>> ListDecoders(Id org_id, Page page) override {
    page.limit = std::clamp<int64_t>(page.limit, 1, 10000);
    page.offset = std::max<int64_t>(0, page.offset);
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Paged<StoredDecoder> out;
    {
      BYSANS_ASSIGN_OR_RETURN(
          auto st,
          db->Prepare(std::string(kSelect) + "WHERE d.org_id=? ORDER BY d.id LIMIT ? OFFSET ?"));
      st->Bind(1, org_id).Bind(2, page.limit).Bind(3, page.offset);
      while (st->Step()) out.items.push_back(Row(*st));
      BYSANS_RETURN_IF_ERROR(st->status());
    }
    BYSANS_ASSIGN_OR_RETURN(auto cnt, db->Prepare("SELECT COUNT(*) FROM decoders WHERE org_id=?"));
    cnt->Bind(1, org_id);
    if (cnt->Step()) out.total = cnt->Int(0);
    BYSANS_RETURN_IF_ERROR(cnt->status());
    return out;
  }

  Result<StoredDecoder> UpdateDecoder(const StoredDecoder& d, Id by, TimeMs now) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Txn txn(*db, true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    BYSANS_ASSIGN_OR_RETURN(StoredDecoder cur, Get(*db, d.id));
    int64_t version = cur.version;
    if (d.code != cur.code || d.contract != cur.contract) {
      ++version;
      BYSANS_RETURN_IF_ERROR(InsertVersion(*db, d.id, version, d, now, by));
    }
    {
      BYSANS_ASSIGN_OR_RETURN(
          auto st,
          db->Prepare("UPDATE decoders SET name=?, kind=?, version=?, updated_ms=? WHERE id=?"));
      st->Bind(1, d.name).Bind(2, static_cast<int64_t>(d.kind)).Bind(3, version);
      st->Bind(4, now).Bind(5, d.id);
      BYSANS_RETURN_IF_ERROR(st->Run());
    }
    BYSANS_ASSIGN_OR_RETURN(StoredDecoder saved, Get(*db, d.id));
    BYSANS_RETURN_IF_ERROR(txn.Commit());
    Bump();
    return saved;
  }

  Status DeleteDecoder(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare("DELETE FROM decoders WHERE id=?"));
    st->Bind(1, id);
    BYSANS_RETURN_IF_ERROR(st->Run());
    if (db->Changes() == 0) return NotFound("decoder " + std::to_string(id) + " not found");
    Bump();
    return Status::Ok();
  }

  Result<std::vector<DecoderVersion>> ListVersions(Id decoder_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare("SELECT decoder_id, version, code, created_ms, "
                                                 "created_by, contract FROM decoder_versions "
                                                 "WHERE decoder_id=? ORDER BY version DESC"));
    st->Bind(1, decoder_id);
    std::vector<DecoderVersion> out;
    while (st->Step())
      out.push_back({st->Int(0), st->Int(1), st->Text(2), st->Int(3), st->Int(4), st->Text(5)});
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

  Status SetApplicationDecoder(Id app_id, std::optional<Id> decoder_id) override {
    return Attach("application_decoders", "app_id", app_id, decoder_id);
  }
  Status SetDeviceDecoder(Id device_id, std::optional<Id> decoder_id) override {
    return Attach("device_decoders", "device_id", device_id, decoder_id);
  }

  Result<DecoderAttachments> ListAttachments() override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    DecoderAttachments out;
    {
      BYSANS_ASSIGN_OR_RETURN(auto st,
                              db->Prepare("SELECT app_id, decoder_id FROM application_decoders"));
      while (st->Step()) out.by_app[st->Int(0)] = st->Int(1);
      BYSANS_RETURN_IF_ERROR(st->status());
    }
    BYSANS_ASSIGN_OR_RETURN(auto st,
                            db->Prepare("SELECT device_id, decoder_id FROM device_decoders"));
    while (st->Step()) out.by_device[st->Int(0)] = st->Int(1);
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

  Result<std::vector<RawMessage>> MessagesAfter(Id device_id, TimeMs from, TimeMs to, Id after_id,
                                                int64_t limit) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Txn txn(*db, false);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    const size_t max = static_cast<size_t>(std::clamp<int64_t>(limit, 1, 100000));
    std::vector<RawMessage> out;
    BYSANS_RETURN_IF_ERROR(VisitDeviceMessages(*db,
                                               DeviceMessageFilter{device_id, from, to, after_id},
                                               MessageOrder::kOldestFirst, [&](RawMessage&& m) {
                                                 out.push_back(std::move(m));
                                                 return out.size() < max;
                                               }));
    return out;
  }

  Result<int64_t> CountMessages(Id device_id, TimeMs from, TimeMs to) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Txn txn(*db, false);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    return CountDeviceMessages(*db, DeviceMessageFilter{device_id, from, to, 0});
  }

  // A re-decode's result goes to raw_decode; raw_log rows are never rewritten.
  Status SetMessageDecodeStatus(const std::vector<RawMessage>& messages) override {
    if (messages.empty()) return Status::Ok();
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Txn txn(*db, true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare("INSERT INTO raw_decode(id, status, error, notes) "
                                                 "VALUES(?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                                                 "status=excluded.status, error=excluded.error, "
                                                 "notes=excluded.notes"));
    for (const RawMessage& m : messages) {
      const std::string notes = EncodeDecodeNotes(m.decode_errors, m.decode_warnings);
      st->Bind(1, m.id).Bind(2, static_cast<int64_t>(m.decode_status)).Bind(3, m.decode_error);
      st->BindBlob(4, notes.data(), notes.size());
      BYSANS_RETURN_IF_ERROR(st->Run());
    }
    return txn.Commit();
  }

  Result<StoredJob> CreateJob(StoredJob j) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st,
                            db->Prepare("INSERT INTO jobs(org_id, kind, state, done, total, "
                                        "errors, error, request, created_ms, updated_ms, node) "
                                        "VALUES(?,?,?,?,?,?,?,?,?,?,?)"));
    st->Bind(1, j.org_id).Bind(2, j.kind).Bind(3, j.state).Bind(4, j.done).Bind(5, j.total);
    st->Bind(6, j.errors).Bind(7, j.error).Bind(8, j.request).Bind(9, j.created_ms);
    st->Bind(10, j.updated_ms).Bind(11, j.node);
    BYSANS_RETURN_IF_ERROR(st->Run());
    j.id = db->LastInsertId();
    return j;
  }

  Result<StoredJob> GetJob(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st,
                            db->Prepare("SELECT id, org_id, kind, state, done, total, errors, "
                                        "error, request, created_ms, updated_ms, node FROM jobs "
                                        "WHERE id=?"));
    st->Bind(1, id);
    if (!st->Step()) {
      BYSANS_RETURN_IF_ERROR(st->status());
      return NotFound("job " + std::to_string(id) + " not found");
    }
    StoredJob j;
    j.id = st->Int(0);
    j.org_id = st->Int(1);
    j.kind = st->Text(2);
    j.state = st->Text(3);
    j.done = st->Int(4);
    j.total = st->Int(5);
    j.errors = st->Int(6);
    j.error = st->Text(7);
    j.request = st->Text(8);
    j.created_ms = st->Int(9);
    j.updated_ms = st->Int(10);
    j.node = st->Text(11);
    return j;
  }

  Status UpdateJob(const StoredJob& j) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st,
                            db->Prepare("UPDATE jobs SET state=?, done=?, total=?, errors=?, "
                                        "error=?, updated_ms=? WHERE id=?"));
    st->Bind(1, j.state).Bind(2, j.done).Bind(3, j.total).Bind(4, j.errors).Bind(5, j.error);
    st->Bind(6, j.updated_ms).Bind(7, j.id);
    BYSANS_RETURN_IF_ERROR(st->Run());
    if (db->Changes() == 0) return NotFound("job " + std::to_string(j.id) + " not found");
    return Status::Ok();
  }

  Result<int64_t> InterruptJobs(TimeMs now, const std::vector<std::string>& live_nodes) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare("UPDATE jobs SET state='interrupted', "
                                                 "error='interrupted by a restart; run it "
                                                 "again', updated_ms=? WHERE state IN "
                                                 "('queued', 'running') AND node NOT IN "
                                                 "(SELECT value FROM json_each(?))"));
    st->Bind(1, now).Bind(2, nlohmann::json(live_nodes).dump());
    BYSANS_RETURN_IF_ERROR(st->Run());
    return static_cast<int64_t>(db->Changes());
  }

  uint64_t generation() const override { return generation_.load(); }
  void InvalidateDecoders() override { Bump(); }

 private:
  void Bump() { generation_.fetch_add(1); }

  Result<StoredDecoder> Get(Db& db, Id id) {
    BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare(std::string(kSelect) + "WHERE d.id=?"));
    st->Bind(1, id);
    if (!st->Step()) {
      BYSANS_RETURN_IF_ERROR(st->status());
      return NotFound("decoder " + std::to_string(id) + " not found");
    }
    return Row(*st);
  }

  // A version holding d.code and d.contract.
  Status InsertVersion(Db& db, Id id, int64_t version, const StoredDecoder& d, TimeMs now, Id by) {
    BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("INSERT INTO decoder_versions(decoder_id, "
                                                "version, code, created_ms, created_by, "
                                                "contract) VALUES(?,?,?,?,?,?)"));
    st->Bind(1, id).Bind(2, version).Bind(3, d.code).Bind(4, now).Bind(5, by).Bind(6, d.contract);
    return st->Run();
  }

  Status Attach(const std::string& table, const std::string& col, Id target,
                std::optional<Id> decoder_id) {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    if (decoder_id) {
      BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare("INSERT OR REPLACE INTO " + table + "(" + col +
                                                   ", decoder_id) VALUES(?, ?)"));
      st->Bind(1, target).Bind(2, *decoder_id);
      BYSANS_RETURN_IF_ERROR(st->Run());
    } else {
      BYSANS_ASSIGN_OR_RETURN(auto st,
                              db->Prepare("DELETE FROM " + table + " WHERE " + col + "=?"));
      st->Bind(1, target);
      BYSANS_RETURN_IF_ERROR(st->Run());
    }
    Bump();
    return Status::Ok();
  }

  Pool& pool_;
  std::atomic<uint64_t> generation_{1};
};

}  // namespace

std::unique_ptr<DecoderStore> NewSqliteDecoderStore(Pool& pool) {
  return std::make_unique<SqliteDecoderStore>(pool);
}

}  // namespace sqlite
}  // namespace bysans
