// PostgresStore: the Store interface over the PostgreSQL stores of this folder, each its own class
// on one pool of connections (the series writer has its own connection). Forwarding only: the
// behaviour is in the stores.
#include "store/postgres/postgres_store.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <utility>

#include "core/secret_box.h"
#include "store/postgres/change_feed.h"
#include "store/postgres/device_eraser.h"
#include "store/postgres/pg_coap_credential_store.h"
#include "store/postgres/pg_contact_store.h"
#include "store/postgres/pg_dashboard_store.h"
#include "store/postgres/pg_decoder_store.h"
#include "store/postgres/pg_gateway_store.h"
#include "store/postgres/pg_lease_store.h"
#include "store/postgres/pg_live_relay.h"
#include "store/postgres/pg_lwm2m_store.h"
#include "store/postgres/pg_meta_store.h"
#include "store/postgres/pg_mqtt_store.h"
#include "store/postgres/pg_open_data_store.h"
#include "store/postgres/pg_rule_feed.h"
#include "store/postgres/pg_rule_store.h"
#include "store/postgres/pg_subject_erasure_store.h"
#include "store/postgres/pg_target_store.h"
#include "store/postgres/pool.h"

namespace bysans {
namespace {

// Connections kept for the stores' calls (API requests, rules, deliveries); more are opened while
// busy and closed after.
constexpr size_t kPooledConnections = 8;

class PostgresStore final : public Store {
 public:
  PostgresStore(const PostgresStoreOptions& o, std::unique_ptr<PostgresSeriesStore> series,
                std::unique_ptr<SecretBox> secrets)
      : pool_(std::make_unique<pg::Pool>(o.url, kPooledConnections)),
        secrets_(std::move(secrets)),
        series_(std::move(series)),
        meta_(NewPostgresMetaStore(*pool_, *o.clock)),
        rules_(NewPostgresRuleStore(*pool_)),
        decoders_(NewPostgresDecoderStore(*pool_)),
        mqtt_(NewPostgresMqttStore(*pool_, *secrets_)),
        targets_(NewPostgresTargetStore(*pool_, *secrets_)),
        open_data_(pg::NewPostgresOpenDataStore(*pool_)),
        dashboards_(pg::NewPostgresDashboardStore(*pool_)),
        contacts_(pg::NewPostgresContactStore(*pool_)),
        gateways_(NewPostgresGatewayStore(*pool_, [this] { return mqtt_->FlushPending(); })),
        coap_credentials_(pg::NewPostgresCoapCredentialStore(*pool_)),
        lwm2m_(pg::NewPostgresLwm2mStore(*pool_)),
        subject_erasures_(pg::NewPostgresSubjectErasureStore(*pool_, *o.clock)),
        leases_(pg::NewPostgresLeaseStore(*pool_)),
        rule_feed_(pg::NewPostgresRuleFeed(*pool_)),
        eraser_(std::make_unique<pg::DeviceEraser>(*pool_, *series_)) {
    pool_->set_node_id(o.node_id);  // OpenPostgresStore has named the node
    live_ = std::make_unique<pg::PgLiveRelay>(*pool_, *o.clock);
    series_->SetLiveRelay(live_.get(), pool_->node_id());
    feed_ = std::make_unique<pg::ChangeFeed>(
        o.url, pool_->node_id(), [this](const pg::Change& c) { OnOtherNode(c); },
        [this] { OnFeedReconnected(); });
    feed_->AlsoListen(pg::kLiveChannel, [this](std::string_view body) { live_->Deliver(body); });
    eraser_->Start();
    feed_->Start();
  }
  ~PostgresStore() override { Close(); }

