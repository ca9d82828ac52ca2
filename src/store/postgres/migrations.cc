#include "store/postgres/migrations.h"

#include <algorithm>
#include <pqxx/pqxx>

#include "store/postgres/pool.h"
#include "store/postgres/schema.h"
#include "store/postgres/sql_text.h"

namespace bysans::pg {

const std::vector<std::string>& Migrations() {
  static const std::vector<std::string> kList = {
      // 1: series, readings partitioned by month, hourly rollups, raw messages.
      R"sql(
CREATE TABLE IF NOT EXISTS series (
  id bigserial PRIMARY KEY,
  device_id bigint NOT NULL,  -- no foreign key: there is no MetaStore on PostgreSQL yet
  key text NOT NULL,
  unit text NOT NULL DEFAULT '',
  latest_ts bigint,           -- newest reading, kept by the writer (NULL: none yet)
  latest_kind smallint,
  latest_num double precision,
  latest_txt text,
  latest_quality smallint,
  UNIQUE (device_id, key)
) WITH (fillfactor = 70);
CREATE TABLE IF NOT EXISTS readings (
  series_id bigint NOT NULL,
  ts bigint NOT NULL,
  kind smallint NOT NULL,          -- 0 number, 1 text, 2 bool
  num double precision NOT NULL,   -- the number, or the bool as 0/1
  txt text NOT NULL DEFAULT '',    -- the text value
  quality smallint NOT NULL,
  PRIMARY KEY (series_id, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS readings_hourly (
  series_id bigint NOT NULL,
  hour bigint NOT NULL,
  n bigint NOT NULL,
  mn double precision NOT NULL,
  mx double precision NOT NULL,
  sm double precision NOT NULL,
  PRIMARY KEY (series_id, hour)
);
CREATE TABLE IF NOT EXISTS raw_messages (
  id bigserial PRIMARY KEY,
  device_id bigint NOT NULL,
  received_ms bigint NOT NULL,
  transport smallint NOT NULL,
  content_type text NOT NULL,
  payload bytea NOT NULL,
  decode_status smallint NOT NULL,
  decode_error text NOT NULL,
  decode_notes text NOT NULL DEFAULT '',  -- JSON {"errors":[…],"warnings":[…]} or ''
  dedup_key text UNIQUE
);
CREATE INDEX IF NOT EXISTS raw_messages_device_time ON raw_messages (device_id, received_ms, id);
)sql",
      // 2: room on the rollup pages for HOT updates (the writer updates an hour's row once per
      // group commit; without free space every update also inserted into the primary key).
      R"sql(
ALTER TABLE readings_hourly SET (fillfactor = 70);
)sql",
      MetaSchema(),             // 3
      RulesSchema(),            // 4
      MqttSchema(),             // 5
      DashboardsSchema(),       // 6
      ContactsSchema(),         // 7
      OpenDataSchema(),         // 8
      CoapCredentialsSchema(),  // 9
      Lwm2mSchema(),            // 10
      TargetsSchema(),          // 11
      DeviceErasuresSchema(),   // 12
      SubjectErasuresSchema(),  // 13
      LeasesSchema(),           // 14
      RuleFeedSchema(),         // 15
      JobNodeSchema(),          // 16
      RuleWaitsSchema(),        // 17
      // 18: each device's latest values in one row (pg_latest_values.h), read by Latest as one
      // row per device instead of one per series; the series' own latest columns go. The text
      // form is latest_row.h's: keys in byte order (COLLATE "C"), lengths in bytes.
      R"sql(
CREATE SEQUENCE IF NOT EXISTS device_latest_version;
CREATE TABLE IF NOT EXISTS device_latest (
  device_id bigint PRIMARY KEY,
  version bigint NOT NULL DEFAULT nextval('device_latest_version'),
  vals text NOT NULL
) WITH (fillfactor = 50);
INSERT INTO device_latest (device_id, vals)
SELECT device_id, string_agg(
    octet_length(key) || ':' || key || ' ' || latest_ts || ' ' || latest_kind || ' ' ||
    latest_num::text || ' ' || latest_quality || ' ' || octet_length(unit) || ':' || unit || ' ' ||
    octet_length(coalesce(latest_txt, '')) || ':' || coalesce(latest_txt, '') || E'\n',
    '' ORDER BY key COLLATE "C")
FROM series WHERE latest_ts IS NOT NULL GROUP BY device_id;
ALTER TABLE series DROP COLUMN latest_ts, DROP COLUMN latest_kind, DROP COLUMN latest_num,
  DROP COLUMN latest_txt, DROP COLUMN latest_quality;
)sql",
      // 19: who claimed an outbox row (RuleStore::SetOutboxHolder): a claim of a holder whose node
      // lease is no longer running counts as ended. '' = unknown (rows from before).
      R"sql(
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claimed_by text NOT NULL DEFAULT '';
)sql",
      PackedRuleFeedMigration(),      // 20
      GatewaySeenLocallyMigration(),  // 21
      Lwm2mOpenByDeviceMigration(),   // 22
      // 23: the latest readings that do not fit a device's packed row (latest_row.h), one row per
      // series, so that a device's row stays small whatever its values or number of keys.
      R"sql(
CREATE TABLE IF NOT EXISTS series_latest (
  series_id bigint PRIMARY KEY REFERENCES series (id) ON DELETE CASCADE,
  device_id bigint NOT NULL,
  ts bigint NOT NULL,
  kind smallint NOT NULL,
  num double precision NOT NULL,
  txt text NOT NULL,
  quality smallint NOT NULL
);
CREATE INDEX IF NOT EXISTS series_latest_device ON series_latest (device_id);
)sql",
      Lwm2mFinishedMigration(),  // 24
      // 25: more room on device_latest's pages for HOT updates. Each group commit rewrites its
      // devices' rows while the other writer's transaction still sees their older versions, so at
      // fill factor 50 a page's free space was often too small for the new version: it went to
      // another page, and the table grew with the updates (10,546 pages for 10,000 rows after 20 M
      // readings, all read by a Latest of those devices).
      R"sql(
