// The PostgreSQL MetaStore's class and what its .cc files share (pg_meta_*.cc). Folder-private:
// it brings in libpqxx.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "store/postgres/pool.h"
#include "store/store.h"

namespace bysans::pg {

// ---- helpers of the statements (pg_meta_store.cc)

Page ClampPage(Page p);  // limit in [1, 10000], offset >= 0
std::string AsciiLower(std::string s);
// A comma-separated list of ids ("3,7,12"; "" is none) as ids.
std::vector<Id> ParseIdList(std::string_view csv);
// kNotFound "<what> not found" when the statement changed no row.
Status ChangedOne(const pqxx::result& r, const std::string& what);
// A JSON array of strings (text of a jsonb column) as strings; anything else as none.
std::vector<std::string> JsonStrings(const std::string& json);
std::optional<int64_t> OptInt(const pqxx::field& f);

// The first row of a query as T, kNotFound "<what> not found" when there is none.
template <typename T, typename RowFn, typename... A>
Result<T> QueryOne(pqxx::transaction_base& t, const std::string& sql, RowFn row,
                   const std::string& what, const A&... a) {
  const pqxx::result r = t.exec_params(sql, a...);
  if (r.empty()) return NotFound(what + " not found");
  return row(r[0]);
}

template <typename T, typename RowFn, typename... A>
std::vector<T> QueryAll(pqxx::transaction_base& t, const std::string& sql, RowFn row,
                        const A&... a) {
  std::vector<T> out;
  for (const auto& r : t.exec_params(sql, a...)) out.push_back(row(r));
  return out;
}

// One page of `SELECT cols <from_where> ORDER BY <order>` and the count of all its rows;
// `from_where` uses the parameters $1..$n of `a`, the limit and offset follow them.
template <typename T, typename RowFn, typename... A>
Paged<T> QueryPage(pqxx::transaction_base& t, const std::string& cols,
                   const std::string& from_where, const std::string& order, Page page, RowFn row,
                   const A&... a) {
  page = ClampPage(page);
  Paged<T> out;
  out.total = t.exec_params("SELECT count(*) " + from_where, a...)[0][0].template as<int64_t>();
  const std::string n = std::to_string(sizeof...(A) + 1);
  const std::string m = std::to_string(sizeof...(A) + 2);
  for (const auto& r : t.exec_params("SELECT " + cols + " " + from_where + " ORDER BY " + order +
                                         " LIMIT $" + n + " OFFSET $" + m,
                                     a..., page.limit, page.offset))
    out.items.push_back(row(r));
  return out;
}

// ---- rows as model objects (pg_meta_store.cc, pg_meta_devices.cc)

extern const char kOrgCols[];
extern const char kAppCols[];
extern const char kDevCols[];
extern const char kModelCols[];
Organization OrgRow(const pqxx::row& r);
Application AppRow(const pqxx::row& r);
Device DevRow(const pqxx::row& r);
DeviceModel ModelRow(const pqxx::row& r);

// Appends a location history entry of the device when `now` differs from `before` (nothing for
// a removed or unchanged location), timed `time` or 1 ms after the device's newest entry,
// whichever is later. The caller holds the device's row (created in its transaction, or locked
// FOR UPDATE), so two writers never read the same newest entry.
void RecordDeviceLocation(pqxx::transaction_base& t, Id device_id, TimeMs time,
                          const std::optional<Location>& before,
                          const std::optional<Location>& now);

class MetaPg final : public MetaStore {
 public:
  MetaPg(std::unique_ptr<Pool> owned, Pool& pool, const Clock& clock)
      : owned_(std::move(owned)), pool_(pool), clock_(clock) {}

  Result<Organization> CreateOrganization(Organization org) override;
  Result<Organization> GetOrganization(Id id) override;
  Result<Paged<Organization>> ListOrganizations(Page page) override;
  Result<Paged<Organization>> ListOrganizationsOfUser(Id user_id, Page page) override;
  Status UpdateOrganization(const Organization& org) override;
  Status DeleteOrganization(Id id) override;

  Result<Application> CreateApplication(Application app) override;
  Result<Application> GetApplication(Id id) override;
  Result<Paged<Application>> ListApplications(Id org_id, Page page) override;
  Status UpdateApplication(const Application& app) override;
  Status DeleteApplication(Id id) override;

  Result<Device> CreateDevice(Device device, std::string ingest_key_hash) override;
  Result<std::vector<Device>> CreateDevices(std::vector<Device> devices) override;
  Result<Device> GetDevice(Id id) override;
  Result<Paged<Device>> ListDevices(const DeviceFilter& filter, Page page) override;
  Status UpdateDevice(const Device& device) override;
  Status SetDeviceIngestKey(Id device_id, std::string ingest_key_hash) override;
  Status DeleteDevice(Id id) override;
  Result<Device> FindDeviceByIngestKey(const std::string& ingest_key_hash) override;
  Result<Device> FindDeviceByDevEui(const std::string& dev_eui) override;