  // MetaStore: meta_
  Result<Organization> CreateOrganization(Organization org) override {
    return meta_->CreateOrganization(std::move(org));
  }
  Result<Organization> GetOrganization(Id id) override { return meta_->GetOrganization(id); }
  Result<Paged<Organization>> ListOrganizations(Page page) override {
    return meta_->ListOrganizations(page);
  }
  Result<Paged<Organization>> ListOrganizationsOfUser(Id user_id, Page page) override {
    return meta_->ListOrganizationsOfUser(user_id, page);
  }
  Status UpdateOrganization(const Organization& org) override {
    return meta_->UpdateOrganization(org);
  }
  Status DeleteOrganization(Id id) override { return meta_->DeleteOrganization(id); }
  Result<Application> CreateApplication(Application app) override {
    return meta_->CreateApplication(std::move(app));
  }
  Result<Application> GetApplication(Id id) override { return meta_->GetApplication(id); }
  Result<Paged<Application>> ListApplications(Id org_id, Page page) override {
    return meta_->ListApplications(org_id, page);
  }
  Status UpdateApplication(const Application& app) override {
    return meta_->UpdateApplication(app);
  }
  Status DeleteApplication(Id id) override { return meta_->DeleteApplication(id); }
  Result<Device> CreateDevice(Device device, std::string ingest_key_hash) override {
    return meta_->CreateDevice(std::move(device), std::move(ingest_key_hash));
  }
  Result<std::vector<Device>> CreateDevices(std::vector<Device> devices) override {
    return meta_->CreateDevices(std::move(devices));
  }
  Result<Device> GetDevice(Id id) override { return meta_->GetDevice(id); }
  Result<Paged<Device>> ListDevices(const DeviceFilter& filter, Page page) override {
    return meta_->ListDevices(filter, page);
  }
  Status UpdateDevice(const Device& device) override { return meta_->UpdateDevice(device); }
  Status SetDeviceIngestKey(Id device_id, std::string ingest_key_hash) override {
    return meta_->SetDeviceIngestKey(device_id, std::move(ingest_key_hash));
  }
  Status DeleteDevice(Id id) override { return meta_->DeleteDevice(id); }
  Result<Device> FindDeviceByIngestKey(const std::string& ingest_key_hash) override {
    return meta_->FindDeviceByIngestKey(ingest_key_hash);
  }
  Result<Device> FindDeviceByDevEui(const std::string& dev_eui) override {
    return meta_->FindDeviceByDevEui(dev_eui);
  }
  Result<std::vector<DeviceLocation>> ListDeviceLocations(
      const std::vector<Id>& device_ids) override {
    return meta_->ListDeviceLocations(device_ids);
  }
  Result<DeviceLocation> GetDeviceLocation(int64_t id) override {
    return meta_->GetDeviceLocation(id);
  }
  Status DeleteDeviceLocation(int64_t id) override { return meta_->DeleteDeviceLocation(id); }
  Status ReplaceDeviceLocations(Id device_id, const std::vector<DeviceLocation>& entries) override {
    return meta_->ReplaceDeviceLocations(device_id, entries);
  }
  Result<DeviceModel> CreateDeviceModel(DeviceModel model) override {
    return meta_->CreateDeviceModel(std::move(model));
  }
  Result<DeviceModel> GetDeviceModel(Id id) override { return meta_->GetDeviceModel(id); }
  Result<Paged<DeviceModel>> ListDeviceModels(Id org_id, Page page) override {
    return meta_->ListDeviceModels(org_id, page);
  }
  Status UpdateDeviceModel(const DeviceModel& model) override {
    return meta_->UpdateDeviceModel(model);
  }
  Status DeleteDeviceModel(Id id) override { return meta_->DeleteDeviceModel(id); }
  Result<User> CreateUser(User user) override { return meta_->CreateUser(std::move(user)); }
  Result<User> GetUser(Id id) override { return meta_->GetUser(id); }
  Result<User> FindUserByEmail(const std::string& email) override {
    return meta_->FindUserByEmail(email);
  }
  Result<Paged<User>> ListUsers(Page page) override { return meta_->ListUsers(page); }
  Result<Paged<User>> ListUsersOfOrganization(Id org_id, Page page) override {
    return meta_->ListUsersOfOrganization(org_id, page);
  }
  Status UpdateUser(const User& user) override { return meta_->UpdateUser(user); }
  Status DeleteUser(Id id) override { return meta_->DeleteUser(id); }
  Status PutMembership(const Membership& m) override { return meta_->PutMembership(m); }
  Result<Membership> GetMembership(Id user_id, Id org_id) override {
    return meta_->GetMembership(user_id, org_id);
  }
  Result<std::vector<Membership>> ListMembershipsOfUser(Id user_id) override {
    return meta_->ListMembershipsOfUser(user_id);
  }
  Result<std::vector<Membership>> ListMembershipsOfOrganization(Id org_id) override {
    return meta_->ListMembershipsOfOrganization(org_id);
  }
  Status DeleteMembership(Id user_id, Id org_id) override {
    return meta_->DeleteMembership(user_id, org_id);
  }
  Result<Invitation> PutInvitation(Invitation inv) override {
    return meta_->PutInvitation(std::move(inv));
  }
  Result<Invitation> GetInvitation(Id id) override { return meta_->GetInvitation(id); }
  Result<std::vector<Invitation>> ListInvitationsOfOrganization(Id org_id) override {
    return meta_->ListInvitationsOfOrganization(org_id);
  }
  Result<std::vector<Invitation>> ListInvitationsOfEmail(const std::string& email) override {
    return meta_->ListInvitationsOfEmail(email);
  }
  Status DeleteInvitation(Id id) override { return meta_->DeleteInvitation(id); }
  Status AcceptInvitation(Id invitation_id, Id user_id) override {
    return meta_->AcceptInvitation(invitation_id, user_id);
  }
  Result<ApiKey> CreateApiKey(ApiKey key) override { return meta_->CreateApiKey(std::move(key)); }
  Result<ApiKey> GetApiKey(Id id) override { return meta_->GetApiKey(id); }
  Result<ApiKey> FindApiKeyByHash(const std::string& secret_hash) override {
    return meta_->FindApiKeyByHash(secret_hash);
  }
  Result<Paged<ApiKey>> ListApiKeys(Id org_id, Page page) override {
    return meta_->ListApiKeys(org_id, page);
  }
  Result<std::vector<ApiKey>> ListMqttApiKeys() override { return meta_->ListMqttApiKeys(); }
  Status DeleteApiKey(Id id) override { return meta_->DeleteApiKey(id); }
  Status SetApiKeySecret(Id id, const std::string& prefix, const std::string& secret_hash,
                         const std::string& mqtt_hash) override {
    return meta_->SetApiKeySecret(id, prefix, secret_hash, mqtt_hash);
  }
  Status CreateSession(const Session& s) override { return meta_->CreateSession(s); }
  Result<Session> FindSession(const std::string& token_hash) override {
    return meta_->FindSession(token_hash);
  }
  Status DeleteSession(const std::string& token_hash) override {
    return meta_->DeleteSession(token_hash);
  }
  Status DeleteExpiredSessions(TimeMs now) override { return meta_->DeleteExpiredSessions(now); }
  Status DeleteSessionsOfUser(Id user_id, const std::string& keep_token_hash) override {
    return meta_->DeleteSessionsOfUser(user_id, keep_token_hash);
  }
  Status AppendAudit(AuditEntry entry) override { return meta_->AppendAudit(std::move(entry)); }
  Result<Paged<AuditEntry>> ListAudit(std::optional<Id> org_id, Page page) override {
    return meta_->ListAudit(std::move(org_id), page);
  }
  Result<int64_t> DeleteAuditBefore(TimeMs before) override {
    return meta_->DeleteAuditBefore(before);
  }
  // SeriesStore: series_
  void AppendShared(std::shared_ptr<const IngestBatch> batch, AppendDone done) override {
    series_->AppendShared(batch, std::move(done));
  }
  Status Append(IngestBatch batch) override { return series_->Append(std::move(batch)); }
  Result<std::vector<Reading>> QueryReadings(const ReadingQuery& q) override {
    return series_->QueryReadings(q);
  }
  Result<std::vector<Bucket>> Aggregate(const AggregateQuery& q) override {
    return series_->Aggregate(q);
  }
  Result<LatestSlice> LatestWithin(const LatestQuery& q) override {
    return series_->LatestWithin(q);
  }
  Result<std::vector<std::string>> Keys(Id device_id) override { return series_->Keys(device_id); }
  Result<std::vector<SeriesRef>> ListSeries(const std::vector<Id>& device_ids) override {
    return series_->ListSeries(device_ids);
  }
  Result<SeriesRef> GetSeries(int64_t series_id) override { return series_->GetSeries(series_id); }
  Result<SeriesRef> CreateSeries(Id device_id, const std::string& key, const std::string& unit,
                                 bool* created) override {
    return series_->CreateSeries(device_id, key, unit, created);
  }
  Status SetSeriesUnit(int64_t series_id, const std::string& unit) override {
    return series_->SetSeriesUnit(series_id, unit);
  }
  Status DeleteReadings(int64_t series_id, TimeMs from, TimeMs to) override {
    return series_->DeleteReadings(series_id, from, to);
  }
  Status DeleteSeries(int64_t series_id) override { return series_->DeleteSeries(series_id); }
  Result<std::vector<RawMessage>> QueryMessages(const MessageQuery& q) override {
    return series_->QueryMessages(q);
  }
  Result<std::map<Quality, int64_t>> CountQuality(Id device_id) override {
    return series_->CountQuality(device_id);
  }
  Result<int64_t> EraseRawMessages(Id device_id, TimeMs from, TimeMs to) override {
    return series_->EraseRawMessages(device_id, from, to);
  }
  Result<RetentionCounts> ApplyRetention(const std::vector<Id>& device_ids,
                                         const RetentionCutoffs& c) override {
    return series_->ApplyRetention(device_ids, c);
  }

