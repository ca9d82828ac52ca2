// PostgresMqttStore: credentials, LoRaWAN gateways, unknown devices and routes here; integrations
// and downlinks in pg_mqtt_integrations.cc and pg_downlinks.cc; the batched LoRaWAN writes in
// pg_lorawan_pending.cc; the process-local state in mqtt_local_state.cc.
#include "store/postgres/pg_mqtt_store.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "store/postgres/change_feed.h"
#include "store/postgres/mqtt_local_state.h"
#include "store/postgres/pg_lorawan_pending.h"
#include "store/postgres/pg_mqtt_parts.h"
#include "store/postgres/pool.h"

namespace bysans {
namespace {

using pg::Pool;

constexpr const char* kUnknownColumns =
    "u.dev_eui, u.application_id, u.first_seen_ms, u.last_seen_ms, u.uplinks";

UnknownLorawanDevice UnknownFromRow(const pqxx::row& r) {
  UnknownLorawanDevice u{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<int64_t>(),
                         r[3].as<int64_t>(), r[4].as<int64_t>()};
  if (r.size() > 5) u.integration_id = r[5].as<int64_t>();
  return u;
}

class PgMqttStore final : public PostgresMqttStore {
 public:
  PgMqttStore(Pool& pool, const SecretBox& box, PostgresMqttOptions o)
      : pool_(pool), box_(box), options_(o) {
    if (options_.flush_interval_ms > 0) flusher_ = std::thread([this] { FlushLoop(); });
  }

  ~PgMqttStore() override {
    if (flusher_.joinable()) {
      {
        std::lock_guard lk(stop_mu_);
        stop_ = true;
      }
      stop_cv_.notify_all();
      flusher_.join();
    }
    Status st = FlushPending();
    if (!st.ok())
      spdlog::warn("postgres: LoRaWAN gateways and routes lost at close: {}", st.message());
  }

  Status PutCredential(const MqttCredential& c) override {
    // A username another device has: kAlreadyExists (SQLite's INSERT OR REPLACE would drop the
    // other device's credentials instead).
    Status st = pool_.Run<Status>("put credential", [&](pqxx::connection& conn) {
      pqxx::work tx(conn);
      tx.exec_params(
          "INSERT INTO mqtt_credentials (device_id, username, password_hash, created_ms) "
          "VALUES ($1, $2, $3, $4) ON CONFLICT (device_id) DO UPDATE SET username = "
          "excluded.username, password_hash = excluded.password_hash, created_ms = "
          "excluded.created_ms",
          c.device_id, c.username, c.password_hash, c.created_ms);
      pg::NotifyChange(tx, pool_, pg::change::kMqttCredentials, c.device_id);
      tx.commit();
      return Status::Ok();
    });
    if (st.ok()) local_.BumpCredentials();
    return st;
  }

  Status DeleteCredential(Id device_id) override {
    Status st = pool_.Run<Status>("delete credential", [&](pqxx::connection& conn) {
      pqxx::work tx(conn);
      tx.exec_params("DELETE FROM mqtt_credentials WHERE device_id = $1", device_id);
      pg::NotifyChange(tx, pool_, pg::change::kMqttCredentials, device_id);
      tx.commit();
      return Status::Ok();
    });
    if (st.ok()) local_.BumpCredentials();
    return st;
  }

  Result<std::vector<MqttCredential>> ListCredentials() override {
    using R = Result<std::vector<MqttCredential>>;
    return pool_.Run<R>("list credentials", [&](pqxx::connection& conn) {
      pqxx::nontransaction tx(conn);
      auto r = tx.exec(
          "SELECT c.device_id, c.username, c.password_hash, c.created_ms FROM mqtt_credentials c "
          "JOIN devices d ON d.id = c.device_id ORDER BY c.device_id");
      std::vector<MqttCredential> out;
      out.reserve(r.size());
      for (const auto& row : r)
        out.push_back(MqttCredential{row[0].as<int64_t>(), row[1].as<std::string>(),
                                     row[2].as<std::string>(), row[3].as<int64_t>()});
      return R(std::move(out));
    });
  }

