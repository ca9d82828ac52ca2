// MqttStore on SQLite (tables from the "mqtt + lorawan" migration).
#include <atomic>
#include <mutex>

#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {
namespace {

class SqliteMqttStore final : public MqttStore {
 public:
  explicit SqliteMqttStore(Pool& pool) : pool_(pool) {}

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

  void SetBrokerEndpoint(std::string host, int port) override {
    std::lock_guard lock(mu_);
    endpoint_ = {std::move(host), port};
  }
  std::pair<std::string, int> broker_endpoint() const override {
    std::lock_guard lock(mu_);
    return endpoint_;
  }

  Status TouchGateway(Id org_id, const std::string& gateway_id, TimeMs now) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st,
        db->Prepare(
            "INSERT INTO lorawan_gateways(org_id, gateway_id, first_seen_ms, "
            "last_seen_ms, uplinks) VALUES(?, ?, ?, ?, 1) "
            "ON CONFLICT(org_id, gateway_id) DO UPDATE SET "
            "last_seen_ms = max(last_seen_ms, excluded.last_seen_ms), uplinks = uplinks + 1"));
    st->Bind(1, org_id).Bind(2, gateway_id).Bind(3, now).Bind(4, now);
    return st->Run();
  }

  Result<std::vector<LorawanGateway>> ListGateways(Id org_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("SELECT org_id, gateway_id, first_seen_ms, last_seen_ms, uplinks "
                             "FROM lorawan_gateways WHERE org_id = ? ORDER BY gateway_id"));
    st->Bind(1, org_id);
    std::vector<LorawanGateway> out;
    while (st->Step()) {
      out.push_back(LorawanGateway{st->Int(0), st->Text(1), st->Int(2), st->Int(3), st->Int(4)});
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
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare("INSERT OR REPLACE INTO lorawan_device_apps("
                                                 "device_id, application_id) VALUES(?, ?)"));
    st->Bind(1, device_id).Bind(2, application_id);
    return st->Run();
  }

  Result<std::string> LorawanApplication(Id device_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("SELECT application_id FROM lorawan_device_apps WHERE device_id=?"));
    st->Bind(1, device_id);
    if (st->Step()) return st->Text(0);
    BYSANS_RETURN_IF_ERROR(st->status());
    return NotFound("no ChirpStack application id known for device " + std::to_string(device_id) +
                    " (none seen in an uplink yet)");
  }

  Result<Downlink> AppendDownlink(Downlink d) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("INSERT INTO downlinks(device_id, created_ms, fport, data, "
                             "confirmed, topic, status, error) VALUES(?, ?, ?, ?, ?, ?, ?, ?)"));
    st->Bind(1, d.device_id)
        .Bind(2, d.created_ms)
        .Bind(3, d.fport)
        .BindBlob(4, d.data.data(), d.data.size())
        .Bind(5, d.confirmed)
        .Bind(6, d.topic)
        .Bind(7, d.status)
        .Bind(8, d.error);
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
                             "status, error FROM downlinks WHERE device_id=? ORDER BY id DESC "
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
      out.push_back(std::move(d));
    }
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

 private:
  Pool& pool_;
  std::atomic<int64_t> generation_{0};
  mutable std::mutex mu_;
  std::pair<std::string, int> endpoint_{"127.0.0.1", 0};
};

}  // namespace

std::unique_ptr<MqttStore> NewSqliteMqttStore(Pool& pool) {
  return std::make_unique<SqliteMqttStore>(pool);
}

MqttStore& SqliteStore::mqtt() { return *mqtt_store_; }

}  // namespace bysans::sqlite