  uint64_t devices_generation() const override { return devices_generation_.load(); }

  // Stops the change feed and the eraser (an entry in progress stays queued), writes the pending
  // gateway touches and routes, then commits what the series writer has queued. Idempotent.
  void Close() override {
    feed_->Stop();
    live_->Stop();
    eraser_->Stop();
    if (Status st = mqtt_->FlushPending(); !st.ok())
      spdlog::warn("store: gateway and route updates not written at close: {}", st.message());
    series_->Close();
  }
  RuleStore& rules() override { return *rules_; }
  DecoderStore& decoders() override { return *decoders_; }
  MqttStore& mqtt() override { return *mqtt_; }
  TargetStore& targets() override { return *targets_; }
  OpenDataStore& open_data() override { return *open_data_; }
  DashboardStore& dashboards() override { return *dashboards_; }
  ContactStore& contacts() override { return *contacts_; }
  GatewayStore& gateways() override { return *gateways_; }
  CoapCredentialStore& coap_credentials() override { return *coap_credentials_; }
  Lwm2mStore& lwm2m() override { return *lwm2m_; }
  SubjectErasureStore& subject_erasures() override { return *subject_erasures_; }
  LeaseStore& leases() override { return *leases_; }
  RuleFeed* rule_feed() override { return rule_feed_.get(); }
  LiveRelay* live_relay() override { return live_.get(); }
  const SecretBox& secrets() override { return *secrets_; }

