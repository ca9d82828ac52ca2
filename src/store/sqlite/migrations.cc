#include "store/sqlite/migrations.h"

#include <string>
#include <vector>

#include "store/sqlite/raw_log_migration.h"

namespace bysans::sqlite {
namespace {

// Migration 23 (retention.cc): the hour summaries of expired readings. Also run after the list
// (IF NOT EXISTS), for stores that recorded 23 while main held it as a no-op placeholder.
constexpr const char* kChunkHoursSql =
    "CREATE TABLE IF NOT EXISTS chunk_hours(series_id INTEGER NOT NULL, t_min INTEGER NOT NULL, "
    "seq INTEGER NOT NULL, t_max INTEGER NOT NULL, hours BLOB NOT NULL, PRIMARY KEY(series_id, "
    "t_min, seq)) WITHOUT ROWID;";

// SQL, then (optionally) a step in C++, in the same transaction.
struct Migration {
  Migration(const char* s, Status (*f)(Db&) = nullptr) : sql(s), then(f) {}  // NOLINT: implicit
  const char* sql;
  Status (*then)(Db&);
};

// Whether `table` has `column` (migrations that add a column skip it where present).
Result<bool> HasColumn(Db& db, const char* table, const char* column) {
  BYSANS_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT 1 FROM pragma_table_info(?) WHERE name=?"));
  q->Bind(1, table).Bind(2, column);
  const bool present = q->Step();
  BYSANS_RETURN_IF_ERROR(q->status());
  return present;
}

// Migration 22 (issue 18): an application's data class (0 none, 1 pseudonymous, 2 personal,
// 3 sensitive; personal_data=1 becomes personal; personal_data is kept in step for older
// readers), its retention in days (NULL = the class's server default) and its record of
// processing. Skipped where the columns exist (a store that re-runs recorded migrations).
Status AddPrivacyColumns(Db& db) {
  BYSANS_ASSIGN_OR_RETURN(bool present, HasColumn(db, "applications", "data_class"));
  if (present) return Status::Ok();
  return db.Exec(R"sql(
ALTER TABLE applications ADD COLUMN data_class INTEGER NOT NULL DEFAULT 0;
UPDATE applications SET data_class=2 WHERE personal_data<>0;
ALTER TABLE applications ADD COLUMN retention_raw_days INTEGER;
ALTER TABLE applications ADD COLUMN retention_readings_days INTEGER;
ALTER TABLE applications ADD COLUMN retention_aggregates_days INTEGER;
ALTER TABLE applications ADD COLUMN purpose TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN legal_basis TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN data_categories TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN recipients TEXT NOT NULL DEFAULT '';
)sql");
}

// Migration 24 (issue 18): "erase a data subject" jobs (store/subject_erasure_store.h) and an
// application's personal device metadata keys (a JSON array; never passed to decoders, data
// targets or open data). The column is added only where it is missing.
Status AddSubjectErasure(Db& db) {
  BYSANS_RETURN_IF_ERROR(db.Exec(R"sql(
CREATE TABLE IF NOT EXISTS subject_erasures(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  state TEXT NOT NULL, request TEXT NOT NULL, report TEXT NOT NULL, error TEXT NOT NULL,
  user_id INTEGER, api_key_id INTEGER, requested_by TEXT NOT NULL, created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS subject_erasures_org ON subject_erasures(org_id, id);
)sql"));
  BYSANS_ASSIGN_OR_RETURN(bool present, HasColumn(db, "applications", "personal_metadata_keys"));
  if (present) return Status::Ok();
  return db.Exec(
      "ALTER TABLE applications ADD COLUMN personal_metadata_keys TEXT NOT NULL DEFAULT '[]'");
}

// Migration 40 (issue 19, several nodes): the process running a job (DecoderStore::
// InterruptJobs leaves live nodes' jobs alone). Added only where missing.
Status AddJobNode(Db& db) {
  BYSANS_ASSIGN_OR_RETURN(bool present, HasColumn(db, "jobs", "node"));
  if (present) return Status::Ok();
  return db.Exec("ALTER TABLE jobs ADD COLUMN node TEXT NOT NULL DEFAULT ''");
}

Status AddApiKeyMqttHash(Db& db) {
  BYSANS_ASSIGN_OR_RETURN(bool present, HasColumn(db, "api_keys", "mqtt_hash"));
  if (present) return Status::Ok();
  return db.Exec("ALTER TABLE api_keys ADD COLUMN mqtt_hash TEXT NOT NULL DEFAULT ''");
}

// Migration 26 (issue 21): "cleared, not acknowledged" — an alarm cleared by its condition whose
// rule requires acknowledgement stays open until a person acknowledges it (rules/alarm.h).
// Alarms stored before keep awaiting_ack=0. Added only where missing; also run after the list.
Status AddAlarmAwaitingAck(Db& db) {
  BYSANS_ASSIGN_OR_RETURN(bool present, HasColumn(db, "alarms", "awaiting_ack"));
  if (present) return Status::Ok();
  return db.Exec("ALTER TABLE alarms ADD COLUMN awaiting_ack INTEGER NOT NULL DEFAULT 0");
}

// Migration 35 (issue 20, gateway rules): an alarm of a rule with a gateway scope names its
// gateway (device_id 0); device alarms keep ''. Added only where missing (re-runnable: the lead
// may renumber it); also run after the list, since migration 13 rebuilds the alarms table.
Status AddAlarmGateway(Db& db) {
  BYSANS_ASSIGN_OR_RETURN(bool present, HasColumn(db, "alarms", "gateway_id"));
  if (!present) {
    BYSANS_RETURN_IF_ERROR(
        db.Exec("ALTER TABLE alarms ADD COLUMN gateway_id TEXT NOT NULL DEFAULT ''"));
  }
  return db.Exec("CREATE INDEX IF NOT EXISTS alarms_gateway ON alarms(rule_id, gateway_id, state)");
}

// Migration 39 (issue 19, several nodes): an outbox row claimed by one sender until
// claimed_until (RuleStore::ClaimDueOutbox), as on PostgreSQL. Added only where missing
// (re-runnable: the lead may renumber it); also run after the list, since migration 13 rebuilds
// the outbox table.
Status AddOutboxClaims(Db& db) {
  BYSANS_ASSIGN_OR_RETURN(bool present, HasColumn(db, "outbox", "claimed_until"));
  if (present) return Status::Ok();
  return db.Exec("ALTER TABLE outbox ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0");
}

// Migration 29 (issue 21 §2): access per application. A membership restricted to some
// applications (memberships.app_scoped) lists them in membership_apps; deleting an application
// or the membership removes its rows, and a restricted membership without rows reaches nothing.
Status AddMembershipScope(Db& db) {
  BYSANS_RETURN_IF_ERROR(db.Exec(R"sql(
CREATE TABLE IF NOT EXISTS membership_apps(
  user_id INTEGER NOT NULL, org_id INTEGER NOT NULL,
  app_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  PRIMARY KEY(user_id, org_id, app_id),
  FOREIGN KEY(user_id, org_id) REFERENCES memberships(user_id, org_id) ON DELETE CASCADE)
  WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS membership_apps_app ON membership_apps(app_id);
)sql"));
  BYSANS_ASSIGN_OR_RETURN(bool present, HasColumn(db, "memberships", "app_scoped"));
  if (present) return Status::Ok();
  return db.Exec("ALTER TABLE memberships ADD COLUMN app_scoped INTEGER NOT NULL DEFAULT 0");
}

// Migration 31 (issue 21 §4): a dashboard shared with one application (store/dashboard_store.h),
// removed with it. Added only where missing.
Status AddDashboardApplication(Db& db) {
  BYSANS_ASSIGN_OR_RETURN(bool present, HasColumn(db, "dashboards", "app_id"));
  if (present) return Status::Ok();
  return db.Exec(
      "ALTER TABLE dashboards ADD COLUMN app_id INTEGER REFERENCES applications(id) ON DELETE "
      "CASCADE");
}

// Migration 32 (issue 21 §2): an invitation to some applications only. invitations.app_scoped
// and its applications in invitation_apps, which go with the invitation or the application;
// accepting copies them to membership_apps (sqlite/meta.cc AcceptInvitation).
Status AddInvitationScope(Db& db) {
  BYSANS_RETURN_IF_ERROR(db.Exec(R"sql(
CREATE TABLE IF NOT EXISTS invitation_apps(
  invitation_id INTEGER NOT NULL REFERENCES invitations(id) ON DELETE CASCADE,
  app_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  PRIMARY KEY(invitation_id, app_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS invitation_apps_app ON invitation_apps(app_id);
)sql"));
  BYSANS_ASSIGN_OR_RETURN(bool present, HasColumn(db, "invitations", "app_scoped"));
  if (present) return Status::Ok();
  return db.Exec("ALTER TABLE invitations ADD COLUMN app_scoped INTEGER NOT NULL DEFAULT 0");
}

// Migration 33 (issue 21 §4): a public dashboard (store/dashboard_store.h), off for every
// dashboard stored before. Added only where missing.
Status AddDashboardPublished(Db& db) {
  BYSANS_ASSIGN_OR_RETURN(bool present, HasColumn(db, "dashboards", "published"));
  if (present) return Status::Ok();
  return db.Exec("ALTER TABLE dashboards ADD COLUMN published INTEGER NOT NULL DEFAULT 0");
}

// Migration 45: an organisation's own limit of devices (NULL: the server's default,
// limits.max_devices_per_org). Added only where missing.
Status AddOrganizationMaxDevices(Db& db) {
  BYSANS_ASSIGN_OR_RETURN(bool present, HasColumn(db, "organizations", "max_devices"));
  if (present) return Status::Ok();
  return db.Exec("ALTER TABLE organizations ADD COLUMN max_devices INTEGER");
}

// Migration 42: whether an uplink through bysans' own broker named the gateway (MqttStore::
// TouchGateway, UplinkSource). Only such gateways route that broker's gateway events to their
// organisation (GatewayStore::OrganizationsOfGateway); one that only an organisation's own
// ChirpStack integration reported no longer does, so it cannot take another organisation's
// gateway events away. New rows say where they came from; the rows of before are marked seen
// locally, so every gateway keeps the organisations it had before the upgrade (a gateway an
// integration claimed before then keeps its claim until an operator removes the row). Added only
// where missing.
Status AddGatewaySeenLocally(Db& db) {
  BYSANS_ASSIGN_OR_RETURN(bool present, HasColumn(db, "lorawan_gateways", "seen_locally"));
  if (present) return Status::Ok();
  return db.Exec(R"sql(
ALTER TABLE lorawan_gateways ADD COLUMN seen_locally INTEGER NOT NULL DEFAULT 0;
UPDATE lorawan_gateways SET seen_locally = 1;
)sql");
}

// Migration 16 (data targets, issue 16; store/target_store.h), repeated as 18 (see there).
constexpr const char* kDataTargetsSql = R"sql(
CREATE TABLE IF NOT EXISTS share_log(
  id INTEGER PRIMARY KEY AUTOINCREMENT, app_id INTEGER NOT NULL, records INTEGER NOT NULL,
  first_received_ms INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS share_log_app ON share_log(app_id, id);
CREATE TABLE IF NOT EXISTS data_targets(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  app_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  name TEXT NOT NULL, type TEXT NOT NULL, url TEXT NOT NULL, format TEXT NOT NULL,
  batch_size INTEGER NOT NULL, timeout_ms INTEGER NOT NULL, device_ids TEXT NOT NULL,
  headers_sealed TEXT NOT NULL, topic TEXT NOT NULL, qos INTEGER NOT NULL,
  retain INTEGER NOT NULL, username TEXT NOT NULL, password_sealed TEXT,
  paused INTEGER NOT NULL, max_attempts INTEGER NOT NULL,
  max_age_ms INTEGER NOT NULL, cursor INTEGER NOT NULL, created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS data_targets_app ON data_targets(app_id, id);
CREATE TABLE IF NOT EXISTS target_dead_letters(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  target_id INTEGER NOT NULL REFERENCES data_targets(id) ON DELETE CASCADE,
  position INTEGER NOT NULL, record BLOB NOT NULL, error TEXT NOT NULL,
  attempts INTEGER NOT NULL, created_ms INTEGER NOT NULL, replay INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS target_dead_letters_target ON target_dead_letters(target_id, replay, id);
CREATE TABLE IF NOT EXISTS target_deliveries(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  target_id INTEGER NOT NULL REFERENCES data_targets(id) ON DELETE CASCADE,
  ts INTEGER NOT NULL, ok INTEGER NOT NULL, records INTEGER NOT NULL,
  first_position INTEGER NOT NULL, last_position INTEGER NOT NULL, error TEXT NOT NULL,
  duration_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS target_deliveries_target ON target_deliveries(target_id, id);
)sql";

// Append new migrations at the end; never edit one that has shipped.
const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kList = {
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
      // 3: rules, alarms, silences, action outbox and delivery log (store/rule_store.h).
      R"sql(
CREATE TABLE rules(
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  enabled INTEGER NOT NULL, definition TEXT NOT NULL, created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL);
CREATE INDEX rules_org ON rules(org_id, id);
CREATE TABLE alarms(
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  rule_id INTEGER NOT NULL, device_id INTEGER NOT NULL, state TEXT NOT NULL,
  raised_ms INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE INDEX alarms_org ON alarms(org_id, id);
CREATE INDEX alarms_open ON alarms(rule_id, device_id, state);
CREATE TABLE silences(
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  device_id INTEGER, rule_id INTEGER, until_ms INTEGER NOT NULL, created_by TEXT NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE TABLE outbox(
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, rule_id INTEGER NOT NULL,
  alarm_id INTEGER NOT NULL, event TEXT NOT NULL, target_key TEXT NOT NULL, spec TEXT NOT NULL,
  payload TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL, last_error TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE INDEX outbox_pending ON outbox(state, id);
CREATE TABLE delivery_log(
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, outbox_id INTEGER NOT NULL,
  rule_id INTEGER NOT NULL, alarm_id INTEGER NOT NULL, target_key TEXT NOT NULL,
  action_type TEXT NOT NULL, attempt INTEGER NOT NULL, ts INTEGER NOT NULL, ok INTEGER NOT NULL,
  error TEXT NOT NULL);
CREATE INDEX delivery_log_org ON delivery_log(org_id, id);
)sql",
      // 4: payload decoders, their versions and attachments (store/decoder_store.h).
      R"sql(
CREATE TABLE decoders(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL, kind INTEGER NOT NULL, version INTEGER NOT NULL,
  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE INDEX decoders_org ON decoders(org_id, id);
CREATE TABLE decoder_versions(
  decoder_id INTEGER NOT NULL REFERENCES decoders(id) ON DELETE CASCADE,
  version INTEGER NOT NULL, code TEXT NOT NULL, created_ms INTEGER NOT NULL,
  created_by INTEGER NOT NULL, PRIMARY KEY(decoder_id, version)) WITHOUT ROWID;
CREATE TABLE application_decoders(
  app_id INTEGER PRIMARY KEY REFERENCES applications(id) ON DELETE CASCADE,
  decoder_id INTEGER NOT NULL REFERENCES decoders(id) ON DELETE CASCADE);
CREATE INDEX application_decoders_decoder ON application_decoders(decoder_id);
CREATE TABLE device_decoders(
  device_id INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
  decoder_id INTEGER NOT NULL REFERENCES decoders(id) ON DELETE CASCADE);
CREATE INDEX device_decoders_decoder ON device_decoders(decoder_id);
)sql",
      // 5: MQTT device credentials, LoRaWAN gateways and unknown DevEUIs (store/mqtt_store.h);
      // raw-message idempotency key (pipeline::Uplink::dedup_key; NULL = none).
      R"sql(
CREATE TABLE mqtt_credentials(
  device_id INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
  username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE lorawan_gateways(
  org_id INTEGER NOT NULL, gateway_id TEXT NOT NULL, first_seen_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL, uplinks INTEGER NOT NULL, PRIMARY KEY(org_id, gateway_id));
CREATE TABLE lorawan_unknown_devices(
  dev_eui TEXT PRIMARY KEY, application_id TEXT NOT NULL, first_seen_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL, uplinks INTEGER NOT NULL);
CREATE TABLE lorawan_device_apps(
  device_id INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
  application_id TEXT NOT NULL);
CREATE TABLE downlinks(
  id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  created_ms INTEGER NOT NULL, fport INTEGER NOT NULL, data BLOB NOT NULL,
  confirmed INTEGER NOT NULL, topic TEXT NOT NULL, status TEXT NOT NULL, error TEXT NOT NULL);
CREATE INDEX downlinks_device ON downlinks(device_id, id);
ALTER TABLE raw_messages ADD COLUMN dedup_key TEXT;
CREATE UNIQUE INDEX raw_messages_dedup ON raw_messages(dedup_key);
)sql",
      // Decoders: per-organisation time limit per call; background jobs (re-decode) that
      // survive a restart (store/decoder_store.h).
      R"sql(
ALTER TABLE organizations ADD COLUMN decoder_timeout_ms INTEGER NOT NULL DEFAULT 100;
CREATE TABLE jobs(
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  kind TEXT NOT NULL, state TEXT NOT NULL, done INTEGER NOT NULL, total INTEGER NOT NULL,
  errors INTEGER NOT NULL, error TEXT NOT NULL, request TEXT NOT NULL,
  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE INDEX jobs_state ON jobs(state);
)sql",
      // MQTT integrations: per-organisation ChirpStack and per-application external brokers
      // (store/mqtt_store.h; password encrypted under <data_dir>/secret.key), unknown DevEUIs
      // per organisation, and the integration that last delivered a LoRaWAN device's uplink.
      R"sql(
CREATE TABLE mqtt_integrations(
  id INTEGER PRIMARY KEY, kind TEXT NOT NULL,
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  app_id INTEGER REFERENCES applications(id) ON DELETE CASCADE,
  name TEXT NOT NULL, url TEXT NOT NULL, username TEXT NOT NULL, password_box BLOB,
  client_id TEXT NOT NULL, enabled INTEGER NOT NULL, topic_filter TEXT NOT NULL,
  device_topic_level INTEGER NOT NULL, device_match TEXT NOT NULL,
  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE INDEX mqtt_integrations_org ON mqtt_integrations(org_id, kind);
CREATE TABLE lorawan_unknown_org_devices(
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  dev_eui TEXT NOT NULL, integration_id INTEGER NOT NULL, application_id TEXT NOT NULL,
  first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL, uplinks INTEGER NOT NULL,
  PRIMARY KEY(org_id, dev_eui));
ALTER TABLE lorawan_device_apps ADD COLUMN integration_id INTEGER NOT NULL DEFAULT 0;
)sql",
      // The open segment's write-ahead log: one row per group commit holding the encoded
      // readings of that commit (store/sqlite/log_codec.h), instead of one points_log row
      // per reading (points_log is still read at open and emptied by the next seal).
      R"sql(
CREATE TABLE points_blob(id INTEGER PRIMARY KEY, data BLOB NOT NULL);
)sql",
      // Raw messages by device: a WITHOUT ROWID index the writer fills in sorted batches, up
      // to seal_state.raw_indexed_upto, instead of an index entry per message on one page per
      // device per commit (store/sqlite/device_messages_sql.h).
      R"sql(
CREATE TABLE raw_device_index(
  dev INTEGER NOT NULL, msg INTEGER NOT NULL, PRIMARY KEY(dev, msg)) WITHOUT ROWID;
INSERT INTO raw_device_index SELECT device_id, id FROM raw_messages ORDER BY device_id, id;
ALTER TABLE seal_state ADD COLUMN raw_indexed_upto INTEGER NOT NULL DEFAULT 0;
UPDATE seal_state SET raw_indexed_upto = (SELECT coalesce(max(id), 0) FROM raw_messages);
DROP INDEX raw_messages_device;
)sql",
      // MQTT integrations: the PEM CA certificates trusted for an mqtts:// broker ('' = the
      // system's CAs; store/mqtt_store.h MqttIntegration::ca_cert).
      R"sql(
ALTER TABLE mqtt_integrations ADD COLUMN ca_cert TEXT NOT NULL DEFAULT '';
)sql",
      // MQTT integrations, mutual TLS: the client certificate (PEM, public) and its private key
      // sealed like the password (store/mqtt_store.h MqttIntegration::client_cert).
      R"sql(
ALTER TABLE mqtt_integrations ADD COLUMN client_cert TEXT NOT NULL DEFAULT '';
ALTER TABLE mqtt_integrations ADD COLUMN client_key_box BLOB;
)sql",
      // Raw messages as one raw_log row per group commit (store/sqlite/raw_log_codec.h),
      // found by device through raw_device_runs (raw_device_runs.h; raw_indexed_upto now
      // names a raw_log row), deduplicated by an in-memory window of keys (dedup_window.h);
      // a re-decode's result goes to raw_decode. The C++ step moves raw_messages over.
      {R"sql(
CREATE TABLE raw_log(
  id INTEGER PRIMARY KEY, n INTEGER NOT NULL, t_min INTEGER NOT NULL, t_max INTEGER NOT NULL,
  data BLOB NOT NULL);
CREATE TABLE raw_device_runs(
  dev INTEGER NOT NULL, first_log INTEGER NOT NULL, t_min INTEGER NOT NULL,
  t_max INTEGER NOT NULL, n INTEGER NOT NULL, logs BLOB NOT NULL,
  PRIMARY KEY(dev, first_log)) WITHOUT ROWID;
CREATE TABLE raw_decode(id INTEGER PRIMARY KEY, status INTEGER NOT NULL, error TEXT NOT NULL);
)sql",
       MoveRawMessagesToLog},
      // 13: ids of rules, alarms, silences, outbox and delivery-log rows are never reused
      // (AUTOINCREMENT; store/rule_store.h), so a silence, alarm or action row of a deleted rule
      // never names a later rule of another organisation. The tables are rebuilt with their rows
      // and ids; each sequence starts beyond every id still stored or still referenced (an
      // alarm's deleted rule, a delivery's deleted outbox row). Silences of a rule that is gone
      // or of another organisation, and of a device of another organisation, are dropped, and so
      // are alarms that a rule raised on another organisation's device before scopes were
      // organisation-first (they hold that organisation's readings).
      R"sql(
CREATE TABLE rules_v13(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  enabled INTEGER NOT NULL, definition TEXT NOT NULL, created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL);
INSERT INTO rules_v13 SELECT id, org_id, enabled, definition, created_ms, updated_ms FROM rules;
CREATE TABLE alarms_v13(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  rule_id INTEGER NOT NULL, device_id INTEGER NOT NULL, state TEXT NOT NULL,
  raised_ms INTEGER NOT NULL, doc TEXT NOT NULL);
INSERT INTO alarms_v13 SELECT id, org_id, rule_id, device_id, state, raised_ms, doc FROM alarms;
DELETE FROM alarms_v13
  WHERE EXISTS (SELECT 1 FROM devices d WHERE d.id = alarms_v13.device_id
                                          AND d.org_id <> alarms_v13.org_id);
CREATE TABLE silences_v13(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  device_id INTEGER, rule_id INTEGER, until_ms INTEGER NOT NULL, created_by TEXT NOT NULL,
  created_ms INTEGER NOT NULL);
INSERT INTO silences_v13 SELECT id, org_id, device_id, rule_id, until_ms, created_by, created_ms
  FROM silences;
DELETE FROM silences_v13
  WHERE (rule_id IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM rules r WHERE r.id = silences_v13.rule_id
                                   AND r.org_id = silences_v13.org_id))
     OR (device_id IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM devices d WHERE d.id = silences_v13.device_id
                                     AND d.org_id = silences_v13.org_id));
CREATE TABLE outbox_v13(
  id INTEGER PRIMARY KEY AUTOINCREMENT, org_id INTEGER NOT NULL, rule_id INTEGER NOT NULL,
  alarm_id INTEGER NOT NULL, event TEXT NOT NULL, target_key TEXT NOT NULL, spec TEXT NOT NULL,
  payload TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL, last_error TEXT NOT NULL, created_ms INTEGER NOT NULL);
INSERT INTO outbox_v13 SELECT id, org_id, rule_id, alarm_id, event, target_key, spec, payload,
  state, attempts, next_attempt_ms, last_error, created_ms FROM outbox;
CREATE TABLE delivery_log_v13(
  id INTEGER PRIMARY KEY AUTOINCREMENT, org_id INTEGER NOT NULL, outbox_id INTEGER NOT NULL,
  rule_id INTEGER NOT NULL, alarm_id INTEGER NOT NULL, target_key TEXT NOT NULL,
  action_type TEXT NOT NULL, attempt INTEGER NOT NULL, ts INTEGER NOT NULL, ok INTEGER NOT NULL,
  error TEXT NOT NULL);
INSERT INTO delivery_log_v13 SELECT id, org_id, outbox_id, rule_id, alarm_id, target_key,
  action_type, attempt, ts, ok, error FROM delivery_log;
DROP TABLE rules; DROP TABLE alarms; DROP TABLE silences; DROP TABLE outbox;
DROP TABLE delivery_log;
ALTER TABLE rules_v13 RENAME TO rules;
ALTER TABLE alarms_v13 RENAME TO alarms;
ALTER TABLE silences_v13 RENAME TO silences;
ALTER TABLE outbox_v13 RENAME TO outbox;
ALTER TABLE delivery_log_v13 RENAME TO delivery_log;
CREATE INDEX rules_org ON rules(org_id, id);
CREATE INDEX alarms_org ON alarms(org_id, id);
CREATE INDEX alarms_open ON alarms(rule_id, device_id, state);
CREATE INDEX outbox_pending ON outbox(state, id);
CREATE INDEX delivery_log_org ON delivery_log(org_id, id);
INSERT INTO sqlite_sequence(name, seq)
  SELECT t.name, 0 FROM (SELECT 'rules' AS name UNION ALL SELECT 'alarms' UNION ALL
                         SELECT 'outbox') t
  WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence q WHERE q.name = t.name);
UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(rule_id), 0) FROM alarms),
                                     (SELECT coalesce(max(rule_id), 0) FROM silences),
                                     (SELECT coalesce(max(rule_id), 0) FROM outbox),
                                     (SELECT coalesce(max(rule_id), 0) FROM delivery_log))
  WHERE name = 'rules';
UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(alarm_id), 0) FROM outbox),
                                     (SELECT coalesce(max(alarm_id), 0) FROM delivery_log))
  WHERE name = 'alarms';
UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(outbox_id), 0) FROM delivery_log))
  WHERE name = 'outbox';
)sql",
      // 14: invitations of an email address to an organisation (api/invitations.cc), and the API
      // key that created a key: revoking a key revokes the keys it created (ON DELETE CASCADE).
      R"sql(
CREATE TABLE invitations(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  email TEXT NOT NULL COLLATE NOCASE, role INTEGER NOT NULL, invited_by INTEGER NOT NULL,
  created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, UNIQUE(org_id, email));
CREATE INDEX invitations_email ON invitations(email);
ALTER TABLE api_keys ADD COLUMN created_by_key INTEGER REFERENCES api_keys(id) ON DELETE CASCADE;
CREATE INDEX api_keys_creator ON api_keys(created_by_key);
)sql",
      // 15: decoders (issue 15): a re-decode's errors and warnings (raw_decode.notes, encoded as
      // raw_log_codec.h EncodeDecodeNotes; raw_log rows carry them from format 2 on), the
      // contract each decoder version was saved with ('auto' = detected from the code), and the
      // object a downlink was encoded from.
      R"sql(
ALTER TABLE raw_decode ADD COLUMN notes BLOB NOT NULL DEFAULT x'';
ALTER TABLE decoder_versions ADD COLUMN contract TEXT NOT NULL DEFAULT 'auto';
ALTER TABLE downlinks ADD COLUMN object TEXT NOT NULL DEFAULT '';
)sql",
      // 16: data targets (issue 16, store/target_store.h): the share log (one row per group
      // commit and application, share_codec.h; no foreign key, so that a deleted application
      // never fails a commit: the delivery service prunes its rows), targets with their
      // cursors and sealed header values, dead letters and the delivery log.
      kDataTargetsSql,
      // 17: Open Data DK (issue 16): applications holding personal data (never published), and
      // the datasets an organisation publishes in its DCAT catalogue: an application or a
      // selection of devices (open_dataset_devices), with the DCAT metadata as JSON (`meta`:
      // title, description, keywords, themes, license, ..., and the keys shown).
      R"sql(
