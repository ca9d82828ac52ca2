// OpenDataStore on SQLite (migration 17): open_datasets with the DCAT metadata as JSON, and the
// selected devices in open_dataset_devices (both cascade with their organisation, application
// and devices).
#include "store/row_json.h"
#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {
namespace {

constexpr const char* kColumns =
    "id, org_id, app_id, published, meta, created_ms, updated_ms, issued_ms";

OpenDataset DatasetFromRow(const Stmt& st) {
  OpenDataset d;
  d.id = st.Int(0);
  d.org_id = st.Int(1);
  if (!st.IsNull(2)) d.app_id = st.Int(2);
  d.published = st.Int(3) != 0;
  ReadOpenDatasetMeta(st.Text(4), d);
  d.created_ms = st.Int(5);
  d.updated_ms = st.Int(6);
  if (!st.IsNull(7)) d.issued_ms = st.Int(7);
  return d;
}

void BindOptional(Stmt& st, int i, const std::optional<int64_t>& v) {
  if (v) {
    st.Bind(i, *v);
  } else {
    st.BindNull(i);
  }
}

class SqliteOpenDataStore final : public OpenDataStore {
 public:
  explicit SqliteOpenDataStore(Pool& pool) : pool_(pool) {}

  Result<OpenDataset> CreateDataset(OpenDataset d) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Txn txn(*db, true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    {
      BYSANS_ASSIGN_OR_RETURN(
          auto st, db->Prepare("INSERT INTO open_datasets(org_id, app_id, published, meta, "
                               "created_ms, updated_ms, issued_ms) VALUES(?, ?, ?, ?, ?, ?, ?)"));
      st->Bind(1, d.org_id);
      BindOptional(*st, 2, d.app_id);
      st->Bind(3, d.published)
          .Bind(4, OpenDatasetMetaJson(d))
          .Bind(5, d.created_ms)
          .Bind(6, d.updated_ms);
      BindOptional(*st, 7, d.issued_ms);
      BYSANS_RETURN_IF_ERROR(st->Run());
    }
    d.id = db->LastInsertId();
    BYSANS_RETURN_IF_ERROR(PutDevices(*db, d));
    BYSANS_RETURN_IF_ERROR(txn.Commit());
    return d;
  }

  Result<OpenDataset> GetDataset(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare(std::string("SELECT ") + kColumns + " FROM open_datasets WHERE id=?"));
    st->Bind(1, id);
    if (!st->Step()) {
      BYSANS_RETURN_IF_ERROR(st->status());
      return NotFound("no dataset with id " + std::to_string(id));
    }
    OpenDataset d = DatasetFromRow(*st);
    st.reset();
    BYSANS_RETURN_IF_ERROR(LoadDevices(*db, d));
    return d;
  }

  Result<std::vector<OpenDataset>> ListDatasets(Id org_id, bool published_only) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    std::vector<OpenDataset> out;
    {
      BYSANS_ASSIGN_OR_RETURN(
          auto st,
          db->Prepare(std::string("SELECT ") + kColumns +
                      " FROM open_datasets WHERE org_id=? AND (published=1 OR ?=0) ORDER BY id"));
      st->Bind(1, org_id).Bind(2, published_only);
      while (st->Step()) out.push_back(DatasetFromRow(*st));
      BYSANS_RETURN_IF_ERROR(st->status());
    }
    for (OpenDataset& d : out) BYSANS_RETURN_IF_ERROR(LoadDevices(*db, d));
    return out;
  }

  Status UpdateDataset(const OpenDataset& d) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Txn txn(*db, true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    {
      BYSANS_ASSIGN_OR_RETURN(auto st,
                              db->Prepare("UPDATE open_datasets SET app_id=?, published=?, meta=?, "
                                          "updated_ms=?, issued_ms=? WHERE id=?"));
      BindOptional(*st, 1, d.app_id);
      st->Bind(2, d.published).Bind(3, OpenDatasetMetaJson(d)).Bind(4, d.updated_ms);
      BindOptional(*st, 5, d.issued_ms);
      st->Bind(6, d.id);
      BYSANS_RETURN_IF_ERROR(st->Run());
      if (db->Changes() == 0) return NotFound("no dataset with id " + std::to_string(d.id));
    }
    BYSANS_RETURN_IF_ERROR(PutDevices(*db, d));
    return txn.Commit();
  }

  Status DeleteDataset(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare("DELETE FROM open_datasets WHERE id=?"));
    st->Bind(1, id);
    BYSANS_RETURN_IF_ERROR(st->Run());
    if (db->Changes() == 0) return NotFound("no dataset with id " + std::to_string(id));
    return Status::Ok();
  }

 private:
  // Replaces the dataset's device selection (inside the caller's transaction).
  static Status PutDevices(Db& db, const OpenDataset& d) {
    {
      BYSANS_ASSIGN_OR_RETURN(auto del,
                              db.Prepare("DELETE FROM open_dataset_devices WHERE dataset_id=?"));
      BYSANS_RETURN_IF_ERROR(del->Bind(1, d.id).Run());
    }
    BYSANS_ASSIGN_OR_RETURN(
        auto ins,
        db.Prepare(
            "INSERT OR IGNORE INTO open_dataset_devices(dataset_id, device_id) VALUES(?, ?)"));
    for (Id dev : d.device_ids) BYSANS_RETURN_IF_ERROR(ins->Bind(1, d.id).Bind(2, dev).Run());
    return Status::Ok();
  }

  static Status LoadDevices(Db& db, OpenDataset& d) {
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db.Prepare("SELECT device_id FROM open_dataset_devices WHERE dataset_id=? "
                            "ORDER BY device_id"));
    st->Bind(1, d.id);
    while (st->Step()) d.device_ids.push_back(st->Int(0));
    return st->status();
  }

  Pool& pool_;
};

}  // namespace

std::unique_ptr<OpenDataStore> NewSqliteOpenDataStore(Pool& pool) {
  return std::make_unique<SqliteOpenDataStore>(pool);
}

}  // namespace bysans::sqlite
