// MqttStore on SQLite (tables from the "mqtt + lorawan" and "mqtt integrations" migrations).
// Integration passwords and client keys are sealed with the store's SecretBox
// (core/secret_box.h: secret.key next to the database).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

#include "store/sqlite/gateway_touches.h"
#include "store/sqlite/lorawan_routes.h"
#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {
namespace {

constexpr const char* kIntegrationColumns =
    "id, kind, org_id, coalesce(app_id, 0), name, url, username, password_box IS NOT NULL, "
    "client_id, enabled, topic_filter, device_topic_level, device_match, created_ms, updated_ms, "
    "ca_cert, client_cert, client_key_box IS NOT NULL";

MqttIntegration IntegrationFromRow(const Stmt& st) {
  MqttIntegration i;
  i.id = st.Int(0);
  i.kind = st.Text(1);
  i.org_id = st.Int(2);
  i.app_id = st.Int(3);
  i.name = st.Text(4);
  i.url = st.Text(5);
  i.username = st.Text(6);
  i.has_password = st.Int(7) != 0;
  i.client_id = st.Text(8);
  i.enabled = st.Int(9) != 0;
  i.topic_filter = st.Text(10);
  i.device_topic_level = static_cast<int>(st.Int(11));
  i.device_match = st.Text(12);
  i.created_ms = st.Int(13);
  i.updated_ms = st.Int(14);
  i.ca_cert = st.Text(15);
  i.client_cert = st.Text(16);
  i.has_client_key = st.Int(17) != 0;
  return i;
}

class SqliteMqttStore final : public BatchingMqttStore {
 public:
  SqliteMqttStore(Pool& pool, const SecretBox& box) : pool_(pool), box_(box) {}

