// MetaStore methods of SqliteStore.
#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "store/sqlite/device_locations.h"
#include "store/sqlite/statements.h"
#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {
namespace {

constexpr char kOrgCols[] = "id, name, created_ms, decoder_timeout_ms, max_devices";
constexpr char kAppCols[] =
    "id, org_id, name, description, created_ms, data_class, retention_raw_days, "
    "retention_readings_days, retention_aggregates_days, purpose, legal_basis, data_categories, "
    "recipients, personal_metadata_keys";
constexpr char kDevCols[] =
    "id, org_id, app_id, name, transport, dev_eui, lat, lon, tags, metadata, device_model_id, "
    "expected_interval_s, in_maintenance, created_ms";
constexpr char kModelCols[] = "id, org_id, name, doc_json, created_ms";
constexpr char kUserCols[] = "id, email, name, password_hash, global_admin, created_ms";
constexpr char kKeyCols[] =
    "id, org_id, name, role, prefix, secret_hash, expires_ms, created_by, created_ms, "
    "created_by_key, mqtt_hash";
constexpr char kInvitationCols[] =
    "id, org_id, email, role, invited_by, created_ms, expires_ms, app_scoped, "
    "(SELECT group_concat(a.app_id) FROM (SELECT app_id FROM invitation_apps a "
    "WHERE a.invitation_id=invitations.id ORDER BY app_id) a)";
constexpr char kAuditCols[] =
    "id, org_id, user_id, api_key_id, action, object_type, object_id, remote_addr, detail, ts";

std::optional<int64_t> Days(const std::optional<int>& d) {
  return d ? std::optional<int64_t>(*d) : std::nullopt;
}
// Replaces the applications a membership or an invitation is restricted to, inside the
// caller's transaction: `del` (?1 = owner, ?2 = organisation) removes the old rows; `ins`
// (?1 = owner, ?2 = organisation, ?3 = application) adds one application, only when it is the
// organisation's. `apps` null: no restriction (nothing is added).
Status ReplaceAppScope(Db& db, const char* del, const char* ins, const std::vector<Id>* apps,
                       Id owner, Id org_id) {
  BYSANS_ASSIGN_OR_RETURN(auto d, db.Prepare(del));
  BindAll(*d, owner, org_id);
  BYSANS_RETURN_IF_ERROR(d->Run());
  if (apps == nullptr) return Status::Ok();
  BYSANS_ASSIGN_OR_RETURN(auto i, db.Prepare(ins));
  for (Id app : *apps) {
    BindAll(*i, owner, org_id, app);
    BYSANS_RETURN_IF_ERROR(i->Run());
  }
  return Status::Ok();
}

std::optional<int64_t> OptInt(const Stmt& s, int c) {
  if (s.IsNull(c)) return std::nullopt;
  return s.Int(c);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Page Clamp(Page p) {
  p.limit = std::clamp<int64_t>(p.limit, 1, 10000);
  p.offset = std::max<int64_t>(0, p.offset);
  return p;
}

Organization OrgRow(const Stmt& s) {
  Organization o{s.Int(0), s.Text(1), s.Int(2), s.Int(3)};
  if (!s.IsNull(4)) o.max_devices = s.Int(4);
  return o;
}
std::optional<int> OptDays(const Stmt& s, int col) {
  if (s.IsNull(col)) return std::nullopt;
  return static_cast<int>(s.Int(col));
}
Application AppRow(const Stmt& s) {
  Application a{s.Int(0), s.Int(1), s.Text(2), s.Text(3), s.Int(4)};
  const int64_t cls = s.Int(5);
  a.data_class = cls >= 0 && cls <= 3 ? static_cast<DataClass>(cls) : DataClass::kSensitive;
  a.retention = {OptDays(s, 6), OptDays(s, 7), OptDays(s, 8)};
  a.purpose = s.Text(9);
  a.legal_basis = s.Text(10);
  a.data_categories = s.Text(11);
  a.recipients = s.Text(12);
  auto keys = nlohmann::json::parse(s.Text(13), nullptr, false);
  if (keys.is_array())
    for (const auto& k : keys)
      if (k.is_string()) a.personal_metadata_keys.push_back(k.get<std::string>());
  return a;
}
DeviceModel ModelRow(const Stmt& s) { return {s.Int(0), s.Int(1), s.Text(2), s.Text(3), s.Int(4)}; }
User UserRow(const Stmt& s) {
  return {s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4) != 0, s.Int(5)};
}
ApiKey KeyRow(const Stmt& s) {
  ApiKey k;
  k.id = s.Int(0);
  k.org_id = s.Int(1);
  k.name = s.Text(2);
  k.role = RoleFromCode(s.Int(3));
  k.prefix = s.Text(4);
  k.secret_hash = s.Text(5);
  k.expires_ms = OptInt(s, 6);
  k.created_by = s.Int(7);
  k.created_ms = s.Int(8);
  k.created_by_key = OptInt(s, 9);
  k.mqtt_hash = s.Text(10);
  return k;
}
// "3,7,12" (a group_concat of ids) as ids; "" as none.
std::vector<Id> IdList(const std::string& ids) {
  std::vector<Id> out;
  for (size_t at = 0; at < ids.size();) {
    size_t comma = ids.find(',', at);
    if (comma == std::string::npos) comma = ids.size();
    out.push_back(std::stoll(ids.substr(at, comma - at)));
    at = comma + 1;
  }
  return out;
}
Invitation InvitationRow(const Stmt& s) {
  Invitation i{s.Int(0), s.Int(1), s.Text(2), RoleFromCode(s.Int(3)), s.Int(4), s.Int(5), s.Int(6)};
  i.app_scoped = s.Int(7) != 0;
  i.app_ids = IdList(s.Text(8));
  return i;
}
AuditEntry AuditRow(const Stmt& s) {
  AuditEntry a;
  a.id = s.Int(0);
  a.org_id = OptInt(s, 1);
  a.user_id = OptInt(s, 2);
  a.api_key_id = OptInt(s, 3);
  a.action = s.Text(4);
  a.object_type = s.Text(5);
  a.object_id = s.Text(6);
  a.remote_addr = s.Text(7);
  a.detail = s.Text(8);
  a.ts = s.Int(9);
  return a;
}
Device DevRow(const Stmt& s) {
  Device d;
  d.id = s.Int(0);
  d.org_id = s.Int(1);
  d.app_id = s.Int(2);
  d.name = s.Text(3);
  d.transport = static_cast<Transport>(s.Int(4));
  d.dev_eui = s.Text(5);
  if (!s.IsNull(6) && !s.IsNull(7)) d.location = Location{s.Double(6), s.Double(7)};
  auto tags = nlohmann::json::parse(s.Text(8), nullptr, false);
  if (tags.is_array())
    for (const auto& t : tags)
      if (t.is_string()) d.tags.push_back(t.get<std::string>());
  auto meta = nlohmann::json::parse(s.Text(9), nullptr, false);
  if (meta.is_object())
    for (const auto& [k, v] : meta.items())
      if (v.is_string()) d.metadata[k] = v.get<std::string>();
  if (!s.IsNull(10)) d.device_model_id = s.Int(10);
  d.expected_interval_s = s.Int(11);
  d.in_maintenance = s.Int(12) != 0;
  d.created_ms = s.Int(13);
  return d;
}

std::string TagsJson(const Device& d) { return nlohmann::json(d.tags).dump(); }
std::string MetaJson(const Device& d) { return nlohmann::json(d.metadata).dump(); }
std::optional<std::string> NullIfEmpty(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

// Runs a statement expecting no rows; kNotFound if it changed nothing.
// `from_where` is everything after SELECT ... (FROM ... WHERE ...); `order`
// the ORDER BY clause. Binds args then limit and offset.
template <typename T, typename RowFn, typename... A>
Result<Paged<T>> List(Db& db, const std::string& cols, const std::string& from_where,
                      const std::string& order, Page page, RowFn row, const A&... a) {
  page = Clamp(page);
  Paged<T> out;
  {
    BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT count(*) " + from_where));
    BindAll(*st, a...);
    if (st->Step()) out.total = st->Int(0);
    BYSANS_RETURN_IF_ERROR(st->status());
  }
  BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT " + cols + " " + from_where + " ORDER BY " +
                                              order + " LIMIT ? OFFSET ?"));
  BindAll(*st, a..., page.limit, page.offset);
  while (st->Step()) out.items.push_back(row(*st));
  BYSANS_RETURN_IF_ERROR(st->status());
  return out;
}

}  // namespace