 private:
  // A change another node committed (on the feed's thread): the same in-process notification or
  // generation bump that node made for itself.
  void OnOtherNode(const pg::Change& c) {
    namespace k = pg::change;
    using Kind = RuleStoreChange::Kind;
    static const std::pair<const char*, Kind> kRuleKinds[] = {
        {k::kRuleUpserted, Kind::kRuleUpserted}, {k::kRuleDeleted, Kind::kRuleDeleted},
        {k::kSilenceAdded, Kind::kSilenceAdded}, {k::kSilenceDeleted, Kind::kSilenceDeleted},
        {k::kAlarmCreated, Kind::kAlarmCreated}, {k::kAlarmUpdated, Kind::kAlarmUpdated}};
    for (const auto& [name, kind] : kRuleKinds) {
      if (c.kind != name) continue;
      if (kind != Kind::kAlarmCreated && kind != Kind::kAlarmUpdated) {
        rules_->NotifyListeners({kind, c.id});
        return;
      }
      // The listeners (the live stream) get the alarm as it is stored now.
      Result<AlarmRecord> a = rules_->GetAlarm(c.id);
      if (a.ok()) {
        rules_->NotifyListeners({kind, c.id, &*a});
      } else {
        spdlog::warn("store: alarm {} changed on another node not read: {}", c.id,
                     a.status().message());
      }
      return;
    }
    if (c.kind == k::kDecoders) {
      decoders_->BumpLocal();
    } else if (c.kind == k::kMqttCredentials) {
      mqtt_->BumpCredentialsLocal();
    } else if (c.kind == k::kMqttIntegrations) {
      mqtt_->BumpIntegrationsLocal();
    } else if (c.kind == k::kTargets) {
      targets_->BumpLocal();
    } else if (c.kind == k::kDevice) {
      devices_generation_.fetch_add(1);
    } else if (c.kind == k::kSeries) {
      series_->ForgetCachedSeries(c.id);
    } else if (c.kind == k::kLiveWanted) {
      live_->WantedElsewhere();
    } else {
      spdlog::debug("store: change of unknown kind {} from another node ignored", c.kind);
    }
  }

