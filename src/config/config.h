// Settings of a bysans process: defaults, then a TOML file, then BYSANS_*
// environment variables, then command-line flags (each overriding the last).
// A bad or missing setting is reported as one line naming it; main() exits 2.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/status.h"

namespace bysans {

struct Config {
  std::string data_dir = "data";

  std::string http_address = "127.0.0.1";
  int http_port = 8080;  // 0 = any free port
  int http_threads = 2;
  int64_t http_body_limit = 256 * 1024;
  std::string tls_cert_file;
  std::string tls_key_file;
  // CIDR blocks / addresses of reverse proxies whose X-Forwarded-For names the client (for the
  // login rate limit and the audit address); empty = the header is ignored.
  std::string http_trusted_proxies;
  int http_max_connections = 1024;       // beyond it new connections are closed at once
  int http_stream_write_timeout_s = 60;  // an event stream that cannot write this long is closed
  std::string http_metrics_token;        // set: /metrics needs "Authorization: Bearer <token>"
  // scheme://host[:port] where the public reaches bysans: the open-data catalogue's links.
  // Empty = taken from the request's Host header.
  std::string http_public_url;

  std::string log_format = "text";  // text | json
  std::string log_level = "info";   // trace debug info warn error

  std::string web_dir;  // built UI (web/dist); empty = look next to the binary / source tree
  std::string web_tile_url = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";  // map tiles
  // Address search for device locations (act/geocode.h): "{q}" is the text; empty = off. DAWA,
  // the Danish address web API; a Nominatim or GeoJSON geocoder works too.
  std::string web_geocoder_url =
      "https://api.dataforsyningen.dk/adgangsadresser?struktur=mini&per_side=8&q={q}";

  int64_t session_ttl_s = 12 * 3600;
  int login_attempts_per_minute = 10;  // per client address
  int login_free_failures = 5;         // per account, before each attempt waits 2, 4, 8, ... s
  int64_t login_max_delay_s = 900;     // the longest such wait
  int64_t stream_recheck_s = 30;       // open streams re-check their credentials this often

  int mqtt_port = 1883;                     // supervised broker (issue 3)
  std::string mqtt_url;                     // external broker instead of the supervised one
  std::string mqtt_client_id = "bysans-1";  // mqtt.url only (supervised: random)
  // Several nodes on one broker (issue 19): the nodes subscribe as this shared-subscription group
  // ($share/<group>/…), so each message goes to one of them. Empty = a plain subscription.
  std::string mqtt_shared_group;
  std::string mqtt_bind_address = "127.0.0.1";  // supervised broker's listener

  // Several nodes on one PostgreSQL (issue 19, server/node_coordinator.h): this node's name among
  // them, unique per node. Empty = the machine's host name.
  std::string node_id;

  // CoAP ingest for NB-IoT devices (src/coap/README.md): off unless enabled, loopback by default
  // like the other listeners; port 0 = any free port (written to <data_dir>/coap.url).
  bool coap_enabled = false;
  std::string coap_bind = "127.0.0.1";
  int coap_udp_port = 5683;
  int coap_dtls_port = 5684;    // DTLS with per-device PSKs; -1 = no DTLS endpoint
  int coap_max_payload = 1024;  // bytes; one datagram, no block-wise transfer
  // LwM2M queue mode (src/lwm2m/README.md): how long after a queue-mode device spoke its pending
  // operations are still sent.
  int coap_lwm2m_awake_ms = 30'000;
  // LwM2M operations (src/lwm2m/README.md): one still queued (or sent and unanswered) this long
  // fails as expired.
  int coap_lwm2m_operation_expiry_s = 86'400;
  // LwM2M operations: a finished one is deleted this many days after it finished.
  int coap_lwm2m_operation_history_days = 30;
  // LwM2M Observe (src/lwm2m/README.md): observe registered sensor objects, notifications →
  // readings.
  bool coap_lwm2m_observe = true;
  // Paths one LwM2M device may have observed through the API at once.
  int coap_lwm2m_max_api_observations = 256;
  int coap_piggyback_ms = 100;
  // Idle CoAP sessions kept (coap/server.h CoapOptions::max_idle_sessions).
  int coap_max_idle_sessions = 20'000;  // a commit within this long is answered on the ACK