ALTER TABLE applications ADD COLUMN personal_data INTEGER NOT NULL DEFAULT 0;
CREATE TABLE open_datasets(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  app_id INTEGER REFERENCES applications(id) ON DELETE CASCADE,
  published INTEGER NOT NULL, meta TEXT NOT NULL, created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL, issued_ms INTEGER);
CREATE INDEX open_datasets_org ON open_datasets(org_id, id);
CREATE INDEX open_datasets_app ON open_datasets(app_id);
CREATE TABLE open_dataset_devices(
  dataset_id INTEGER NOT NULL REFERENCES open_datasets(id) ON DELETE CASCADE,
  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  PRIMARY KEY(dataset_id, device_id)) WITHOUT ROWID;
CREATE INDEX open_dataset_devices_device ON open_dataset_devices(device_id);
)sql",
      // 18: migration 16 again, for stores that recorded 16 while main held it reserved (between
      // the Open Data DK merge and the data targets'): a no-op where 16 created the tables.
      kDataTargetsSql,
      // 19: FIWARE NGSI-LD data targets keep their settings (secrets stay in password_sealed).
      "ALTER TABLE data_targets ADD COLUMN ngsild TEXT NOT NULL DEFAULT '';",
      // 20: erasure (issue 18, raw_erase.cc): the raw messages still to erase of deleted
      // devices, queued in the deleting transaction and worked off by the store's eraser.
      R"sql(