  // The feed lost its connection and may have missed changes: every cache counts as changed.
  void OnFeedReconnected() {
    decoders_->BumpLocal();
    mqtt_->BumpCredentialsLocal();
    mqtt_->BumpIntegrationsLocal();
    targets_->BumpLocal();
    devices_generation_.fetch_add(1);
    series_->ForgetAllCachedSeries();
    rules_->NotifyListeners({RuleStoreChange::Kind::kReloadAll, 0});
  }

  // Declared in the order they are made; the stores go before the pool and the secrets they use.
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<SecretBox> secrets_;
  std::unique_ptr<PostgresSeriesStore> series_;
  std::unique_ptr<MetaStore> meta_;
  std::unique_ptr<PostgresRuleStore> rules_;
  std::unique_ptr<PostgresDecoderStore> decoders_;
  std::unique_ptr<PostgresMqttStore> mqtt_;
  std::unique_ptr<PostgresTargetStore> targets_;
  std::unique_ptr<OpenDataStore> open_data_;
  std::unique_ptr<DashboardStore> dashboards_;
  std::unique_ptr<ContactStore> contacts_;
  std::unique_ptr<GatewayStore> gateways_;
  std::unique_ptr<CoapCredentialStore> coap_credentials_;
  std::unique_ptr<Lwm2mStore> lwm2m_;
  std::unique_ptr<SubjectErasureStore> subject_erasures_;
  std::unique_ptr<LeaseStore> leases_;
  std::unique_ptr<RuleFeed> rule_feed_;
  std::unique_ptr<pg::DeviceEraser> eraser_;
  std::unique_ptr<pg::PgLiveRelay> live_;  // the series writer holds a pointer: Close stops it
  std::atomic<uint64_t> devices_generation_{0};
  std::unique_ptr<pg::ChangeFeed> feed_;  // stopped first (Close): it calls into the stores
};

}  // namespace

Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresStoreOptions& options,
                                                 const std::string& secret_key_path) {
  if (!options.clock) return InvalidArgument("PostgresStoreOptions.clock is required");
  BYSANS_ASSIGN_OR_RETURN(std::unique_ptr<SecretBox> secrets, SecretBox::Open(secret_key_path));
  PostgresStoreOptions o = options;
  if (o.node_id.empty()) o.node_id = pg::RandomNodeId();  // one name for the pool and the writer
  // Opening the series store applies the migrations (every area's) under their advisory lock.
  BYSANS_ASSIGN_OR_RETURN(std::unique_ptr<PostgresSeriesStore> series,
                          PostgresSeriesStore::Open(o));
  return std::unique_ptr<Store>(
      std::make_unique<PostgresStore>(o, std::move(series), std::move(secrets)));
}

}  // namespace bysans