  int64_t credentials_generation() const override { return local_.credentials_generation(); }
  // Broker users kept elsewhere (SensorThings API keys) changed: other nodes' brokers reload too.
  int64_t BumpCredentialsGeneration() override {
    const int64_t g = local_.BumpCredentials();
    (void)pg::NotifyChangeNow(pool_, pg::change::kMqttCredentials, 0);  // logged when it fails
    return g;
  }
  void BumpCredentialsLocal() override { local_.BumpCredentials(); }
  void BumpIntegrationsLocal() override { local_.BumpIntegrations(); }
  void SetCredentialsApplied(int64_t generation) override {
    local_.SetCredentialsApplied(generation);
  }
  bool WaitCredentialsApplied(int64_t generation, int timeout_ms) override {
    return local_.WaitCredentialsApplied(generation, timeout_ms);
  }
  void SetBrokerEndpoint(std::string host, int port) override {
    local_.SetBrokerEndpoint(std::move(host), port);
  }
  std::pair<std::string, int> broker_endpoint() const override { return local_.broker_endpoint(); }

  Status TouchGateway(Id org_id, const std::string& gateway_id, TimeMs now,
                      UplinkSource source) override {
    pending_.Touch(org_id, gateway_id, now, source);
    return Status::Ok();
  }
  Status TouchGateway(Id org_id, const std::string& gateway_id, TimeMs now, UplinkSource source,
                      Id device_id, std::optional<double> rssi,
                      std::optional<double> snr) override {
    pending_.Touch(org_id, gateway_id, now, source, device_id, rssi, snr);
    return Status::Ok();
  }

  Status FlushPending() override { return pending_.Flush(pool_); }

  Result<std::vector<LorawanGateway>> ListGateways(Id org_id) override {
    BYSANS_RETURN_IF_ERROR(FlushPending());  // lists every touch so far
    using R = Result<std::vector<LorawanGateway>>;
    return pool_.Run<R>("list gateways", [&](pqxx::connection& conn) {
      pqxx::nontransaction tx(conn);
      auto r = tx.exec_params(
          "SELECT org_id, gateway_id, first_seen_ms, last_seen_ms, uplinks, seen_locally FROM "
          "lorawan_gateways WHERE org_id = $1 ORDER BY gateway_id",
          org_id);
      std::vector<LorawanGateway> out;
      out.reserve(r.size());
      for (const auto& row : r)
        out.push_back(LorawanGateway{row[0].as<int64_t>(), row[1].as<std::string>(),
                                     row[2].as<int64_t>(), row[3].as<int64_t>(),
                                     row[4].as<int64_t>(), row[5].as<bool>()});
      return R(std::move(out));
    });
  }

  Status CountUnknownDevice(const std::string& dev_eui, const std::string& application_id,
                            TimeMs now) override {
    return pool_.Run<Status>("count unknown device", [&](pqxx::connection& conn) {
      pqxx::nontransaction tx(conn);
      tx.exec_params(
          "INSERT INTO lorawan_unknown_devices AS u (dev_eui, application_id, first_seen_ms, "
          "last_seen_ms, uplinks) VALUES ($1, $2, $3, $3, 1) ON CONFLICT (dev_eui) DO UPDATE SET "
          "application_id = excluded.application_id, last_seen_ms = excluded.last_seen_ms, "
          "uplinks = u.uplinks + 1",
          dev_eui, application_id, now);
      return Status::Ok();
    });
  }

  Result<std::vector<UnknownLorawanDevice>> ListUnknownDevices() override {
    // A DevEUI registered since is no longer unknown.
    return ListUnknown("list unknown devices",
                       std::string("SELECT ") + kUnknownColumns +
                           " FROM lorawan_unknown_devices u WHERE NOT EXISTS (SELECT 1 FROM "
                           "devices d WHERE d.dev_eui = u.dev_eui) ORDER BY u.last_seen_ms DESC "
                           "LIMIT 1000",
                       std::nullopt);
  }

