// ContactStore on SQLite (migration 28): contacts(owner_kind, owner_id, position, ...) with the
// owner's row referenced for cascades (app_id or device_id), and one sms_gateways row per
// organisation holding the gateway as JSON text beside its sealed secret.
#include "store/contact_store.h"
#include "store/row_json.h"
#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {
namespace {

const char* OwnerColumn(ContactOwner o) {
  return o == ContactOwner::kApplication ? "app_id" : "device_id";
}
const char* OwnerTable(ContactOwner o) {
  return o == ContactOwner::kApplication ? "applications" : "devices";
}

class SqliteContactStore final : public ContactStore {
 public:
  explicit SqliteContactStore(Pool& pool) : pool_(pool) {}

  Result<std::vector<Contact>> ListContacts(ContactOwner owner, Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare(std::string("SELECT name, email, phone, role FROM contacts WHERE ") +
                             OwnerColumn(owner) + "=? ORDER BY position"));
    st->Bind(1, id);
    std::vector<Contact> out;
    while (st->Step()) out.push_back({st->Text(0), st->Text(1), st->Text(2), st->Text(3)});
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

  Status ReplaceContacts(ContactOwner owner, Id id, const std::vector<Contact>& c) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Txn txn(*db, true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    {
      BYSANS_ASSIGN_OR_RETURN(
          auto st, db->Prepare(std::string("SELECT 1 FROM ") + OwnerTable(owner) + " WHERE id=?"));
      st->Bind(1, id);
      if (!st->Step()) {
        BYSANS_RETURN_IF_ERROR(st->status());
        return NotFound(
            std::string(owner == ContactOwner::kApplication ? "no application" : "no device") +
            " with id " + std::to_string(id));
      }
    }
    {
      BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare(std::string("DELETE FROM contacts WHERE ") +
                                                   OwnerColumn(owner) + "=?"));
      BYSANS_RETURN_IF_ERROR(st->Bind(1, id).Run());
    }
    for (size_t i = 0; i < c.size(); ++i) {
      BYSANS_ASSIGN_OR_RETURN(
          auto st, db->Prepare(std::string("INSERT INTO contacts(") + OwnerColumn(owner) +
                               ", position, name, email, phone, role) VALUES(?, ?, ?, ?, ?, ?)"));
      st->Bind(1, id).Bind(2, static_cast<int64_t>(i)).Bind(3, c[i].name).Bind(4, c[i].email);
      BYSANS_RETURN_IF_ERROR(st->Bind(5, c[i].phone).Bind(6, c[i].role).Run());
    }
    return txn.Commit();
  }

  Result<SmsGateway> GetSmsGateway(Id org_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st,
        db->Prepare("SELECT config, secret_sealed, updated_ms FROM sms_gateways WHERE org_id=?"));
    st->Bind(1, org_id);
    if (!st->Step()) {
      BYSANS_RETURN_IF_ERROR(st->status());
      return NotFound("organisation " + std::to_string(org_id) + " has no SMS gateway");
    }
    SmsGateway g;
    g.org_id = org_id;
    ReadSmsGatewayConfig(st->Text(0), g);
    g.secret_sealed = st->Text(1);
    g.updated_ms = st->Int(2);
    return g;
  }

  Status PutSmsGateway(const SmsGateway& g) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    {
      BYSANS_ASSIGN_OR_RETURN(auto org, db->Prepare("SELECT 1 FROM organizations WHERE id=?"));
      org->Bind(1, g.org_id);
      if (!org->Step()) {
        BYSANS_RETURN_IF_ERROR(org->status());
        return NotFound("no organization with id " + std::to_string(g.org_id));
      }
    }
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("INSERT INTO sms_gateways(org_id, config, secret_sealed, updated_ms) "
                             "VALUES(?, ?, ?, ?) ON CONFLICT(org_id) DO UPDATE SET "
                             "config=excluded.config, secret_sealed=excluded.secret_sealed, "
                             "updated_ms=excluded.updated_ms"));
    st->Bind(1, g.org_id).Bind(2, SmsGatewayConfigJson(g));
    return st->Bind(3, g.secret_sealed).Bind(4, g.updated_ms).Run();
  }

  Status DeleteSmsGateway(Id org_id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare("DELETE FROM sms_gateways WHERE org_id=?"));
    BYSANS_RETURN_IF_ERROR(st->Bind(1, org_id).Run());
    if (db->Changes() == 0) {
      return NotFound("organisation " + std::to_string(org_id) + " has no SMS gateway");
    }
    return Status::Ok();
  }

 private:
  Pool& pool_;
};

}  // namespace

std::unique_ptr<ContactStore> NewSqliteContactStore(Pool& pool) {
  return std::make_unique<SqliteContactStore>(pool);
}

}  // namespace bysans::sqlite