  Status PutCredential(const MqttCredential& c) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("INSERT OR REPLACE INTO mqtt_credentials(device_id, username, "
                             "password_hash, created_ms) VALUES(?, ?, ?, ?)"));
    st->Bind(1, c.device_id).Bind(2, c.username).Bind(3, c.password_hash).Bind(4, c.created_ms);
    BYSANS_RETURN_IF_ERROR(st->Run());
    generation_.fetch_add(1);
    return Status::Ok();
  }

  Status DeleteCredential(Id device_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare("DELETE FROM mqtt_credentials WHERE device_id=?"));
    st->Bind(1, device_id);
    BYSANS_RETURN_IF_ERROR(st->Run());
    generation_.fetch_add(1);
    return Status::Ok();
  }

  Result<std::vector<MqttCredential>> ListCredentials() override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("SELECT c.device_id, c.username, c.password_hash, c.created_ms "
                             "FROM mqtt_credentials c JOIN devices d ON d.id = c.device_id "
                             "ORDER BY c.device_id"));
    std::vector<MqttCredential> out;
    while (st->Step()) {
      out.push_back(MqttCredential{st->Int(0), st->Text(1), st->Text(2), st->Int(3)});
    }
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

  int64_t credentials_generation() const override { return generation_.load(); }
  int64_t BumpCredentialsGeneration() override { return generation_.fetch_add(1) + 1; }

  void SetCredentialsApplied(int64_t generation) override {
    {
      std::lock_guard lock(mu_);
      applied_ = std::max(applied_, generation);
    }
    applied_cv_.notify_all();
  }

  bool WaitCredentialsApplied(int64_t generation, int timeout_ms) override {
    std::unique_lock lock(mu_);
    return applied_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                [&] { return applied_ < 0 || applied_ >= generation; });
  }

  void SetBrokerEndpoint(std::string host, int port) override {
    std::lock_guard lock(mu_);
    endpoint_ = {std::move(host), port};
  }
  std::pair<std::string, int> broker_endpoint() const override {
    std::lock_guard lock(mu_);
    return endpoint_;
  }

  Status TouchGateway(Id org_id, const std::string& gateway_id, TimeMs now,
                      UplinkSource source) override {
    gateways_.Add(org_id, gateway_id, now, source);
    return Status::Ok();
  }
  Status TouchGateway(Id org_id, const std::string& gateway_id, TimeMs now, UplinkSource source,
                      Id device_id, std::optional<double> rssi,
                      std::optional<double> snr) override {
    gateways_.Add(org_id, gateway_id, now, source, device_id, rssi, snr);
    return Status::Ok();
  }

  Status FlushPending() override {
    if (gateways_.empty() && routes_.empty()) return Status::Ok();
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Status gateways = gateways_.Flush(*db);
    Status routes = routes_.Flush(*db);
    return gateways.ok() ? routes : gateways;
  }

  Result<std::vector<LorawanGateway>> ListGateways(Id org_id) override {
    BYSANS_RETURN_IF_ERROR(FlushPending());  // lists every touch so far
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("SELECT org_id, gateway_id, first_seen_ms, last_seen_ms, uplinks, "
                             "seen_locally FROM lorawan_gateways WHERE org_id = ? "
                             "ORDER BY gateway_id"));
    st->Bind(1, org_id);
    std::vector<LorawanGateway> out;
    while (st->Step()) {
      out.push_back(LorawanGateway{st->Int(0), st->Text(1), st->Int(2), st->Int(3), st->Int(4),
                                   st->Int(5) != 0});
    }
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

  Status CountUnknownDevice(const std::string& dev_eui, const std::string& application_id,
                            TimeMs now) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("INSERT INTO lorawan_unknown_devices(dev_eui, application_id, "
                             "first_seen_ms, last_seen_ms, uplinks) VALUES(?, ?, ?, ?, 1) "
                             "ON CONFLICT(dev_eui) DO UPDATE SET application_id = "
                             "excluded.application_id, last_seen_ms = excluded.last_seen_ms, "
                             "uplinks = uplinks + 1"));
    st->Bind(1, dev_eui).Bind(2, application_id).Bind(3, now).Bind(4, now);
    return st->Run();
  }

  Result<std::vector<UnknownLorawanDevice>> ListUnknownDevices() override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    // A DevEUI that has since been registered is no longer unknown.
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("SELECT u.dev_eui, u.application_id, u.first_seen_ms, "
                             "u.last_seen_ms, u.uplinks FROM lorawan_unknown_devices u "
                             "WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.dev_eui = "
                             "u.dev_eui) ORDER BY u.last_seen_ms DESC LIMIT 1000"));
    std::vector<UnknownLorawanDevice> out;
    while (st->Step()) {
      out.push_back(
          UnknownLorawanDevice{st->Text(0), st->Text(1), st->Int(2), st->Int(3), st->Int(4)});
    }
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

  Status SetLorawanApplication(Id device_id, const std::string& application_id) override {
    return SetLorawanRoute(device_id, application_id, 0);
  }

  Result<std::string> LorawanApplication(Id device_id) override {
    if (auto pending = routes_.Find(device_id)) return pending->application_id;
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("SELECT application_id FROM lorawan_device_apps WHERE device_id=?"));
    st->Bind(1, device_id);
    if (st->Step()) return st->Text(0);
    BYSANS_RETURN_IF_ERROR(st->status());
    return NotFound("no ChirpStack application id known for device " + std::to_string(device_id) +
                    " (none seen in an uplink yet)");
  }

  Result<MqttIntegration> CreateIntegration(MqttIntegration i,
                                            const std::optional<std::string>& password) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st,
        db->Prepare(
            "INSERT INTO mqtt_integrations(kind, org_id, app_id, name, url, "
            "username, password_box, client_id, enabled, topic_filter, "
            "device_topic_level, device_match, created_ms, updated_ms, "
            "ca_cert, client_cert) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    st->Bind(1, i.kind).Bind(2, i.org_id);
    if (i.app_id != 0) {
      st->Bind(3, i.app_id);
    } else {
      st->BindNull(3);
    }
    st->Bind(4, i.name).Bind(5, i.url).Bind(6, i.username);
    std::string box;
    if (password && !password->empty()) {
      BYSANS_ASSIGN_OR_RETURN(box, Seal(*password));
      st->BindBlob(7, box.data(), box.size());
    } else {
      st->BindNull(7);
    }
    st->Bind(8, i.client_id)
        .Bind(9, i.enabled)
        .Bind(10, i.topic_filter)
        .Bind(11, static_cast<int64_t>(i.device_topic_level))
        .Bind(12, i.device_match)
        .Bind(13, i.created_ms)
        .Bind(14, i.updated_ms)
        .Bind(15, i.ca_cert)
        .Bind(16, i.client_cert);
    BYSANS_RETURN_IF_ERROR(st->Run());
    i.id = db->LastInsertId();
    i.has_client_key = false;  // set by SetIntegrationClientKey
    i.has_password = !box.empty();
    if (i.client_id.empty()) {
      i.client_id = "bysans-" + i.kind + "-" + std::to_string(i.id);
      BYSANS_ASSIGN_OR_RETURN(auto up,
                              db->Prepare("UPDATE mqtt_integrations SET client_id=? WHERE id=?"));
      up->Bind(1, i.client_id).Bind(2, i.id);
      BYSANS_RETURN_IF_ERROR(up->Run());
    }
    integrations_gen_.fetch_add(1);
    return i;
  }

  Result<MqttIntegration> GetIntegration(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare(std::string("SELECT ") + kIntegrationColumns +
                                                 " FROM mqtt_integrations WHERE id=?"));
    st->Bind(1, id);
    if (st->Step()) return IntegrationFromRow(*st);
    BYSANS_RETURN_IF_ERROR(st->status());
    return NotFound("no integration with id " + std::to_string(id));
  }

  Result<std::vector<MqttIntegration>> ListIntegrations(const std::string& kind, Id org_id,
                                                        Id app_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare(std::string("SELECT ") + kIntegrationColumns +
                             " FROM mqtt_integrations WHERE (?1 = '' OR kind = ?1) AND "
                             "(?2 = 0 OR org_id = ?2) AND (?3 = 0 OR app_id = ?3) ORDER BY id"));
    st->Bind(1, kind).Bind(2, org_id).Bind(3, app_id);
    std::vector<MqttIntegration> out;
    while (st->Step()) out.push_back(IntegrationFromRow(*st));
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

  Status UpdateIntegration(const MqttIntegration& i,
                           const std::optional<std::string>& password) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("UPDATE mqtt_integrations SET name=?, url=?, username=?, "
                             "client_id=?, enabled=?, topic_filter=?, device_topic_level=?, "
                             "device_match=?, updated_ms=?, ca_cert=?, client_cert=? WHERE id=?"));
    st->Bind(1, i.name)
        .Bind(2, i.url)
        .Bind(3, i.username)
        .Bind(4, i.client_id)
        .Bind(5, i.enabled)
        .Bind(6, i.topic_filter)
        .Bind(7, static_cast<int64_t>(i.device_topic_level))
        .Bind(8, i.device_match)
        .Bind(9, i.updated_ms)
        .Bind(10, i.ca_cert)
        .Bind(11, i.client_cert)
        .Bind(12, i.id);
    BYSANS_RETURN_IF_ERROR(st->Run());
    if (db->Changes() == 0) return NotFound("no integration with id " + std::to_string(i.id));
    if (password) BYSANS_RETURN_IF_ERROR(SetBox(*db, i.id, "password_box", *password));
    integrations_gen_.fetch_add(1);
    return Status::Ok();
  }

  Status SetIntegrationClientKey(Id id, const std::string& key_pem) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_RETURN_IF_ERROR(SetBox(*db, id, "client_key_box", key_pem));
    if (db->Changes() == 0) return NotFound("no integration with id " + std::to_string(id));
    integrations_gen_.fetch_add(1);
    return Status::Ok();
  }

  Result<std::string> IntegrationClientKey(Id id) override { return GetBox(id, "client_key_box"); }

  Status DeleteIntegration(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare("DELETE FROM mqtt_integrations WHERE id=?"));
    st->Bind(1, id);
    BYSANS_RETURN_IF_ERROR(st->Run());
    if (db->Changes() == 0) return NotFound("no integration with id " + std::to_string(id));
    integrations_gen_.fetch_add(1);
    {
      std::lock_guard lock(mu_);
      states_.erase(id);
    }
    return Status::Ok();
  }

  Result<std::string> IntegrationPassword(Id id) override { return GetBox(id, "password_box"); }

  int64_t integrations_generation() const override { return integrations_gen_.load(); }

  void SetIntegrationState(Id id, IntegrationState state) override {
    std::lock_guard lock(mu_);
    states_[id] = std::move(state);
  }

  IntegrationState integration_state(Id id) const override {
    std::lock_guard lock(mu_);
    auto it = states_.find(id);
    return it == states_.end() ? IntegrationState{} : it->second;
  }

  Status CountUnknownOrgDevice(Id org_id, Id integration_id, const std::string& dev_eui,
                               const std::string& application_id, TimeMs now) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st,
        db->Prepare("INSERT INTO lorawan_unknown_org_devices(org_id, dev_eui, integration_id, "
                    "application_id, first_seen_ms, last_seen_ms, uplinks) "
                    "VALUES(?, ?, ?, ?, ?, ?, 1) ON CONFLICT(org_id, dev_eui) DO UPDATE SET "
                    "integration_id = excluded.integration_id, application_id = "
                    "excluded.application_id, last_seen_ms = excluded.last_seen_ms, "
                    "uplinks = uplinks + 1"));
    st->Bind(1, org_id)
        .Bind(2, dev_eui)
        .Bind(3, integration_id)
        .Bind(4, application_id)
        .Bind(5, now)
        .Bind(6, now);
    return st->Run();
  }

  Result<std::vector<UnknownLorawanDevice>> ListUnknownOrgDevices(Id org_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    // A DevEUI since registered in the organisation is no longer unknown to it.
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("SELECT u.dev_eui, u.application_id, u.first_seen_ms, u.last_seen_ms, "
                             "u.uplinks, u.integration_id FROM lorawan_unknown_org_devices u "
                             "WHERE u.org_id = ? AND NOT EXISTS (SELECT 1 FROM devices d WHERE "
                             "d.dev_eui = u.dev_eui AND d.org_id = u.org_id) "
                             "ORDER BY u.last_seen_ms DESC LIMIT 1000"));
    st->Bind(1, org_id);
    std::vector<UnknownLorawanDevice> out;
    while (st->Step()) {
      out.push_back(UnknownLorawanDevice{st->Text(0), st->Text(1), st->Int(2), st->Int(3),
                                         st->Int(4), st->Int(5)});
    }
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

  Status SetLorawanRoute(Id device_id, const std::string& application_id,
                         Id integration_id) override {
    routes_.Set(device_id, LorawanRoute{application_id, integration_id});
    return Status::Ok();
  }

  Result<Id> LorawanIntegration(Id device_id) override {
    if (auto pending = routes_.Find(device_id)) return pending->integration_id;
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("SELECT integration_id FROM lorawan_device_apps WHERE device_id=?"));
    st->Bind(1, device_id);
    if (st->Step()) return st->Int(0);
    BYSANS_RETURN_IF_ERROR(st->status());
    return Id{0};
  }

  Result<Downlink> AppendDownlink(Downlink d) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st,
                            db->Prepare("INSERT INTO downlinks(device_id, created_ms, fport, data, "
                                        "confirmed, topic, status, error, object) "
                                        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    st->Bind(1, d.device_id)
        .Bind(2, d.created_ms)
        .Bind(3, d.fport)
        .BindBlob(4, d.data.data(), d.data.size())
        .Bind(5, d.confirmed)
        .Bind(6, d.topic)
        .Bind(7, d.status)
        .Bind(8, d.error)
        .Bind(9, d.object_json);
    BYSANS_RETURN_IF_ERROR(st->Run());
    d.id = db->LastInsertId();
    return d;
  }

  Status SetDownlinkStatus(Id id, const std::string& status, const std::string& error) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st,
                            db->Prepare("UPDATE downlinks SET status=?, error=? WHERE id=?"));
    st->Bind(1, status).Bind(2, error).Bind(3, id);
    return st->Run();
  }

  Result<std::vector<Downlink>> ListDownlinks(Id device_id, int64_t limit) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("SELECT id, device_id, created_ms, fport, data, confirmed, topic, "
                             "status, error, object FROM downlinks WHERE device_id=? ORDER BY "
                             "id DESC "
                             "LIMIT ?"));
    st->Bind(1, device_id).Bind(2, limit);
    std::vector<Downlink> out;
    while (st->Step()) {
      Downlink d;
      d.id = st->Int(0);
      d.device_id = st->Int(1);
      d.created_ms = st->Int(2);
      d.fport = static_cast<int>(st->Int(3));
      d.data = std::string(st->Blob(4));
      d.confirmed = st->Int(5) != 0;
      d.topic = st->Text(6);
      d.status = st->Text(7);
      d.error = st->Text(8);
      d.object_json = st->Text(9);
      out.push_back(std::move(d));
    }
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

  Result<TakenDownlink> TakeQueuedDownlink(Id device_id, const std::string& topic) override {
    TakenDownlink out;
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    std::vector<Id> ids;
    {
      BYSANS_ASSIGN_OR_RETURN(
          auto st, db->Prepare("SELECT id FROM downlinks WHERE device_id=? AND topic=? AND "
                               "status='queued' ORDER BY id LIMIT 1001"));
      st->Bind(1, device_id).Bind(2, topic);
      while (st->Step()) ids.push_back(st->Int(0));
      BYSANS_RETURN_IF_ERROR(st->status());
    }
    if (ids.empty()) return out;
    BYSANS_ASSIGN_OR_RETURN(
        auto up, db->Prepare("UPDATE downlinks SET status='sent', error='' WHERE id=? AND "
                             "status='queued' RETURNING id, device_id, created_ms, fport, data, "
                             "confirmed, topic, status, error, object"));
    up->Bind(1, ids.front());
    if (up->Step()) {
      Downlink d;
      d.id = up->Int(0);
      d.device_id = up->Int(1);
      d.created_ms = up->Int(2);
      d.fport = static_cast<int>(up->Int(3));
      d.data = std::string(up->Blob(4));
      d.confirmed = up->Int(5) != 0;
      d.topic = up->Text(6);
      d.status = up->Text(7);
      d.error = up->Text(8);
      d.object_json = up->Text(9);
      out.downlink = std::move(d);
      while (up->Step()) {
      }  // runs the statement to its end (the autocommit transaction commits)
    }
    BYSANS_RETURN_IF_ERROR(up->status());
    out.still_queued = static_cast<int64_t>(ids.size()) - 1;
    return out;
  }

  Result<std::vector<Id>> DevicesWithQueuedDownlinks(const std::string& topic,
                                                     size_t limit) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    // The partial index downlinks_queued (device_id, topic, id) WHERE status='queued' covers it.
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare("SELECT DISTINCT device_id FROM downlinks WHERE "
                                                 "status='queued' AND topic=? LIMIT ?"));
    st->Bind(1, topic).Bind(2, static_cast<int64_t>(limit));
    std::vector<Id> out;
    while (st->Step()) out.push_back(st->Int(0));
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

 private:
  // A sealed secret column of mqtt_integrations ("password_box", "client_key_box"): "" = NULL.
  Status SetBox(Db& db, Id id, const std::string& column, const std::string& plain) {
    BYSANS_ASSIGN_OR_RETURN(auto st,
                            db.Prepare("UPDATE mqtt_integrations SET " + column + "=? WHERE id=?"));
    std::string box;
    if (plain.empty()) {
      st->BindNull(1);
    } else {
      BYSANS_ASSIGN_OR_RETURN(box, Seal(plain));
      st->BindBlob(1, box.data(), box.size());
    }
    st->Bind(2, id);
    return st->Run();
  }

  // The opened secret of `column` ("" when NULL).
  Result<std::string> GetBox(Id id, const std::string& column) {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st,
                            db->Prepare("SELECT " + column + " FROM mqtt_integrations WHERE id=?"));
    st->Bind(1, id);
    if (!st->Step()) {
      BYSANS_RETURN_IF_ERROR(st->status());
      return NotFound("no integration with id " + std::to_string(id));
    }
    if (st->IsNull(0)) return std::string();
    return Open(st->Blob(0), id);
  }

  Result<std::string> Seal(const std::string& plain) const { return box_.Seal(plain); }

  Result<std::string> Open(std::string_view box, Id id) const {
    auto plain = box_.Unseal(box);
    if (!plain.ok())
      return Internal("the password of integration " + std::to_string(id) +
                      " cannot be decrypted (was secret.key replaced?); set it again");
    return plain;
  }

  Pool& pool_;
  const SecretBox& box_;
  GatewayTouches gateways_;      // gateways seen, not yet written (gateway_touches.h)
  PendingLorawanRoutes routes_;  // routes set, not yet written (lorawan_routes.h)
  std::atomic<int64_t> integrations_gen_{0};
  std::map<Id, IntegrationState> states_;  // guarded by mu_
  std::atomic<int64_t> generation_{0};
  mutable std::mutex mu_;
  std::condition_variable applied_cv_;
  int64_t applied_ = -1;  // guarded by mu_; -1: no supervised broker reports
  std::pair<std::string, int> endpoint_{"127.0.0.1", 0};
};

}  // namespace

std::unique_ptr<BatchingMqttStore> NewSqliteMqttStore(Pool& pool, const SecretBox& box) {
  return std::make_unique<SqliteMqttStore>(pool, box);
}

MqttStore& SqliteStore::mqtt() { return *mqtt_store_; }

}  // namespace bysans::sqlite