  Status CountUnknownOrgDevice(Id org_id, Id integration_id, const std::string& dev_eui,
                               const std::string& application_id, TimeMs now) override {
    return pool_.Run<Status>("count unknown device", [&](pqxx::connection& conn) {
      pqxx::nontransaction tx(conn);
      tx.exec_params(
          "INSERT INTO lorawan_unknown_org_devices AS u (org_id, dev_eui, integration_id, "
          "application_id, first_seen_ms, last_seen_ms, uplinks) VALUES ($1, $2, $3, $4, $5, "
          "$5, 1) ON CONFLICT (org_id, dev_eui) DO UPDATE SET integration_id = "
          "excluded.integration_id, application_id = excluded.application_id, last_seen_ms = "
          "excluded.last_seen_ms, uplinks = u.uplinks + 1",
          org_id, dev_eui, integration_id, application_id, now);
      return Status::Ok();
    });
  }

  Result<std::vector<UnknownLorawanDevice>> ListUnknownOrgDevices(Id org_id) override {
    // A DevEUI registered in the organisation since is no longer unknown to it.
    return ListUnknown("list unknown devices",
                       std::string("SELECT ") + kUnknownColumns +
                           ", u.integration_id FROM lorawan_unknown_org_devices u WHERE u.org_id "
                           "= $1 AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.dev_eui = "
                           "u.dev_eui AND d.org_id = u.org_id) ORDER BY u.last_seen_ms DESC "
                           "LIMIT 1000",
                       org_id);
  }

  Status SetLorawanApplication(Id device_id, const std::string& application_id) override {
    return SetLorawanRoute(device_id, application_id, 0);
  }

  Status SetLorawanRoute(Id device_id, const std::string& application_id,
                         Id integration_id) override {
    pending_.SetRoute(device_id, pg::PendingRoute{application_id, integration_id});
    return Status::Ok();
  }

  Result<std::string> LorawanApplication(Id device_id) override {
    if (auto pending = pending_.FindRoute(device_id)) return pending->application_id;
    using R = Result<std::string>;
    return pool_.Run<R>("read LoRaWAN route", [&](pqxx::connection& conn) {
      pqxx::nontransaction tx(conn);
      auto r = tx.exec_params("SELECT application_id FROM lorawan_device_apps WHERE device_id = $1",
                              device_id);
      if (r.empty())
        return R(NotFound("no ChirpStack application id known for device " +
                          std::to_string(device_id) + " (none seen in an uplink yet)"));
      return R(r[0][0].as<std::string>());
    });
  }

  Result<Id> LorawanIntegration(Id device_id) override {
    if (auto pending = pending_.FindRoute(device_id)) return pending->integration_id;
    return pool_.Run<Result<Id>>("read LoRaWAN route", [&](pqxx::connection& conn) {
      pqxx::nontransaction tx(conn);
      auto r = tx.exec_params("SELECT integration_id FROM lorawan_device_apps WHERE device_id = $1",
                              device_id);
      return Result<Id>(r.empty() ? Id{0} : r[0][0].as<int64_t>());
    });
  }

