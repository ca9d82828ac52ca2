#include "store/sqlite/migrations.h"

#include <string>
#include <vector>

namespace bysans::sqlite {
namespace {

// Append new migrations at the end; never edit one that has shipped.
const std::vector<const char*>& Migrations() {
  static const std::vector<const char*> kList = {
      // 1: metadata.
      R"sql(
CREATE TABLE organizations(
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE applications(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL, description TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE INDEX applications_org ON applications(org_id, id);
CREATE TABLE device_models(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL, doc_json TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE INDEX device_models_org ON device_models(org_id, id);
CREATE TABLE devices(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  app_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  name TEXT NOT NULL, transport INTEGER NOT NULL,
  dev_eui TEXT UNIQUE, lat REAL, lon REAL,
  tags TEXT NOT NULL, metadata TEXT NOT NULL,
  device_model_id INTEGER REFERENCES device_models(id) ON DELETE SET NULL,
  expected_interval_s INTEGER NOT NULL, in_maintenance INTEGER NOT NULL,
  created_ms INTEGER NOT NULL, ingest_key_hash TEXT UNIQUE);
CREATE INDEX devices_org ON devices(org_id, id);
CREATE INDEX devices_app ON devices(app_id, id);
CREATE INDEX devices_model ON devices(device_model_id);
CREATE TABLE users(
  id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name TEXT NOT NULL, password_hash TEXT NOT NULL, global_admin INTEGER NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE TABLE memberships(
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  role INTEGER NOT NULL, PRIMARY KEY(user_id, org_id)) WITHOUT ROWID;
CREATE INDEX memberships_org ON memberships(org_id, user_id);
CREATE TABLE api_keys(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL, role INTEGER NOT NULL, prefix TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE, expires_ms INTEGER, created_by INTEGER NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE INDEX api_keys_org ON api_keys(org_id, id);
CREATE TABLE sessions(
  token_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_ms);
CREATE TABLE audit(
  id INTEGER PRIMARY KEY AUTOINCREMENT, org_id INTEGER, user_id INTEGER, api_key_id INTEGER,
  action TEXT NOT NULL, object_type TEXT NOT NULL, object_id TEXT NOT NULL,
  remote_addr TEXT NOT NULL, detail TEXT NOT NULL, ts INTEGER NOT NULL);
CREATE INDEX audit_org ON audit(org_id, id);
)sql",
      // 2: time series.
      R"sql(
CREATE TABLE series(
  id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL, key TEXT NOT NULL, unit TEXT NOT NULL,
  UNIQUE(device_id, key));
CREATE TABLE points_log(
  series_id INTEGER NOT NULL, ts INTEGER NOT NULL, kind INTEGER NOT NULL, num REAL,
  str TEXT, quality INTEGER NOT NULL);
CREATE TABLE chunks(
  series_id INTEGER NOT NULL, t_min INTEGER NOT NULL, seq INTEGER NOT NULL,
  t_max INTEGER NOT NULL, n INTEGER NOT NULL, hours BLOB NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY(series_id, t_min, seq)) WITHOUT ROWID;
CREATE TABLE seal_state(id INTEGER PRIMARY KEY CHECK (id = 1), sealed_upto INTEGER NOT NULL);
INSERT INTO seal_state VALUES (1, 0);
CREATE TABLE raw_messages(
  id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL, received_ms INTEGER NOT NULL,
  transport INTEGER NOT NULL, content_type TEXT NOT NULL, payload BLOB NOT NULL,
  decode_status INTEGER NOT NULL, decode_error TEXT NOT NULL);
CREATE INDEX raw_messages_device ON raw_messages(device_id, id);
)sql",
  };
  return kList;
}

}  // namespace

Result<int> Migrate(Db& db, int64_t now_ms) {
  BYSANS_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS schema_version("
              "version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)"));
  int applied = 0;
  const auto& list = Migrations();
  for (size_t i = 0; i < list.size(); ++i) {
    const int64_t version = static_cast<int64_t>(i) + 1;
    Txn txn(db, true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    {
      BYSANS_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT 1 FROM schema_version WHERE version=?"));
      q->Bind(1, version);
      bool present = q->Step();
      BYSANS_RETURN_IF_ERROR(q->status());
      if (present) continue;
    }
    Status s = db.Exec(list[i]);
    if (!s.ok()) return Internal("migration " + std::to_string(version) + ": " + s.message());
    {
      BYSANS_ASSIGN_OR_RETURN(auto ins, db.Prepare("INSERT INTO schema_version VALUES(?, ?)"));
      BYSANS_RETURN_IF_ERROR(ins->Bind(1, version).Bind(2, now_ms).Run());
    }
    BYSANS_RETURN_IF_ERROR(txn.Commit());
    ++applied;
  }
  return applied;
}

}  // namespace bysans::sqlite