  Result<std::vector<DeviceLocation>> ListDeviceLocations(
      const std::vector<Id>& device_ids) override;
  Result<DeviceLocation> GetDeviceLocation(int64_t id) override;
  Status DeleteDeviceLocation(int64_t id) override;
  Status ReplaceDeviceLocations(Id device_id, const std::vector<DeviceLocation>& entries) override;

  Result<DeviceModel> CreateDeviceModel(DeviceModel model) override;
  Result<DeviceModel> GetDeviceModel(Id id) override;
  Result<Paged<DeviceModel>> ListDeviceModels(Id org_id, Page page) override;
  Status UpdateDeviceModel(const DeviceModel& model) override;
  Status DeleteDeviceModel(Id id) override;

  Result<User> CreateUser(User user) override;
  Result<User> GetUser(Id id) override;
  Result<User> FindUserByEmail(const std::string& email) override;
  Result<Paged<User>> ListUsers(Page page) override;
  Result<Paged<User>> ListUsersOfOrganization(Id org_id, Page page) override;
  Status UpdateUser(const User& user) override;
  Status DeleteUser(Id id) override;

  Status PutMembership(const Membership& m) override;
  Result<Membership> GetMembership(Id user_id, Id org_id) override;
  Result<std::vector<Membership>> ListMembershipsOfUser(Id user_id) override;
  Result<std::vector<Membership>> ListMembershipsOfOrganization(Id org_id) override;
  Status DeleteMembership(Id user_id, Id org_id) override;

  Result<Invitation> PutInvitation(Invitation inv) override;
  Result<Invitation> GetInvitation(Id id) override;
  Result<std::vector<Invitation>> ListInvitationsOfOrganization(Id org_id) override;
  Result<std::vector<Invitation>> ListInvitationsOfEmail(const std::string& email) override;
  Status DeleteInvitation(Id id) override;
  Status AcceptInvitation(Id invitation_id, Id user_id) override;

  Result<ApiKey> CreateApiKey(ApiKey key) override;
  Result<ApiKey> GetApiKey(Id id) override;
  Result<ApiKey> FindApiKeyByHash(const std::string& secret_hash) override;
  Result<Paged<ApiKey>> ListApiKeys(Id org_id, Page page) override;
  Result<std::vector<ApiKey>> ListMqttApiKeys() override;
  Status DeleteApiKey(Id id) override;
  Status SetApiKeySecret(Id id, const std::string& prefix, const std::string& secret_hash,
                         const std::string& mqtt_hash) override;

  Status CreateSession(const Session& s) override;
  Result<Session> FindSession(const std::string& token_hash) override;
  Status DeleteSession(const std::string& token_hash) override;
  Status DeleteExpiredSessions(TimeMs now) override;
  Status DeleteSessionsOfUser(Id user_id, const std::string& keep_token_hash) override;

  Status AppendAudit(AuditEntry entry) override;
  Result<Paged<AuditEntry>> ListAudit(std::optional<Id> org_id, Page page) override;
  Result<int64_t> DeleteAuditBefore(TimeMs before) override;

 private:
  // f(pqxx::work&) in one transaction (Pool::Transact).
  template <typename R, typename F>
  R Tx(std::string_view what, F&& f) {
    return pool_.Transact<R>(what, std::forward<F>(f));
  }
  // f(pqxx::transaction_base&) outside a transaction block, for methods of one statement (its
  // own transaction): one round trip instead of three (BEGIN, the statement, COMMIT). The
  // lookups of every request (ingest key, API key, session) and the audit appends among them.
  template <typename R, typename F>
  R Single(std::string_view what, F&& f) {
    return pool_.Run<R>(what, [&](pqxx::connection& c) -> R {
      pqxx::nontransaction t(c);
      return f(t);
    });
  }
  // f(pqxx::transaction_base&) in one read-only REPEATABLE READ transaction: the statements of
  // a page (its rows and the total) see one snapshot.
  template <typename R, typename F>
  R Snapshot(std::string_view what, F&& f) {
    return pool_.Run<R>(what, [&](pqxx::connection& c) -> R {
      pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> t(c);
      R r = f(t);
      if (r.ok()) t.commit();
      return r;
    });
  }
  // Inserts one device (its organisation from its application, looked up through `org_of_app`)
  // and its first location entry.
  Result<Device> InsertDevice(pqxx::work& w, Device d, const std::string& ingest_key_hash,
                              std::map<Id, Id>& org_of_app);

  std::unique_ptr<Pool> owned_;  // OpenPostgresMetaStore's pool
  Pool& pool_;
  const Clock& clock_;
};

}  // namespace bysans::pg
