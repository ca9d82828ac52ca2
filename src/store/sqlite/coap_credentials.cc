// CoapCredentialStore on SQLite (migration 35): one row per device, cascading with it.
#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {
namespace {

constexpr const char* kSelect =
    "SELECT device_id, identity, sealed_key, created_ms FROM coap_credentials ";

CoapCredential FromRow(const Stmt& st) {
  CoapCredential c;
  c.device_id = st.Int(0);
  c.identity = st.Text(1);
  c.sealed_key = st.Text(2);
  c.created_ms = st.Int(3);
  return c;
}

class SqliteCoapCredentialStore final : public CoapCredentialStore {
 public:
  explicit SqliteCoapCredentialStore(Pool& pool) : pool_(pool) {}

  Status PutCoapCredential(const CoapCredential& c) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    {
      BYSANS_ASSIGN_OR_RETURN(auto dev, db->Prepare("SELECT 1 FROM devices WHERE id=?"));
      dev->Bind(1, c.device_id);
      if (!dev->Step()) {
        BYSANS_RETURN_IF_ERROR(dev->status());
        return NotFound("no device with id " + std::to_string(c.device_id));
      }
    }
    {
      BYSANS_ASSIGN_OR_RETURN(
          auto taken,
          db->Prepare("SELECT 1 FROM coap_credentials WHERE identity=? AND device_id<>?"));
      taken->Bind(1, c.identity).Bind(2, c.device_id);
      if (taken->Step())
        return AlreadyExists("the PSK identity \"" + c.identity +
                             "\" is used by another device; choose another");
      BYSANS_RETURN_IF_ERROR(taken->status());
    }
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("INSERT INTO coap_credentials(device_id, identity, sealed_key, "
                             "created_ms) VALUES(?, ?, ?, ?) ON CONFLICT(device_id) DO UPDATE SET "
                             "identity=excluded.identity, sealed_key=excluded.sealed_key, "
                             "created_ms=excluded.created_ms"));
    st->Bind(1, c.device_id).Bind(2, c.identity).Bind(3, c.sealed_key).Bind(4, c.created_ms);
    return st->Run();
  }

  Result<CoapCredential> GetCoapCredential(Id device_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare(std::string(kSelect) + "WHERE device_id=?"));
    st->Bind(1, device_id);
    if (!st->Step()) {
      BYSANS_RETURN_IF_ERROR(st->status());
      return NotFound("device " + std::to_string(device_id) + " has no CoAP credentials");
    }
    return FromRow(*st);
  }

  Result<CoapCredential> FindCoapCredential(const std::string& identity) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare(std::string(kSelect) + "WHERE identity=?"));
    st->Bind(1, identity);
    if (!st->Step()) {
      BYSANS_RETURN_IF_ERROR(st->status());
      return NotFound("unknown PSK identity");
    }
    return FromRow(*st);
  }

  Status DeleteCoapCredential(Id device_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare("DELETE FROM coap_credentials WHERE device_id=?"));
    st->Bind(1, device_id);
    BYSANS_RETURN_IF_ERROR(st->Run());
    if (db->Changes() == 0)
      return NotFound("device " + std::to_string(device_id) + " has no CoAP credentials");
    return Status::Ok();
  }

 private:
  Pool& pool_;
};

}  // namespace

std::unique_ptr<CoapCredentialStore> NewSqliteCoapCredentialStore(Pool& pool) {
  return std::make_unique<SqliteCoapCredentialStore>(pool);
}

}  // namespace bysans::sqlite
