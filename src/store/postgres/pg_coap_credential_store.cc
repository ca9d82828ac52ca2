// CoapCredentialStore on PostgreSQL: one row per device, cascading with it; the PSK identity is
// unique across the server (a clash is kAlreadyExists through the constraint, so two nodes
// storing the same identity at once cannot both succeed).
#include "store/postgres/pg_coap_credential_store.h"

#include <string>

#include "store/postgres/change_feed.h"
#include "store/postgres/pool.h"
#include "store/postgres/schema.h"

namespace bysans::pg {

const char* CoapCredentialsSchema() {
  return R"sql(
CREATE TABLE coap_credentials (
  device_id bigint PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
  identity text NOT NULL CONSTRAINT coap_credentials_identity_key UNIQUE,
  sealed_key text NOT NULL,
  created_ms bigint NOT NULL
);
)sql";
}

namespace {

constexpr const char* kSelect =
    "SELECT device_id, identity, sealed_key, created_ms FROM coap_credentials ";

CoapCredential FromRow(const pqxx::row& r) {
  return {r[0].as<int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<int64_t>()};
}

Status NoCredential(Id device_id) {
  return NotFound("device " + std::to_string(device_id) + " has no CoAP credentials");
}

class PostgresCoapCredentialStore final : public CoapCredentialStore {
 public:
  explicit PostgresCoapCredentialStore(Pool& pool) : pool_(pool) {}

  Status PutCoapCredential(const CoapCredential& c) override {
    return pool_.Run<Status>("store CoAP credential", [&](pqxx::connection& conn) {
      pqxx::work w(conn);
      // An unknown device: the foreign key (kNotFound); another device's identity: the unique
      // constraint (kAlreadyExists).
      w.exec_params(
          "INSERT INTO coap_credentials (device_id, identity, sealed_key, created_ms) VALUES ($1, "
          "$2, $3, $4) ON CONFLICT (device_id) DO UPDATE SET identity = excluded.identity, "
          "sealed_key = excluded.sealed_key, created_ms = excluded.created_ms",
          c.device_id, c.identity, c.sealed_key, c.created_ms);
      // The other nodes' CoAP servers drop their cached PSKs (devices_generation).
      NotifyChange(w, pool_, change::kDevice, c.device_id);
      w.commit();
      return Status::Ok();
    });
  }

  Result<CoapCredential> GetCoapCredential(Id device_id) override {
    return Find("WHERE device_id = $1", device_id, [&] { return NoCredential(device_id); });
  }

  Result<CoapCredential> FindCoapCredential(const std::string& identity) override {
    return Find("WHERE identity = $1", identity, [] { return NotFound("unknown PSK identity"); });
  }

  Status DeleteCoapCredential(Id device_id) override {
    return pool_.Run<Status>("delete CoAP credential", [&](pqxx::connection& conn) {
      pqxx::work w(conn);
      pqxx::result r =
          w.exec_params("DELETE FROM coap_credentials WHERE device_id = $1", device_id);
      NotifyChange(w, pool_, change::kDevice, device_id);
      w.commit();
      return r.affected_rows() == 0 ? NoCredential(device_id) : Status::Ok();
    });
  }

 private:
  template <typename Key, typename Missing>
  Result<CoapCredential> Find(const char* where, const Key& key, Missing missing) {
    return pool_.ReadOne<CoapCredential>("read CoAP credential", std::string(kSelect) + where,
                                         FromRow, missing, key);
  }

  Pool& pool_;
};

}  // namespace

std::unique_ptr<CoapCredentialStore> NewPostgresCoapCredentialStore(Pool& pool) {
  return std::make_unique<PostgresCoapCredentialStore>(pool);
}

}  // namespace bysans::pg
