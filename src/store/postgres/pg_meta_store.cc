// PostgreSQL MetaStore: the shared helpers, the factory, organisations, applications and device
// models. Devices and their locations: pg_meta_devices.cc; users, memberships and invitations:
// pg_meta_people.cc; API keys, sessions and audit: pg_meta_access.cc.
#include "store/postgres/pg_meta_store.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

#include "store/postgres/change_feed.h"
#include "store/postgres/migrations.h"
#include "store/postgres/pg_meta_impl.h"

namespace bysans {

std::unique_ptr<MetaStore> NewPostgresMetaStore(pg::Pool& pool, const Clock& clock) {
  return std::make_unique<pg::MetaPg>(nullptr, pool, clock);
}

Result<std::unique_ptr<MetaStore>> OpenPostgresMetaStore(const std::string& url,
                                                         const Clock& clock) {
  BYSANS_RETURN_IF_ERROR(pg::ApplyMigrations(url).status());
  auto pool = std::make_unique<pg::Pool>(url, 4);
  pg::Pool& p = *pool;
  return std::unique_ptr<MetaStore>(std::make_unique<pg::MetaPg>(std::move(pool), p, clock));
}

namespace pg {

Page ClampPage(Page p) {
  p.limit = std::clamp<int64_t>(p.limit, 1, 10000);
  p.offset = std::max<int64_t>(0, p.offset);
  return p;
}

std::string AsciiLower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<Id> ParseIdList(std::string_view csv) {
  std::vector<Id> ids;
  const char* p = csv.data();
  const char* end = p + csv.size();
  while (p < end) {
    Id id = 0;
    auto [next, ec] = std::from_chars(p, end, id);
    if (ec != std::errc()) break;
    ids.push_back(id);
    p = next + 1;  // past the comma
  }
  return ids;
}

Status ChangedOne(const pqxx::result& r, const std::string& what) {
  if (r.affected_rows() == 0) return NotFound(what + " not found");
  return Status::Ok();
}

std::vector<std::string> JsonStrings(const std::string& json) {
  std::vector<std::string> out;
  const auto doc = nlohmann::json::parse(json, nullptr, false);
  if (!doc.is_array()) return out;
  for (const auto& v : doc)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::optional<int64_t> OptInt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<int64_t>();
}

const char kOrgCols[] = "id, name, created_ms, decoder_timeout_ms, max_devices";
const char kAppCols[] =
    "id, org_id, name, description, created_ms, data_class, retention_raw_days, "
    "retention_readings_days, retention_aggregates_days, purpose, legal_basis, data_categories, "
    "recipients, personal_metadata_keys";
const char kModelCols[] = "id, org_id, name, doc_json, created_ms";

Organization OrgRow(const pqxx::row& r) {
  return {r[0].as<Id>(), r[1].as<std::string>(), r[2].as<TimeMs>(), r[3].as<int64_t>(),
          OptInt(r[4])};
}

namespace {

std::optional<int> Days(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<int>();
}
std::optional<int64_t> DaysParam(const std::optional<int>& d) {
  if (!d) return std::nullopt;
  return *d;
}

}  // namespace

Application AppRow(const pqxx::row& r) {
  Application a{r[0].as<Id>(), r[1].as<Id>(), r[2].as<std::string>(), r[3].as<std::string>(),
                r[4].as<TimeMs>()};
  const int cls = r[5].as<int>();
  // An unknown class (a newer server's) is read as the strictest.
  a.data_class = cls >= 0 && cls <= 3 ? static_cast<DataClass>(cls) : DataClass::kSensitive;
  a.retention.raw_messages_days = Days(r[6]);
  a.retention.readings_days = Days(r[7]);
  a.retention.aggregates_days = Days(r[8]);
  a.purpose = r[9].as<std::string>();
  a.legal_basis = r[10].as<std::string>();
  a.data_categories = r[11].as<std::string>();
  a.recipients = r[12].as<std::string>();
  a.personal_metadata_keys = JsonStrings(r[13].as<std::string>());
  return a;
}

DeviceModel ModelRow(const pqxx::row& r) {
  return {r[0].as<Id>(), r[1].as<Id>(), r[2].as<std::string>(), r[3].as<std::string>(),
          r[4].as<TimeMs>()};
}

// ---- organisations

Result<Organization> MetaPg::CreateOrganization(Organization org) {
  if (org.created_ms == 0) org.created_ms = clock_.NowMs();
  return Single<Result<Organization>>("create organisation", [&](pqxx::transaction_base& w) {
    org.id = w.exec_params(
                  "INSERT INTO organizations (name, created_ms, decoder_timeout_ms, max_devices) "
                  "VALUES ($1, $2, $3, $4) RETURNING id",
                  org.name, org.created_ms, org.decoder_timeout_ms, org.max_devices)[0][0]
                 .as<Id>();
    return Result<Organization>(org);
  });
}

Result<Organization> MetaPg::GetOrganization(Id id) {
  return Single<Result<Organization>>("get organisation", [&](pqxx::transaction_base& w) {
    return QueryOne<Organization>(
        w, std::string("SELECT ") + kOrgCols + " FROM organizations WHERE id = $1", OrgRow,
        "organization", id);
  });
}

Result<Paged<Organization>> MetaPg::ListOrganizations(Page page) {
  return Snapshot<Result<Paged<Organization>>>(
      "list organisations", [&](pqxx::transaction_base& w) {
        return Result<Paged<Organization>>(
            QueryPage<Organization>(w, kOrgCols, "FROM organizations", "id", page, OrgRow));
      });
}

Result<Paged<Organization>> MetaPg::ListOrganizationsOfUser(Id user_id, Page page) {
  return Snapshot<Result<Paged<Organization>>>(
      "list organisations of user", [&](pqxx::transaction_base& w) -> Result<Paged<Organization>> {
        const pqxx::result u =
            w.exec_params("SELECT global_admin FROM users WHERE id = $1", user_id);
        if (u.empty()) return NotFound("user not found");
        if (u[0][0].as<bool>())
          return QueryPage<Organization>(w, kOrgCols, "FROM organizations", "id", page, OrgRow);
        return QueryPage<Organization>(
            w, kOrgCols,
            "FROM organizations WHERE id IN (SELECT org_id FROM memberships WHERE user_id = $1)",
            "id", page, OrgRow, user_id);
      });
}

Status MetaPg::UpdateOrganization(const Organization& org) {
  return Single<Status>("update organisation", [&](pqxx::transaction_base& w) {
    return ChangedOne(w.exec_params("UPDATE organizations SET name = $1, decoder_timeout_ms = $2, "
                                    "max_devices = $3 WHERE id = $4",
                                    org.name, org.decoder_timeout_ms, org.max_devices, org.id),
                      "organization");
  });
}

// What the organisation owns goes with it (ON DELETE CASCADE). Its devices' series and raw
// messages are the SeriesStore's (README: NOT done).
Status MetaPg::DeleteOrganization(Id id) {
  return Tx<Status>("delete organisation", [&](pqxx::transaction_base& w) -> Status {
    BYSANS_RETURN_IF_ERROR(
        ChangedOne(w.exec_params("DELETE FROM organizations WHERE id = $1", id), "organization"));
    NotifyChange(w, pool_, change::kDevice, 0);  // its devices went with it
    return Status::Ok();
  });
}

// ---- applications

Result<Application> MetaPg::CreateApplication(Application app) {
  if (app.created_ms == 0) app.created_ms = clock_.NowMs();
  return Single<Result<Application>>("create application", [&](pqxx::transaction_base& w) {
    app.id =
        w.exec_params(
             "INSERT INTO applications (org_id, name, description, created_ms, personal_data, "
             "data_class, retention_raw_days, retention_readings_days, retention_aggregates_days, "
             "purpose, legal_basis, data_categories, recipients, personal_metadata_keys) "
             "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
             app.org_id, app.name, app.description, app.created_ms,
             HoldsPersonalData(app.data_class), static_cast<int>(app.data_class),
             DaysParam(app.retention.raw_messages_days), DaysParam(app.retention.readings_days),
             DaysParam(app.retention.aggregates_days), app.purpose, app.legal_basis,
             app.data_categories, app.recipients,
             nlohmann::json(app.personal_metadata_keys).dump())[0][0]
            .as<Id>();
    return Result<Application>(app);
  });
}

Result<Application> MetaPg::GetApplication(Id id) {
  return Single<Result<Application>>("get application", [&](pqxx::transaction_base& w) {
    return QueryOne<Application>(
        w, std::string("SELECT ") + kAppCols + " FROM applications WHERE id = $1", AppRow,
        "application", id);
  });
}

Result<Paged<Application>> MetaPg::ListApplications(Id org_id, Page page) {
  return Snapshot<Result<Paged<Application>>>("list applications", [&](pqxx::transaction_base& w) {
    return Result<Paged<Application>>(QueryPage<Application>(
        w, kAppCols, "FROM applications WHERE org_id = $1", "id", page, AppRow, org_id));
  });
}

Status MetaPg::UpdateApplication(const Application& app) {
  return Single<Status>("update application", [&](pqxx::transaction_base& w) {
    return ChangedOne(
        w.exec_params(
            "UPDATE applications SET name = $1, description = $2, personal_data = $3, "
            "data_class = $4, retention_raw_days = $5, retention_readings_days = $6, "
            "retention_aggregates_days = $7, purpose = $8, legal_basis = $9, "
            "data_categories = $10, recipients = $11, personal_metadata_keys = $12 WHERE id = $13",
            app.name, app.description, HoldsPersonalData(app.data_class),
            static_cast<int>(app.data_class), DaysParam(app.retention.raw_messages_days),
            DaysParam(app.retention.readings_days), DaysParam(app.retention.aggregates_days),
            app.purpose, app.legal_basis, app.data_categories, app.recipients,
            nlohmann::json(app.personal_metadata_keys).dump(), app.id),
        "application");
  });
}

Status MetaPg::DeleteApplication(Id id) {
  return Tx<Status>("delete application", [&](pqxx::transaction_base& w) -> Status {
    BYSANS_RETURN_IF_ERROR(
        ChangedOne(w.exec_params("DELETE FROM applications WHERE id = $1", id), "application"));
    NotifyChange(w, pool_, change::kDevice, 0);  // its devices went with it
    return Status::Ok();
  });
}

// ---- device models

Result<DeviceModel> MetaPg::CreateDeviceModel(DeviceModel m) {
  if (m.created_ms == 0) m.created_ms = clock_.NowMs();
  return Single<Result<DeviceModel>>("create device model", [&](pqxx::transaction_base& w) {
    m.id = w.exec_params(
                "INSERT INTO device_models (org_id, name, doc_json, created_ms) "
                "VALUES ($1, $2, $3, $4) RETURNING id",
                m.org_id, m.name, m.doc_json, m.created_ms)[0][0]
               .as<Id>();
    return Result<DeviceModel>(m);
  });
}

Result<DeviceModel> MetaPg::GetDeviceModel(Id id) {
  return Single<Result<DeviceModel>>("get device model", [&](pqxx::transaction_base& w) {
    return QueryOne<DeviceModel>(
        w, std::string("SELECT ") + kModelCols + " FROM device_models WHERE id = $1", ModelRow,
        "device model", id);
  });
}

Result<Paged<DeviceModel>> MetaPg::ListDeviceModels(Id org_id, Page page) {
  return Snapshot<Result<Paged<DeviceModel>>>("list device models", [&](pqxx::transaction_base& w) {
    return Result<Paged<DeviceModel>>(QueryPage<DeviceModel>(
        w, kModelCols, "FROM device_models WHERE org_id = $1", "id", page, ModelRow, org_id));
  });
}

// A model's ranges are cached with its devices (quality checker): the other nodes drop them.
Status MetaPg::UpdateDeviceModel(const DeviceModel& m) {
  return Tx<Status>("update device model", [&](pqxx::transaction_base& w) -> Status {
    BYSANS_RETURN_IF_ERROR(ChangedOne(w.exec_params("UPDATE device_models SET name = $1, "
                                                    "doc_json = $2 WHERE id = $3",
                                                    m.name, m.doc_json, m.id),
                                      "device model"));
    NotifyChange(w, pool_, change::kDevice, 0);
    return Status::Ok();
  });
}

// Its devices keep going without a model (ON DELETE SET NULL).
Status MetaPg::DeleteDeviceModel(Id id) {
  return Tx<Status>("delete device model", [&](pqxx::transaction_base& w) -> Status {
    BYSANS_RETURN_IF_ERROR(
        ChangedOne(w.exec_params("DELETE FROM device_models WHERE id = $1", id), "device model"));
    NotifyChange(w, pool_, change::kDevice, 0);  // its devices lost their model
    return Status::Ok();
  });
}

}  // namespace pg
}  // namespace bysans