CREATE TABLE IF NOT EXISTS erasures(
  id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL, t_from INTEGER NOT NULL,
  t_to INTEGER NOT NULL, not_before_ms INTEGER NOT NULL);
)sql",
      // 21: SensorThings over MQTT: an API key may be a broker user (its Mosquitto hash). Added
      // only where missing: a store that replays later migrations (see 18) may have it.
      {"", AddApiKeyMqttHash},
      // 22: privacy by design (issue 18): an application's data class, retention and record of
      // processing (AddPrivacyColumns).
      {"SELECT 1;", AddPrivacyColumns},
      // 23: retention (issue 18, retention.cc): the hourly summaries of chunks whose readings
      // have expired, kept until the aggregates' retention (README.md "Retention").
      {kChunkHoursSql, nullptr},
      // 24: "erase a data subject" jobs and personal metadata keys (AddSubjectErasure).
      {"SELECT 1;", AddSubjectErasure},
      // 25: a device's location history (SensorThings HistoricalLocations, issue 17;
      // device_locations.h). AUTOINCREMENT: ids are never reused. Each device with a location
      // gets one entry timed at its creation whose id is the device id where that id is free,
      // so the HistoricalLocation and Location ids served before (the device id) keep answering.
      R"sql(
CREATE TABLE IF NOT EXISTS device_locations(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  time INTEGER NOT NULL, location TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS device_locations_device ON device_locations(device_id, id);
INSERT OR IGNORE INTO device_locations(id, device_id, time, location)
  SELECT d.id, d.id, d.created_ms,
         json_object('type', 'Point', 'coordinates', json_array(d.lon, d.lat))
  FROM devices d
  WHERE d.lat IS NOT NULL AND d.lon IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM device_locations h WHERE h.device_id = d.id);