  Result<MqttIntegration> CreateIntegration(MqttIntegration i,
                                            const std::optional<std::string>& password) override {
    auto r = pg::CreateIntegration(pool_, box_, std::move(i), password);
    if (r.ok()) local_.BumpIntegrations();
    return r;
  }
  Result<MqttIntegration> GetIntegration(Id id) override { return pg::GetIntegration(pool_, id); }
  Result<std::vector<MqttIntegration>> ListIntegrations(const std::string& kind, Id org_id,
                                                        Id app_id) override {
    return pg::ListIntegrations(pool_, kind, org_id, app_id);
  }
  Status UpdateIntegration(const MqttIntegration& i,
                           const std::optional<std::string>& password) override {
    return Bumped(pg::UpdateIntegration(pool_, box_, i, password));
  }
  Status DeleteIntegration(Id id) override {
    Status st = Bumped(pg::DeleteIntegration(pool_, id));
    if (st.ok()) local_.ForgetIntegration(id);
    return st;
  }
  Result<std::string> IntegrationPassword(Id id) override {
    return pg::IntegrationSecretOf(pool_, box_, id, pg::IntegrationSecret::kPassword);
  }
  Status SetIntegrationClientKey(Id id, const std::string& key_pem) override {
    return Bumped(
        pg::SetIntegrationSecret(pool_, box_, id, pg::IntegrationSecret::kClientKey, key_pem));
  }
  Result<std::string> IntegrationClientKey(Id id) override {
    return pg::IntegrationSecretOf(pool_, box_, id, pg::IntegrationSecret::kClientKey);
  }
  int64_t integrations_generation() const override { return local_.integrations_generation(); }
  void SetIntegrationState(Id id, IntegrationState state) override {
    local_.SetIntegrationState(id, std::move(state));
  }
  IntegrationState integration_state(Id id) const override { return local_.integration_state(id); }

  Result<Downlink> AppendDownlink(Downlink d) override {
    return pg::AppendDownlink(pool_, std::move(d));
  }
  Status SetDownlinkStatus(Id id, const std::string& status, const std::string& error) override {
    return pg::SetDownlinkStatus(pool_, id, status, error);
  }
  Result<std::vector<Downlink>> ListDownlinks(Id device_id, int64_t limit) override {
    return pg::ListDownlinks(pool_, device_id, limit);
  }
  Result<TakenDownlink> TakeQueuedDownlink(Id device_id, const std::string& topic) override {
    return pg::TakeQueuedDownlink(pool_, device_id, topic);
  }
  Result<std::vector<Id>> DevicesWithQueuedDownlinks(const std::string& topic,
                                                     size_t limit) override {
    return pg::DevicesWithQueuedDownlinks(pool_, topic, limit);
  }

 private:
  Status Bumped(Status st) {
    if (st.ok()) local_.BumpIntegrations();
    return st;
  }

  // `sql` selects kUnknownColumns (and the integration id); `$1` is the organisation, if any.
  Result<std::vector<UnknownLorawanDevice>> ListUnknown(const char* what, const std::string& sql,
                                                        std::optional<Id> org_id) {
    using R = Result<std::vector<UnknownLorawanDevice>>;
    return pool_.Run<R>(what, [&](pqxx::connection& conn) {
      pqxx::nontransaction tx(conn);
      auto r = org_id ? tx.exec_params(sql, *org_id) : tx.exec(sql);
      std::vector<UnknownLorawanDevice> out;
      out.reserve(r.size());
      for (const auto& row : r) out.push_back(UnknownFromRow(row));
      return R(std::move(out));
    });
  }

  void FlushLoop() {
    std::unique_lock lk(stop_mu_);
    while (!stop_cv_.wait_for(lk, std::chrono::milliseconds(options_.flush_interval_ms),
                              [this] { return stop_; })) {
      lk.unlock();
      Status st = FlushPending();
      if (!st.ok()) spdlog::warn("postgres: LoRaWAN gateways and routes: {}", st.message());
      lk.lock();
    }
  }

  Pool& pool_;
  const SecretBox& box_;
  const PostgresMqttOptions options_;
  pg::MqttLocalState local_;
  pg::PendingLorawanWrites pending_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;  // guarded by stop_mu_
  std::thread flusher_;
};

}  // namespace

std::unique_ptr<PostgresMqttStore> NewPostgresMqttStore(pg::Pool& pool, const SecretBox& box,
                                                        PostgresMqttOptions options) {
  return std::make_unique<PgMqttStore>(pool, box, options);
}

}  // namespace bysans
