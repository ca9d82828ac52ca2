// Lwm2mStore on SQLite (migrations 36, 38, 43): registrations (one row per device), operations and
// observations, cascading with the device. A device's open operations are read and counted
// through the partial index lwm2m_operations_device_open (43), never through its finished ones.
#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {
namespace {

constexpr const char* kSelectReg =
    "SELECT device_id, registration_id, endpoint, lifetime_s, binding, queue_mode, version, "
    "objects, registered_ms, updated_ms FROM lwm2m_registrations ";
constexpr const char* kSelectOp =
    "SELECT id, device_id, kind, path, value, state, result_code, result_payload, error, "
    "created_ms, updated_ms FROM lwm2m_operations ";

Lwm2mRegistration RegFromRow(const Stmt& st) {
  Lwm2mRegistration r;
  r.device_id = st.Int(0);
  r.registration_id = st.Text(1);
  r.endpoint = st.Text(2);
  r.lifetime_s = st.Int(3);
  r.binding = st.Text(4);
  r.queue_mode = st.Int(5) != 0;
  r.version = st.Text(6);
  r.objects = st.Text(7);
  r.registered_ms = st.Int(8);
  r.updated_ms = st.Int(9);
  return r;
}

Lwm2mOperation OpFromRow(const Stmt& st) {
  Lwm2mOperation op;
  op.id = st.Int(0);
  op.device_id = st.Int(1);
  op.kind = Lwm2mOpKindFromName(st.Text(2));
  op.path = st.Text(3);
  op.value = st.Text(4);
  op.state = Lwm2mOpStateFromName(st.Text(5));
  op.result_code = static_cast<int>(st.Int(6));
  op.result_payload = st.Text(7);
  op.error = st.Text(8);
  op.created_ms = st.Int(9);
  op.updated_ms = st.Int(10);
  return op;
}

class SqliteLwm2mStore final : public Lwm2mStore {
 public:
  explicit SqliteLwm2mStore(Pool& pool) : pool_(pool) {}

  Status PutRegistration(const Lwm2mRegistration& r) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_RETURN_IF_ERROR(CheckDevice(*db, r.device_id));
    BYSANS_ASSIGN_OR_RETURN(
        auto st,
        db->Prepare("INSERT INTO lwm2m_registrations(device_id, registration_id, endpoint, "
                    "lifetime_s, binding, queue_mode, version, objects, registered_ms, "
                    "updated_ms) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(device_id) DO "
                    "UPDATE SET registration_id=excluded.registration_id, "
                    "endpoint=excluded.endpoint, lifetime_s=excluded.lifetime_s, "
                    "binding=excluded.binding, queue_mode=excluded.queue_mode, "
                    "version=excluded.version, objects=excluded.objects, "
                    "registered_ms=excluded.registered_ms, updated_ms=excluded.updated_ms"));
    st->Bind(1, r.device_id)
        .Bind(2, r.registration_id)
        .Bind(3, r.endpoint)
        .Bind(4, r.lifetime_s)
        .Bind(5, r.binding)
        .Bind(6, r.queue_mode)
        .Bind(7, r.version)
        .Bind(8, r.objects)
        .Bind(9, r.registered_ms)
        .Bind(10, r.updated_ms);
    return st->Run();
  }