INSERT INTO device_locations(device_id, time, location)
  SELECT d.id, d.created_ms,
         json_object('type', 'Point', 'coordinates', json_array(d.lon, d.lat))
  FROM devices d
  WHERE d.lat IS NOT NULL AND d.lon IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM device_locations h WHERE h.device_id = d.id);
)sql",
      // 26: an alarm awaiting acknowledgement after it cleared (AddAlarmAwaitingAck).
      {"SELECT 1;", AddAlarmAwaitingAck},
      // 27: dashboards a user composes and saves (issue 21 §4, store/dashboard_store.h): the
      // least role that sees one (model RoleCode) and its layout of widgets as JSON text.
      R"sql(
CREATE TABLE IF NOT EXISTS dashboards(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL, min_role INTEGER NOT NULL, layout TEXT NOT NULL,
  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS dashboards_org ON dashboards(org_id);
)sql",
      // 28: responsible contacts of applications and devices and each organisation's SMS
      // gateway (issue 20, store/contact_store.h); exactly one owner per contact.
      R"sql(
CREATE TABLE IF NOT EXISTS contacts(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  app_id INTEGER REFERENCES applications(id) ON DELETE CASCADE,
  device_id INTEGER REFERENCES devices(id) ON DELETE CASCADE,
  position INTEGER NOT NULL, name TEXT NOT NULL, email TEXT NOT NULL, phone TEXT NOT NULL,
  role TEXT NOT NULL,
  CHECK ((app_id IS NULL) <> (device_id IS NULL)));