  // Outbound-address policy (core/outbound_policy.h): CIDR blocks that webhooks, e-mail and
  // third-party MQTT brokers may reach besides public addresses (comma-separated; a TOML
  // array also works). Link-local/metadata, multicast and 0.0.0.0/8 are never reached.
  std::string outbound_allow;

  // Under load, commits of MQTT messages start at most this often (store/sqlite/sqlite_store.h
  // group_commit_interval_us): more messages share one fdatasync, for up to this much latency.
  int store_commit_interval_ms = 5;
  int store_writers = 2;  // PostgreSQL: group-commit writers in parallel
  // The store: empty = the embedded SQLite database in data_dir; postgresql://… = PostgreSQL 15
  // (issue 19; src/store/postgres/README.md, docs/SCALE.md). Holds the password when the URL
  // does: never logged (RedactedUrl).
  std::string store_url;

  // Payload decoders (decode/, pipeline/): decode workers shared fairly by organisations; the
  // cap on an organisation's decoderTimeoutMs that only a global admin may exceed; the longest
  // decode backlog an organisation may have before its uplinks are stored raw; how long a
  // message whose decode was in flight when the process died stays quarantined.
  int decode_threads = 2;
  // Keys one device may have (pipeline/device_key_limit.h).
  int ingest_max_keys_per_device = 1000;
  // The pipeline's in-flight window (uplinks between receipt and commit) and one organisation's
  // share of it (pipeline/org_window.h; 0 = a quarter of the window).
  int64_t ingest_max_in_flight = 65536;
  int64_t ingest_max_in_flight_per_org = 0;
  int64_t limits_max_devices_per_org = 10'000;
  int64_t limits_max_data_targets_per_org = 100;
  int64_t limits_max_integrations_per_org = 20;
  int64_t limits_max_rules_per_org = 1000;
  int64_t limits_max_silences_per_org = 10'000;
  int64_t limits_max_dashboards_per_org = 1000;
  int64_t limits_max_datasets_per_org = 100;
  int64_t limits_max_applications_per_org = 1000;
  // Free space an organisation export must leave on the data directory's file system
  // (api/org_export.cc): refused with 503 otherwise.
  int64_t export_free_space_reserve_mb = 1024;
  int64_t decode_max_timeout_ms = 1000;
  int64_t decode_max_backlog_s = 60;
  int64_t decode_quarantine_ttl_s = 7 * 86400;

  // Default retention in days per data class of an application whose own setting is null
  // (model/retention.h; 0 = kept for ever): raw messages and readings per class, hourly
  // aggregates one value for every class.
  // audit.retention_days: audit entries older than this are deleted (server/housekeeping.h);
  // 0 = kept for ever.
  int audit_retention_days = 1825;
  int retention_sensitive_raw_days = 30;
  int retention_sensitive_readings_days = 90;
  int retention_personal_raw_days = 90;
  int retention_personal_readings_days = 365;
  int retention_pseudonymous_raw_days = 0;
  int retention_pseudonymous_readings_days = 0;
  int retention_none_raw_days = 0;
  int retention_none_readings_days = 0;
  int retention_aggregates_days = 3650;

  std::string admin_email;     // first admin, created when no user exists
  std::string admin_password;  // generated and printed once when empty

  bool demo = false;        // seed "Demo Kommune" and run the simulator
  int demo_interval_s = 5;  // simulator period
};

// One setting's textual value and where it came from (for error messages).
struct SettingSource {
  std::string value;
  std::string origin;  // "config file x.toml", "environment BYSANS_HTTP_PORT", "flag --http-port"
};

// Names of every setting, in dotted form ("http.port"), and the matching
// environment variable name ("BYSANS_HTTP_PORT").
std::string EnvNameOf(const std::string& dotted);

// Builds a Config: defaults ← file (if config_file non-empty; must exist) ←
// environment (BYSANS_*; `env` is injected for tests) ← flags (dotted name →
// value). An error names the setting, the bad value and where it came from.
Result<Config> LoadConfig(const std::string& config_file,
                          const std::map<std::string, std::string>& env,
                          const std::map<std::string, std::string>& flags);

// The process environment as a map (only BYSANS_* entries).
std::map<std::string, std::string> BysansEnvironment();

}  // namespace bysans