ALTER TABLE device_latest SET (fillfactor = 20);
)sql",
      // 26: an organisation's own limit of devices (NULL: the server's default).
      R"sql(
ALTER TABLE organizations ADD COLUMN IF NOT EXISTS max_devices bigint;
)sql",
      RuleFeedByOrganisationMigration(),  // 27
  };
  return kList;
}

Result<int> ApplyMigrations(const std::string& url, int upto) {
  try {
    pqxx::connection c(url);
    pqxx::work w(c);
    w.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
    w.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
        "applied_at timestamptz NOT NULL DEFAULT now())");
    const int have =
        w.exec("SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0].as<int>();
    const auto& list = Migrations();
    if (have > static_cast<int>(list.size()))
      return FailedPrecondition("the PostgreSQL schema is at version " + std::to_string(have) +
                                ", newer than this bysans knows (" + std::to_string(list.size()) +
                                "): upgrade bysans");
    const size_t last = upto > 0 ? std::min(list.size(), static_cast<size_t>(upto)) : list.size();
    for (size_t v = static_cast<size_t>(have) + 1; v <= last; ++v) {
      w.exec(list[v - 1]);
      w.exec_params("INSERT INTO schema_migrations (version) VALUES ($1)", static_cast<int>(v));
    }
    w.commit();
    return std::max(have, static_cast<int>(last));
  } catch (const std::exception& e) {
    // Unreachable, or starting up or shutting down: a node waiting for its database retries.
    if (Transient(e))
      return Unavailable("PostgreSQL unreachable at " + RedactedUrl(url) + ": " + e.what());
    return Internal(std::string("PostgreSQL migration failed: ") + e.what());
  }
}

}  // namespace bysans::pg