// NOLINTBEGIN(bugprone-macro-parentheses): `db` is a name, not an expression
#define LEASE(db)                                            \
  BYSANS_ASSIGN_OR_RETURN(auto db##_lease, pool_.Acquire()); \
  Db& db = *db##_lease
// NOLINTEND(bugprone-macro-parentheses)

// ---- organisations

Result<Organization> SqliteStore::CreateOrganization(Organization org) {
  LEASE(db);
  if (org.created_ms == 0) org.created_ms = opts_.clock->NowMs();
  BYSANS_ASSIGN_OR_RETURN(auto st,
                          db.Prepare("INSERT INTO organizations(name, created_ms, "
                                     "decoder_timeout_ms, max_devices) VALUES(?, ?, ?, ?)"));
  BindAll(*st, org.name, org.created_ms, org.decoder_timeout_ms, org.max_devices);
  BYSANS_RETURN_IF_ERROR(st->Run());
  org.id = db.LastInsertId();
  return org;
}

Result<Organization> SqliteStore::GetOrganization(Id id) {
  LEASE(db);
  return GetOne<Organization>(db,
                              std::string("SELECT ") + kOrgCols + " FROM organizations WHERE id=?",
                              OrgRow, "organization", id);
}

Result<Paged<Organization>> SqliteStore::ListOrganizations(Page page) {
  LEASE(db);
  return List<Organization>(db, kOrgCols, "FROM organizations", "id", page, OrgRow);
}

Result<Paged<Organization>> SqliteStore::ListOrganizationsOfUser(Id user_id, Page page) {
  BYSANS_ASSIGN_OR_RETURN(User user, GetUser(user_id));
  LEASE(db);
  if (user.global_admin)
    return List<Organization>(db, kOrgCols, "FROM organizations", "id", page, OrgRow);
  return List<Organization>(
      db, kOrgCols,
      "FROM organizations WHERE id IN (SELECT org_id FROM memberships WHERE user_id=?)", "id", page,
      OrgRow, user_id);
}

Status SqliteStore::UpdateOrganization(const Organization& org) {
  LEASE(db);
  return Modify(db,
                "UPDATE organizations SET name=?, decoder_timeout_ms=?, max_devices=? WHERE id=?",
                "organization", org.name, org.decoder_timeout_ms, org.max_devices, org.id);
}

Status SqliteStore::DeleteOrganization(Id id) {
  return DeleteAndErase("DELETE FROM organizations WHERE id=?", "organization",
                        "SELECT id FROM devices WHERE org_id=?", id);
}

// ---- applications

Result<Application> SqliteStore::CreateApplication(Application app) {
  LEASE(db);
  if (app.created_ms == 0) app.created_ms = opts_.clock->NowMs();
  BYSANS_ASSIGN_OR_RETURN(
      auto st,
      db.Prepare("INSERT INTO applications(org_id, name, description, created_ms, personal_data, "
                 "data_class, retention_raw_days, retention_readings_days, "
                 "retention_aggregates_days, purpose, legal_basis, data_categories, recipients, "
                 "personal_metadata_keys) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  BindAll(*st, app.org_id, app.name, app.description, app.created_ms,
          HoldsPersonalData(app.data_class), static_cast<int64_t>(app.data_class),
          Days(app.retention.raw_messages_days), Days(app.retention.readings_days),
          Days(app.retention.aggregates_days), app.purpose, app.legal_basis, app.data_categories,
          app.recipients, nlohmann::json(app.personal_metadata_keys).dump());
  BYSANS_RETURN_IF_ERROR(st->Run());
  app.id = db.LastInsertId();
  return app;
}

Result<Application> SqliteStore::GetApplication(Id id) {
  LEASE(db);
  return GetOne<Application>(db,
                             std::string("SELECT ") + kAppCols + " FROM applications WHERE id=?",
                             AppRow, "application", id);
}

Result<Paged<Application>> SqliteStore::ListApplications(Id org_id, Page page) {
  LEASE(db);
  return List<Application>(db, kAppCols, "FROM applications WHERE org_id=?", "id", page, AppRow,
                           org_id);
}

Status SqliteStore::UpdateApplication(const Application& app) {
  LEASE(db);
  return Modify(db,
                "UPDATE applications SET name=?, description=?, personal_data=?, data_class=?, "
                "retention_raw_days=?, retention_readings_days=?, retention_aggregates_days=?, "
                "purpose=?, legal_basis=?, data_categories=?, recipients=?, "
                "personal_metadata_keys=? WHERE id=?",
                "application", app.name, app.description, HoldsPersonalData(app.data_class),
                static_cast<int64_t>(app.data_class), Days(app.retention.raw_messages_days),
                Days(app.retention.readings_days), Days(app.retention.aggregates_days), app.purpose,
                app.legal_basis, app.data_categories, app.recipients,
                nlohmann::json(app.personal_metadata_keys).dump(), app.id);
}

Status SqliteStore::DeleteApplication(Id id) {
  return DeleteAndErase("DELETE FROM applications WHERE id=?", "application",
                        "SELECT id FROM devices WHERE app_id=?", id);
}

// ---- devices

Result<Device> SqliteStore::CreateDevice(Device d, std::string ingest_key_hash) {
  BYSANS_ASSIGN_OR_RETURN(Application app, GetApplication(d.app_id));
  if (d.org_id != 0 && d.org_id != app.org_id)
    return InvalidArgument("device organisation differs from its application's");
  d.org_id = app.org_id;
  if (d.device_model_id) BYSANS_RETURN_IF_ERROR(GetDeviceModel(*d.device_model_id).status());
  if (d.created_ms == 0) d.created_ms = opts_.clock->NowMs();
  d.dev_eui = Lower(d.dev_eui);
  LEASE(db);
  Txn txn(db, true);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  BYSANS_ASSIGN_OR_RETURN(
      auto st,
      db.Prepare("INSERT INTO devices(org_id, app_id, name, transport, dev_eui, lat, lon, tags, "
                 "metadata, device_model_id, expected_interval_s, in_maintenance, created_ms, "
                 "ingest_key_hash) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  std::optional<double> lat, lon;
  if (d.location) {
    lat = d.location->lat;
    lon = d.location->lon;
  }
  BindAll(*st, d.org_id, d.app_id, d.name, static_cast<int64_t>(d.transport),
          NullIfEmpty(d.dev_eui), lat, lon, TagsJson(d), MetaJson(d), d.device_model_id,
          d.expected_interval_s, d.in_maintenance, d.created_ms, NullIfEmpty(ingest_key_hash));
  BYSANS_RETURN_IF_ERROR(st->Run());
  d.id = db.LastInsertId();
  BYSANS_RETURN_IF_ERROR(RecordDeviceLocation(db, d.id, d.created_ms, std::nullopt, d.location));
  BYSANS_RETURN_IF_ERROR(txn.Commit());
  return d;
}

Result<std::vector<Device>> SqliteStore::CreateDevices(std::vector<Device> devices) {
  std::map<Id, Id> org_of_app;
  for (auto& d : devices) {
    auto it = org_of_app.find(d.app_id);
    if (it == org_of_app.end()) {
      BYSANS_ASSIGN_OR_RETURN(Application app, GetApplication(d.app_id));
      it = org_of_app.emplace(app.id, app.org_id).first;
    }
    if (d.org_id != 0 && d.org_id != it->second)
      return InvalidArgument("device organisation differs from its application's");
    d.org_id = it->second;
    if (d.created_ms == 0) d.created_ms = opts_.clock->NowMs();
    d.dev_eui = Lower(d.dev_eui);
  }
  LEASE(db);
  Txn txn(db, true);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  for (auto& d : devices) {
    BYSANS_ASSIGN_OR_RETURN(
        auto st,
        db.Prepare("INSERT INTO devices(org_id, app_id, name, transport, dev_eui, lat, lon, tags, "
                   "metadata, device_model_id, expected_interval_s, in_maintenance, created_ms, "
                   "ingest_key_hash) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)"));
    std::optional<double> lat, lon;
    if (d.location) {
      lat = d.location->lat;
      lon = d.location->lon;
    }
    BindAll(*st, d.org_id, d.app_id, d.name, static_cast<int64_t>(d.transport),
            NullIfEmpty(d.dev_eui), lat, lon, TagsJson(d), MetaJson(d), d.device_model_id,
            d.expected_interval_s, d.in_maintenance, d.created_ms);
    BYSANS_RETURN_IF_ERROR(st->Run());
    d.id = db.LastInsertId();
    BYSANS_RETURN_IF_ERROR(RecordDeviceLocation(db, d.id, d.created_ms, std::nullopt, d.location));
  }
  BYSANS_RETURN_IF_ERROR(txn.Commit());
  return devices;
}

Result<Device> SqliteStore::GetDevice(Id id) {
  LEASE(db);
  return GetOne<Device>(db, std::string("SELECT ") + kDevCols + " FROM devices WHERE id=?", DevRow,
                        "device", id);
}

Result<Paged<Device>> SqliteStore::ListDevices(const DeviceFilter& f, Page page) {
  LEASE(db);
  // Unused filters bind NULL so one cached statement serves every combination.
  std::optional<std::string> tag = NullIfEmpty(f.tag);
  std::optional<std::string> search;
  if (!f.search.empty()) search = Lower(f.search);
  std::optional<std::string> apps;  // a JSON array of ids
  if (f.app_ids) {
    apps = "[";
    for (Id a : *f.app_ids) *apps += (apps->size() > 1 ? "," : "") + std::to_string(a);
    *apps += "]";
  }
  const std::string where =
      "FROM devices WHERE (?1 IS NULL OR org_id=?1) AND (?2 IS NULL OR app_id=?2) AND "
      "(?3 IS NULL OR device_model_id=?3) AND "
      "(?4 IS NULL OR EXISTS (SELECT 1 FROM json_each(devices.tags) WHERE value=?4)) AND "
      "(?5 IS NULL OR instr(lower(name), ?5) > 0 OR instr(lower(ifnull(dev_eui, '')), ?5) > 0) "
      "AND (?8 IS NULL OR app_id IN (SELECT value FROM json_each(?8)))";
  page = Clamp(page);
  Paged<Device> out;
  const std::optional<int64_t> unused;  // ?6 and ?7 (LIMIT, OFFSET) in the count
  {
    BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT count(*) " + where));
    BindAll(*st, f.org_id, f.app_id, f.device_model_id, tag, search, unused, unused, apps);
    if (st->Step()) out.total = st->Int(0);
    BYSANS_RETURN_IF_ERROR(st->status());
  }
  BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare(std::string("SELECT ") + kDevCols + " " + where +
                                              " ORDER BY id LIMIT ?6 OFFSET ?7"));
  BindAll(*st, f.org_id, f.app_id, f.device_model_id, tag, search, page.limit, page.offset, apps);
  while (st->Step()) out.items.push_back(DevRow(*st));
  BYSANS_RETURN_IF_ERROR(st->status());
  return out;
}

Status SqliteStore::UpdateDevice(const Device& device) {
  Device d = device;
  d.dev_eui = Lower(d.dev_eui);
  if (d.device_model_id) BYSANS_RETURN_IF_ERROR(GetDeviceModel(*d.device_model_id).status());
  LEASE(db);
  std::optional<double> lat, lon;
  if (d.location) {
    lat = d.location->lat;
    lon = d.location->lon;
  }
  Txn txn(db, true);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  std::optional<Location> before;
  {
    BYSANS_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT lat, lon FROM devices WHERE id=?"));
    q->Bind(1, d.id);
    if (q->Step() && !q->IsNull(0) && !q->IsNull(1)) before = Location{q->Double(0), q->Double(1)};
    BYSANS_RETURN_IF_ERROR(q->status());
  }
  // The application (and so the organisation) of a device does not change here.
  BYSANS_RETURN_IF_ERROR(Modify(
      db,
      "UPDATE devices SET name=?, transport=?, dev_eui=?, lat=?, lon=?, tags=?, "
      "metadata=?, device_model_id=?, expected_interval_s=?, in_maintenance=? "
      "WHERE id=?",
      "device", d.name, static_cast<int64_t>(d.transport), NullIfEmpty(d.dev_eui), lat, lon,
      TagsJson(d), MetaJson(d), d.device_model_id, d.expected_interval_s, d.in_maintenance, d.id));
  BYSANS_RETURN_IF_ERROR(RecordDeviceLocation(db, d.id, opts_.clock->NowMs(), before, d.location));
  return txn.Commit();
}

Status SqliteStore::SetDeviceIngestKey(Id device_id, std::string ingest_key_hash) {
  LEASE(db);
  return Modify(db, "UPDATE devices SET ingest_key_hash=? WHERE id=?", "device",
                NullIfEmpty(ingest_key_hash), device_id);
}

Status SqliteStore::DeleteDevice(Id id) {
  return DeleteAndErase("DELETE FROM devices WHERE id=?", "device",
                        "SELECT id FROM devices WHERE id=?", id);
}

// Deletes the object and, in the same transaction, queues the erasure of its devices' raw
// messages (raw_erase.cc): now, and once more after the ingest caches have forgotten the
// devices (a message may still be accepted for a device the cache has not yet seen deleted).
Status SqliteStore::DeleteAndErase(const char* delete_sql, const char* what,
                                   const char* devices_sql, Id id) {
  {
    LEASE(db);
    Txn txn(db, true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    std::vector<Id> devices;
    {
      BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare(devices_sql));
      st->Bind(1, id);
      while (st->Step()) devices.push_back(st->Int(0));
      BYSANS_RETURN_IF_ERROR(st->status());
    }
    BYSANS_RETURN_IF_ERROR(Modify(db, delete_sql, what, id));
    BYSANS_ASSIGN_OR_RETURN(auto queue, db.Prepare("INSERT INTO erasures(device_id, t_from, t_to, "
                                                   "not_before_ms) VALUES(?, ?, ?, ?)"));
    const TimeMs now = opts_.clock->NowMs();
    for (Id d : devices) {
      for (TimeMs when : {now, now + kEraseAgainAfterMs}) {
        BYSANS_RETURN_IF_ERROR(
            queue->Bind(1, d).Bind(2, INT64_MIN).Bind(3, INT64_MAX).Bind(4, when).Run());
      }
    }
    BYSANS_RETURN_IF_ERROR(txn.Commit());
  }
  WakeEraser();
  return Status::Ok();
}

Result<Device> SqliteStore::FindDeviceByIngestKey(const std::string& h) {
  LEASE(db);
  return GetOne<Device>(db,
                        std::string("SELECT ") + kDevCols + " FROM devices WHERE ingest_key_hash=?",
                        DevRow, "device", h);
}

Result<Device> SqliteStore::FindDeviceByDevEui(const std::string& eui) {
  LEASE(db);
  return GetOne<Device>(db, std::string("SELECT ") + kDevCols + " FROM devices WHERE dev_eui=?",
                        DevRow, "device", Lower(eui));
}

// ---- device models

Result<DeviceModel> SqliteStore::CreateDeviceModel(DeviceModel m) {
  LEASE(db);
  if (m.created_ms == 0) m.created_ms = opts_.clock->NowMs();
  BYSANS_ASSIGN_OR_RETURN(
      auto st, db.Prepare("INSERT INTO device_models(org_id, name, doc_json, created_ms) "
                          "VALUES(?, ?, ?, ?)"));
  BindAll(*st, m.org_id, m.name, m.doc_json, m.created_ms);
  BYSANS_RETURN_IF_ERROR(st->Run());
  m.id = db.LastInsertId();
  return m;
}

Result<DeviceModel> SqliteStore::GetDeviceModel(Id id) {
  LEASE(db);
  return GetOne<DeviceModel>(db,
                             std::string("SELECT ") + kModelCols + " FROM device_models WHERE id=?",
                             ModelRow, "device model", id);
}

Result<Paged<DeviceModel>> SqliteStore::ListDeviceModels(Id org_id, Page page) {
  LEASE(db);
  return List<DeviceModel>(db, kModelCols, "FROM device_models WHERE org_id=?", "id", page,
                           ModelRow, org_id);
}

Status SqliteStore::UpdateDeviceModel(const DeviceModel& m) {
  LEASE(db);
  return Modify(db, "UPDATE device_models SET name=?, doc_json=? WHERE id=?", "device model",
                m.name, m.doc_json, m.id);
}

Status SqliteStore::DeleteDeviceModel(Id id) {
  LEASE(db);
  return Modify(db, "DELETE FROM device_models WHERE id=?", "device model", id);
}

// ---- users

Result<User> SqliteStore::CreateUser(User u) {
  LEASE(db);
  u.email = Lower(u.email);
  if (u.created_ms == 0) u.created_ms = opts_.clock->NowMs();
  BYSANS_ASSIGN_OR_RETURN(auto st,
                          db.Prepare("INSERT INTO users(email, name, password_hash, global_admin, "
                                     "created_ms) VALUES(?, ?, ?, ?, ?)"));
  BindAll(*st, u.email, u.name, u.password_hash, u.global_admin, u.created_ms);
  BYSANS_RETURN_IF_ERROR(st->Run());
  u.id = db.LastInsertId();
  return u;
}

Result<User> SqliteStore::GetUser(Id id) {
  LEASE(db);
  return GetOne<User>(db, std::string("SELECT ") + kUserCols + " FROM users WHERE id=?", UserRow,
                      "user", id);
}

Result<User> SqliteStore::FindUserByEmail(const std::string& email) {
  LEASE(db);
  return GetOne<User>(db, std::string("SELECT ") + kUserCols + " FROM users WHERE email=?", UserRow,
                      "user", Lower(email));
}

Result<Paged<User>> SqliteStore::ListUsers(Page page) {
  LEASE(db);
  return List<User>(db, kUserCols, "FROM users", "id", page, UserRow);
}

Result<Paged<User>> SqliteStore::ListUsersOfOrganization(Id org_id, Page page) {
  LEASE(db);
  return List<User>(db, kUserCols,
                    "FROM users WHERE id IN (SELECT user_id FROM memberships WHERE org_id=?)", "id",
                    page, UserRow, org_id);
}

Status SqliteStore::UpdateUser(const User& u) {
  LEASE(db);
  return Modify(db, "UPDATE users SET email=?, name=?, password_hash=?, global_admin=? WHERE id=?",
                "user", Lower(u.email), u.name, u.password_hash, u.global_admin, u.id);
}

Status SqliteStore::DeleteUser(Id id) {
  LEASE(db);
  return Modify(db, "DELETE FROM users WHERE id=?", "user", id);
}

// ---- memberships

Status SqliteStore::PutMembership(const Membership& m) {
  LEASE(db);
  Txn txn(db, true);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  BYSANS_ASSIGN_OR_RETURN(
      auto st, db.Prepare("INSERT INTO memberships(user_id, org_id, role, app_scoped) "
                          "VALUES(?, ?, ?, ?) ON CONFLICT(user_id, org_id) DO UPDATE SET "
                          "role=excluded.role, app_scoped=excluded.app_scoped"));
  BindAll(*st, m.user_id, m.org_id, RoleCode(m.role), int64_t{m.app_scoped ? 1 : 0});
  BYSANS_RETURN_IF_ERROR(st->Run());
  BYSANS_RETURN_IF_ERROR(
      ReplaceAppScope(db, "DELETE FROM membership_apps WHERE user_id=?1 AND org_id=?2",
                      "INSERT OR IGNORE INTO membership_apps(user_id, org_id, app_id) "
                      "SELECT ?1, ?2, id FROM applications WHERE id=?3 AND org_id=?2",
                      m.app_scoped ? &m.app_ids : nullptr, m.user_id, m.org_id));
  return txn.Commit();
}

namespace {

constexpr const char* kMemberColumns =
    "SELECT m.user_id, m.org_id, m.role, m.app_scoped, "
    "(SELECT group_concat(a.app_id) FROM (SELECT app_id FROM membership_apps a "
    "WHERE a.user_id=m.user_id AND a.org_id=m.org_id ORDER BY app_id) a) FROM memberships m ";

Membership MemberRow(const Stmt& s) {
  Membership m{s.Int(0), s.Int(1), RoleFromCode(s.Int(2))};
  m.app_scoped = s.Int(3) != 0;
  m.app_ids = IdList(s.Text(4));
  return m;
}

}  // namespace

Result<Membership> SqliteStore::GetMembership(Id user_id, Id org_id) {
  LEASE(db);
  return GetOne<Membership>(db, std::string(kMemberColumns) + "WHERE m.user_id=? AND m.org_id=?",
                            MemberRow, "membership", user_id, org_id);
}

Result<std::vector<Membership>> SqliteStore::ListMembershipsOfUser(Id user_id) {
  LEASE(db);
  return GetAll<Membership>(db, std::string(kMemberColumns) + "WHERE m.user_id=? ORDER BY m.org_id",
                            MemberRow, user_id);
}

Result<std::vector<Membership>> SqliteStore::ListMembershipsOfOrganization(Id org_id) {
  LEASE(db);
  return GetAll<Membership>(db, std::string(kMemberColumns) + "WHERE m.org_id=? ORDER BY m.user_id",
                            MemberRow, org_id);
}

Status SqliteStore::DeleteMembership(Id user_id, Id org_id) {
  LEASE(db);
  return Modify(db, "DELETE FROM memberships WHERE user_id=? AND org_id=?", "membership", user_id,
                org_id);
}

// ---- invitations

Result<Invitation> SqliteStore::PutInvitation(Invitation inv) {
  LEASE(db);
  inv.email = Lower(inv.email);
  Txn txn(db, true);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  BYSANS_ASSIGN_OR_RETURN(
      auto st,
      db.Prepare("INSERT INTO invitations(org_id, email, role, invited_by, created_ms, expires_ms, "
                 "app_scoped) VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(org_id, email) DO UPDATE SET "
                 "role=excluded.role, invited_by=excluded.invited_by, "
                 "created_ms=excluded.created_ms, expires_ms=excluded.expires_ms, "
                 "app_scoped=excluded.app_scoped RETURNING id"));
  BindAll(*st, inv.org_id, inv.email, RoleCode(inv.role), inv.invited_by, inv.created_ms,
          inv.expires_ms, int64_t{inv.app_scoped ? 1 : 0});
  if (!st->Step()) {
    BYSANS_RETURN_IF_ERROR(st->status());
    return Internal("the invitation was not stored");
  }
  inv.id = st->Int(0);
  while (st->Step()) {
  }
  BYSANS_RETURN_IF_ERROR(st->status());
  // Inviting the address again replaces the applications too.
  BYSANS_RETURN_IF_ERROR(
      ReplaceAppScope(db,
                      "DELETE FROM invitation_apps WHERE invitation_id=?1 AND invitation_id IN "
                      "(SELECT id FROM invitations WHERE org_id=?2)",
                      "INSERT OR IGNORE INTO invitation_apps(invitation_id, app_id) "
                      "SELECT ?1, id FROM applications WHERE id=?3 AND org_id=?2",
                      inv.app_scoped ? &inv.app_ids : nullptr, inv.id, inv.org_id));
  BYSANS_RETURN_IF_ERROR(txn.Commit());
  return inv;
}

Result<Invitation> SqliteStore::GetInvitation(Id id) {
  LEASE(db);
  return GetOne<Invitation>(
      db, std::string("SELECT ") + kInvitationCols + " FROM invitations WHERE id=?", InvitationRow,
      "invitation", id);
}

Result<std::vector<Invitation>> SqliteStore::ListInvitationsOfOrganization(Id org_id) {
  LEASE(db);
  return GetAll<Invitation>(
      db, std::string("SELECT ") + kInvitationCols + " FROM invitations WHERE org_id=? ORDER BY id",
      InvitationRow, org_id);
}

Result<std::vector<Invitation>> SqliteStore::ListInvitationsOfEmail(const std::string& email) {
  LEASE(db);
  return GetAll<Invitation>(
      db, std::string("SELECT ") + kInvitationCols + " FROM invitations WHERE email=? ORDER BY id",
      InvitationRow, Lower(email));
}

Status SqliteStore::DeleteInvitation(Id id) {
  LEASE(db);
  return Modify(db, "DELETE FROM invitations WHERE id=?", "invitation", id);
}

Status SqliteStore::AcceptInvitation(Id invitation_id, Id user_id) {
  LEASE(db);
  Txn txn(db, true);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  // The membership takes the invitation's role and its applications (or the whole organisation).
  BYSANS_ASSIGN_OR_RETURN(
      auto st, db.Prepare("INSERT INTO memberships(user_id, org_id, role, app_scoped) "
                          "SELECT ?, org_id, role, app_scoped FROM invitations WHERE id=? "
                          "ON CONFLICT(user_id, org_id) DO UPDATE SET role=excluded.role, "
                          "app_scoped=excluded.app_scoped"));
  BindAll(*st, user_id, invitation_id);
  BYSANS_RETURN_IF_ERROR(st->Run());
  BYSANS_ASSIGN_OR_RETURN(auto del,
                          db.Prepare("DELETE FROM membership_apps WHERE user_id=? AND "
                                     "org_id=(SELECT org_id FROM invitations WHERE id=?)"));
  BindAll(*del, user_id, invitation_id);
  BYSANS_RETURN_IF_ERROR(del->Run());
  BYSANS_ASSIGN_OR_RETURN(
      auto copy, db.Prepare("INSERT INTO membership_apps(user_id, org_id, app_id) "
                            "SELECT ?, i.org_id, a.app_id FROM invitation_apps a "
                            "JOIN invitations i ON i.id=a.invitation_id WHERE a.invitation_id=?"));
  BindAll(*copy, user_id, invitation_id);
  BYSANS_RETURN_IF_ERROR(copy->Run());
  BYSANS_RETURN_IF_ERROR(
      Modify(db, "DELETE FROM invitations WHERE id=?", "invitation", invitation_id));
  return txn.Commit();
}

// ---- API keys

Result<ApiKey> SqliteStore::CreateApiKey(ApiKey k) {
  LEASE(db);
  if (k.created_ms == 0) k.created_ms = opts_.clock->NowMs();
  BYSANS_ASSIGN_OR_RETURN(
      auto st, db.Prepare("INSERT INTO api_keys(org_id, name, role, prefix, secret_hash, "
                          "expires_ms, created_by, created_ms, created_by_key, mqtt_hash) "
                          "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  BindAll(*st, k.org_id, k.name, RoleCode(k.role), k.prefix, k.secret_hash, k.expires_ms,
          k.created_by, k.created_ms, k.created_by_key, k.mqtt_hash);
  BYSANS_RETURN_IF_ERROR(st->Run());
  k.id = db.LastInsertId();
  return k;
}

Result<ApiKey> SqliteStore::GetApiKey(Id id) {
  LEASE(db);
  return GetOne<ApiKey>(db, std::string("SELECT ") + kKeyCols + " FROM api_keys WHERE id=?", KeyRow,
                        "api key", id);
}

Result<ApiKey> SqliteStore::FindApiKeyByHash(const std::string& h) {
  LEASE(db);
  return GetOne<ApiKey>(db,
                        std::string("SELECT ") + kKeyCols + " FROM api_keys WHERE secret_hash=?",
                        KeyRow, "api key", h);
}

Result<Paged<ApiKey>> SqliteStore::ListApiKeys(Id org_id, Page page) {
  LEASE(db);
  return List<ApiKey>(db, kKeyCols, "FROM api_keys WHERE org_id=?", "id", page, KeyRow, org_id);
}

Result<std::vector<ApiKey>> SqliteStore::ListMqttApiKeys() {
  LEASE(db);
  BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare(std::string("SELECT ") + kKeyCols +
                                              " FROM api_keys WHERE mqtt_hash != '' ORDER BY id"));
  std::vector<ApiKey> out;
  while (st->Step()) out.push_back(KeyRow(*st));
  BYSANS_RETURN_IF_ERROR(st->status());
  return out;
}

Status SqliteStore::DeleteApiKey(Id id) {
  LEASE(db);
  return Modify(db, "DELETE FROM api_keys WHERE id=?", "api key", id);
}

Status SqliteStore::SetApiKeySecret(Id id, const std::string& prefix,
                                    const std::string& secret_hash, const std::string& mqtt_hash) {
  LEASE(db);
  return Modify(db, "UPDATE api_keys SET prefix=?, secret_hash=?, mqtt_hash=? WHERE id=?",
                "api key", prefix, secret_hash, mqtt_hash, id);
}

// ---- sessions

Status SqliteStore::CreateSession(const Session& s) {
  LEASE(db);
  BYSANS_ASSIGN_OR_RETURN(
      auto st, db.Prepare("INSERT INTO sessions(token_hash, user_id, created_ms, expires_ms) "
                          "VALUES(?, ?, ?, ?)"));
  BindAll(*st, s.token_hash, s.user_id, s.created_ms, s.expires_ms);
  return st->Run();
}

Result<Session> SqliteStore::FindSession(const std::string& token_hash) {
  LEASE(db);
  return GetOne<Session>(
      db, "SELECT token_hash, user_id, created_ms, expires_ms FROM sessions WHERE token_hash=?",
      [](const Stmt& s) {
        return Session{s.Text(0), s.Int(1), s.Int(2), s.Int(3)};
      },
      "session", token_hash);
}

Status SqliteStore::DeleteSession(const std::string& token_hash) {
  LEASE(db);
  return Modify(db, "DELETE FROM sessions WHERE token_hash=?", "session", token_hash);
}

Status SqliteStore::DeleteSessionsOfUser(Id user_id, const std::string& keep_token_hash) {
  LEASE(db);
  BYSANS_ASSIGN_OR_RETURN(auto st,
                          db.Prepare("DELETE FROM sessions WHERE user_id=? AND token_hash<>?"));
  BindAll(*st, user_id, keep_token_hash);
  return st->Run();
}

Status SqliteStore::DeleteExpiredSessions(TimeMs now) {
  LEASE(db);
  BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare("DELETE FROM sessions WHERE expires_ms <= ?"));
  BindAll(*st, now);
  return st->Run();
}

// ---- audit

Status SqliteStore::AppendAudit(AuditEntry a) {
  LEASE(db);
  if (a.ts == 0) a.ts = opts_.clock->NowMs();
  BYSANS_ASSIGN_OR_RETURN(
      auto st, db.Prepare("INSERT INTO audit(org_id, user_id, api_key_id, action, object_type, "
                          "object_id, remote_addr, detail, ts) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  BindAll(*st, a.org_id, a.user_id, a.api_key_id, a.action, a.object_type, a.object_id,
          a.remote_addr, a.detail, a.ts);
  return st->Run();
}

Result<int64_t> SqliteStore::DeleteAuditBefore(TimeMs before) {
  LEASE(db);
  // Entries are appended in time order, so the old ones are the lowest ids: find the first
  // entry to keep (reading only the old ones) and delete below it, 10,000 per transaction so
  // other writers are never held up for long.
  BYSANS_ASSIGN_OR_RETURN(auto first,
                          db.Prepare("SELECT coalesce((SELECT id FROM audit WHERE ts >= ? ORDER BY "
                                     "id LIMIT 1), (SELECT coalesce(max(id), 0) + 1 FROM audit))"));
  first->Bind(1, before);
  if (!first->Step())
    return first->status().ok() ? Internal("audit cut-off not found") : first->status();
  const int64_t keep_from = first->Int(0);
  BYSANS_RETURN_IF_ERROR(first->Run());
  int64_t deleted = 0;
  for (;;) {
    Txn txn(db, true, WriteTurn::kWhenIdle);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    BYSANS_ASSIGN_OR_RETURN(auto del, db.Prepare("DELETE FROM audit WHERE id IN (SELECT id FROM "
                                                 "audit WHERE id < ? ORDER BY id LIMIT 10000)"));
    BYSANS_RETURN_IF_ERROR(del->Bind(1, keep_from).Run());
    const int64_t n = db.Changes();
    BYSANS_RETURN_IF_ERROR(txn.Commit());
    deleted += n;
    if (n < 10000) return deleted;
  }
}

Result<Paged<AuditEntry>> SqliteStore::ListAudit(std::optional<Id> org_id, Page page) {
  LEASE(db);
  if (org_id)
    return List<AuditEntry>(db, kAuditCols, "FROM audit WHERE org_id=?", "id DESC", page, AuditRow,
                            *org_id);
  return List<AuditEntry>(db, kAuditCols, "FROM audit", "id DESC", page, AuditRow);
}

}  // namespace bysans::sqlite