  Result<Lwm2mRegistration> GetRegistration(Id device_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare(std::string(kSelectReg) + "WHERE device_id=?"));
    st->Bind(1, device_id);
    if (!st->Step()) {
      BYSANS_RETURN_IF_ERROR(st->status());
      return NotFound("device " + std::to_string(device_id) + " has no LwM2M registration");
    }
    return RegFromRow(*st);
  }

  Result<Lwm2mRegistration> FindRegistration(const std::string& registration_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st,
                            db->Prepare(std::string(kSelectReg) + "WHERE registration_id=?"));
    st->Bind(1, registration_id);
    if (!st->Step()) {
      BYSANS_RETURN_IF_ERROR(st->status());
      return NotFound("unknown registration");
    }
    return RegFromRow(*st);
  }

  Status DeleteRegistration(Id device_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st,
                            db->Prepare("DELETE FROM lwm2m_registrations WHERE device_id=?"));
    st->Bind(1, device_id);
    BYSANS_RETURN_IF_ERROR(st->Run());
    if (db->Changes() == 0)
      return NotFound("device " + std::to_string(device_id) + " has no LwM2M registration");
    return Status::Ok();
  }

  Result<Lwm2mOperation> AddOperation(Lwm2mOperation op, int max_open) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_RETURN_IF_ERROR(CheckDevice(*db, op.device_id));
    // One statement: the count and the insert under the same write lock.
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("INSERT INTO lwm2m_operations(device_id, kind, path, value, state, "
                             "result_code, result_payload, error, created_ms, updated_ms) "
                             "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE (SELECT count(*) FROM "
                             "lwm2m_operations WHERE device_id=? AND state IN ('queued', 'sent')) "
                             "< ?"));
    op.updated_ms = op.created_ms;
    st->Bind(1, op.device_id)
        .Bind(2, Lwm2mOpKindName(op.kind))
        .Bind(3, op.path)
        .Bind(4, op.value)
        .Bind(5, Lwm2mOpStateName(op.state))
        .Bind(6, op.result_code)
        .Bind(7, op.result_payload)
        .Bind(8, op.error)
        .Bind(9, op.created_ms)
        .Bind(10, op.updated_ms)
        .Bind(11, op.device_id)
        .Bind(12, max_open);
    BYSANS_RETURN_IF_ERROR(st->Run());
    if (db->Changes() == 0) return TooManyOpen(op.device_id, max_open);
    op.id = db->LastInsertId();
    return op;
  }

  Result<std::vector<Lwm2mOperation>> ListOperations(Id device_id, int limit) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare(std::string(kSelectOp) +
                                                 "WHERE device_id=? ORDER BY id DESC LIMIT ?"));
    st->Bind(1, device_id).Bind(2, limit);
    return Rows(*st);
  }

  Result<std::vector<Lwm2mOperation>> OpenOperations(const std::vector<Id>& device_ids,
                                                     int per_device) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    std::vector<Lwm2mOperation> out;
    for (Id device_id : device_ids) {
      BYSANS_ASSIGN_OR_RETURN(
          auto st, db->Prepare(std::string(kSelectOp) +
                               "WHERE device_id=? AND state IN ('queued', 'sent') ORDER BY id "
                               "LIMIT ?"));
      st->Bind(1, device_id).Bind(2, per_device);
      while (st->Step()) out.push_back(OpFromRow(*st));
      BYSANS_RETURN_IF_ERROR(st->status());
    }
    return out;
  }

  Result<int64_t> ExpireOperations(TimeMs before, const std::string& reason, TimeMs now,
                                   int limit) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st,
        db->Prepare("UPDATE lwm2m_operations SET state='failed', error=?, updated_ms=? WHERE id IN "
                    "(SELECT id FROM lwm2m_operations WHERE state IN ('queued', 'sent') AND "
                    "updated_ms < ? LIMIT ?)"));
    st->Bind(1, reason).Bind(2, now).Bind(3, before).Bind(4, limit);
    BYSANS_RETURN_IF_ERROR(st->Run());
    return db->Changes();
  }

  Result<int64_t> DeleteFinishedOperations(TimeMs before, int limit) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st,
        db->Prepare("DELETE FROM lwm2m_operations WHERE id IN (SELECT id FROM "
                    "lwm2m_operations WHERE state IN ('done', 'failed') AND updated_ms < ? "
                    "LIMIT ?)"));
    st->Bind(1, before).Bind(2, limit);
    BYSANS_RETURN_IF_ERROR(st->Run());
    return db->Changes();
  }

  Status UpdateOperation(const Lwm2mOperation& op) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st,
                            db->Prepare("UPDATE lwm2m_operations SET state=?, result_code=?, "
                                        "result_payload=?, error=?, updated_ms=? WHERE id=?"));
    st->Bind(1, Lwm2mOpStateName(op.state))
        .Bind(2, op.result_code)
        .Bind(3, op.result_payload)
        .Bind(4, op.error)
        .Bind(5, op.updated_ms)
        .Bind(6, op.id);
    BYSANS_RETURN_IF_ERROR(st->Run());
    if (db->Changes() == 0) return NotFound("no LwM2M operation " + std::to_string(op.id));
    return Status::Ok();
  }

  Status PutObservation(const Lwm2mObservation& o) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_RETURN_IF_ERROR(CheckDevice(*db, o.device_id));
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("INSERT INTO lwm2m_observations(device_id, path, since_ms, "
                             "notifications, last_ms) VALUES(?, ?, ?, ?, ?) ON CONFLICT(device_id, "
                             "path) DO UPDATE SET since_ms=excluded.since_ms, "
                             "notifications=excluded.notifications, last_ms=excluded.last_ms"));
    st->Bind(1, o.device_id)
        .Bind(2, o.path)
        .Bind(3, o.since_ms)
        .Bind(4, o.notifications)
        .Bind(5, o.last_ms);
    return st->Run();
  }

  Status DeleteObservation(Id device_id, const std::string& path) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("DELETE FROM lwm2m_observations WHERE device_id=? AND path=?"));
    st->Bind(1, device_id).Bind(2, path);
    return st->Run();
  }

  Status DeleteObservations(Id device_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    if (device_id == 0) return db->Exec("DELETE FROM lwm2m_observations");
    BYSANS_ASSIGN_OR_RETURN(auto st,
                            db->Prepare("DELETE FROM lwm2m_observations WHERE device_id=?"));
    st->Bind(1, device_id);
    return st->Run();
  }

  Result<std::vector<Lwm2mObservation>> ListObservations(Id device_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st,
                            db->Prepare("SELECT device_id, path, since_ms, notifications, last_ms "
                                        "FROM lwm2m_observations WHERE device_id=? ORDER BY path"));
    st->Bind(1, device_id);
    std::vector<Lwm2mObservation> out;
    while (st->Step()) {
      Lwm2mObservation o;
      o.device_id = st->Int(0);
      o.path = st->Text(1);
      o.since_ms = st->Int(2);
      o.notifications = st->Int(3);
      o.last_ms = st->Int(4);
      out.push_back(std::move(o));
    }
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

 private:
  static Status CheckDevice(Db& db, Id device_id) {
    BYSANS_ASSIGN_OR_RETURN(auto dev, db.Prepare("SELECT 1 FROM devices WHERE id=?"));
    dev->Bind(1, device_id);
    if (!dev->Step()) {
      BYSANS_RETURN_IF_ERROR(dev->status());
      return NotFound("no device with id " + std::to_string(device_id));
    }
    return Status::Ok();
  }

  static Status TooManyOpen(Id device_id, int max_open) {
    return Status(Code::kRateLimited, "device " + std::to_string(device_id) + " already has " +
                                          std::to_string(max_open) +
                                          " open (queued or sent) LwM2M operations");
  }

  static Result<std::vector<Lwm2mOperation>> Rows(Stmt& st) {
    std::vector<Lwm2mOperation> out;
    while (st.Step()) out.push_back(OpFromRow(st));
    BYSANS_RETURN_IF_ERROR(st.status());
    return out;
  }

  Pool& pool_;
};

}  // namespace

std::unique_ptr<Lwm2mStore> NewSqliteLwm2mStore(Pool& pool) {
  return std::make_unique<SqliteLwm2mStore>(pool);
}

}  // namespace bysans::sqlite