CREATE INDEX IF NOT EXISTS contacts_app ON contacts(app_id, position);
CREATE INDEX IF NOT EXISTS contacts_device ON contacts(device_id, position);
CREATE TABLE IF NOT EXISTS sms_gateways(
  org_id INTEGER PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
  config TEXT NOT NULL, secret_sealed TEXT NOT NULL, updated_ms INTEGER NOT NULL);
)sql",
      // 29: a membership's role on some applications only (AddMembershipScope).
      {"SELECT 1;", AddMembershipScope},
      // 30: LoRaWAN gateway health (issue 20, store/gateway_store.h): each gateway's state and
      // location from ChirpStack's gateway events, its online/offline transitions, its stats
      // summed per hour, and the devices it hears (from the rxInfo of uplinks).
      R"sql(
CREATE TABLE IF NOT EXISTS gateway_health(
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  gateway_id TEXT NOT NULL, online INTEGER, state_ms INTEGER, last_event_ms INTEGER,
  latitude REAL, longitude REAL, altitude REAL,
  PRIMARY KEY(org_id, gateway_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gateway_states(
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  gateway_id TEXT NOT NULL, ts INTEGER NOT NULL, online INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS gateway_states_gw ON gateway_states(org_id, gateway_id, ts);
CREATE INDEX IF NOT EXISTS gateway_states_ts ON gateway_states(ts);
CREATE TABLE IF NOT EXISTS gateway_stats_hourly(
  org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  gateway_id TEXT NOT NULL, hour_ms INTEGER NOT NULL, rx_received INTEGER NOT NULL,
  rx_received_ok INTEGER NOT NULL, tx_received INTEGER NOT NULL, tx_emitted INTEGER NOT NULL,
  PRIMARY KEY(org_id, gateway_id, hour_ms)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS gateway_stats_hourly_hour ON gateway_stats_hourly(hour_ms);
CREATE TABLE IF NOT EXISTS gateway_devices(
  org_id INTEGER NOT NULL, gateway_id TEXT NOT NULL,
  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  rssi REAL, snr REAL, last_seen_ms INTEGER NOT NULL, uplinks INTEGER NOT NULL,
  PRIMARY KEY(org_id, gateway_id, device_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS gateway_devices_device ON gateway_devices(device_id);
CREATE INDEX IF NOT EXISTS lorawan_gateways_id ON lorawan_gateways(gateway_id);
)sql",
      // 31: a dashboard shared with one application (AddDashboardApplication).
      {"SELECT 1;", AddDashboardApplication},
      // 32: an invitation to some applications only (AddInvitationScope).
      {"SELECT 1;", AddInvitationScope},
      // 33: a public dashboard (AddDashboardPublished).
      {"SELECT 1;", AddDashboardPublished},
      // 34: the gateway of a gateway rule's alarm (AddAlarmGateway; re-checked after the list).
      {"SELECT 1;", AddAlarmGateway},
      // 35: CoAP DTLS pre-shared keys of devices (store/coap_credential_store.h); the key sealed.
      R"sql(
CREATE TABLE IF NOT EXISTS coap_credentials(
  device_id INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
  identity TEXT NOT NULL UNIQUE, sealed_key TEXT NOT NULL, created_ms INTEGER NOT NULL);
)sql",
      // 36: LwM2M registrations (one per device) and server-initiated operations
      // (store/lwm2m_store.h, lwm2m/).
      R"sql(
CREATE TABLE IF NOT EXISTS lwm2m_registrations(
  device_id INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
  registration_id TEXT NOT NULL UNIQUE, endpoint TEXT NOT NULL, lifetime_s INTEGER NOT NULL,
  binding TEXT NOT NULL, queue_mode INTEGER NOT NULL, version TEXT NOT NULL,
  objects TEXT NOT NULL, registered_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS lwm2m_operations(
  id INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  kind TEXT NOT NULL, path TEXT NOT NULL, value TEXT NOT NULL, state TEXT NOT NULL,
  result_code INTEGER NOT NULL DEFAULT 0, result_payload TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS lwm2m_operations_device ON lwm2m_operations(device_id, id);
CREATE INDEX IF NOT EXISTS lwm2m_operations_open ON lwm2m_operations(state, id);
)sql",
      // 37: the queued downlinks of CoAP devices, found at each of their uplinks
      // (MqttStore::TakeQueuedDownlink).
      R"sql(
CREATE INDEX IF NOT EXISTS downlinks_queued ON downlinks(device_id, topic, id)
  WHERE status = 'queued';
)sql",
      // 38: the LwM2M observations the CoAP server holds (store/lwm2m_store.h, lwm2m/).
      R"sql(
CREATE TABLE IF NOT EXISTS lwm2m_observations(
  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  path TEXT NOT NULL, since_ms INTEGER NOT NULL, notifications INTEGER NOT NULL DEFAULT 0,
  last_ms INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(device_id, path));
)sql",
      // 39: outbox claims, one sender per row (AddOutboxClaims; re-checked after the list).
      {"SELECT 1;", AddOutboxClaims},
      // 40: the process running a job (AddJobNode).
      {"SELECT 1;", AddJobNode},
      // 41: for-duration waits in progress (RuleStore::ListRuleWaits, rule_waits.cc): a restart
      // goes on waiting from `since_ms`. Gone with the rule or the device.
      R"sql(
CREATE TABLE IF NOT EXISTS rule_waits(
  rule_id INTEGER NOT NULL REFERENCES rules(id) ON DELETE CASCADE,
  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  since_ms INTEGER NOT NULL,
  PRIMARY KEY(rule_id, device_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rule_waits_device ON rule_waits(device_id);
)sql",
      // 42: gateways seen through bysans' own broker (AddGatewaySeenLocally).
      {"SELECT 1;", AddGatewaySeenLocally},
      // 43: a device's open LwM2M operations (Lwm2mStore::OpenOperations, the cap of
      // AddOperation) found without reading its finished ones.
      R"sql(
CREATE INDEX IF NOT EXISTS lwm2m_operations_device_open ON lwm2m_operations(device_id, id)
  WHERE state IN ('queued', 'sent');
)sql",
      // 44: finished LwM2M operations by age (Lwm2mStore::DeleteFinishedOperations).
      R"sql(
CREATE INDEX IF NOT EXISTS lwm2m_operations_finished ON lwm2m_operations(updated_ms)
  WHERE state IN ('done', 'failed');
)sql",
      // 45: an organisation's own limit of devices (AddOrganizationMaxDevices).
      {"SELECT 1;", AddOrganizationMaxDevices},
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
    Status s = db.Exec(list[i].sql);
    if (s.ok() && list[i].then != nullptr) s = list[i].then(db);
    if (!s.ok()) return Internal("migration " + std::to_string(version) + ": " + s.message());
    {
      BYSANS_ASSIGN_OR_RETURN(auto ins, db.Prepare("INSERT INTO schema_version VALUES(?, ?)"));
      BYSANS_RETURN_IF_ERROR(ins->Bind(1, version).Bind(2, now_ms).Run());
    }
    BYSANS_RETURN_IF_ERROR(txn.Commit());
    ++applied;
  }
  BYSANS_RETURN_IF_ERROR(db.Exec(kChunkHoursSql));
  // Also after the list: a store that re-runs migration 13 (which rebuilds the alarms table)
  // after 26 was recorded.
  BYSANS_RETURN_IF_ERROR(AddAlarmAwaitingAck(db));
  BYSANS_RETURN_IF_ERROR(AddAlarmGateway(db));
  BYSANS_RETURN_IF_ERROR(AddOutboxClaims(db));
  return applied;
}

}  // namespace bysans::sqlite
