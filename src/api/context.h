// What every API handler may use. Built once by server/ and passed by
// reference; handlers stay thin: parse, check auth, call a module, answer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/audit_throttle.h"
#include "api/read_audit_counter.h"
#include "auth/auth.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "core/random.h"
#include "http/router.h"
#include "ingest/device_cache.h"
#include "model/retention.h"
#include "pipeline/pipeline.h"
#include "sta/entity_changes.h"
#include "store/store.h"

namespace bysans::api {

struct ApiContext {
  Store& store;
  auth::Authenticator& auth;
  const Clock& clock;
  Random& random;
  Metrics& metrics;
  pipeline::Pipeline& pipeline;  // every uplink goes through it
  // http.metrics_token: when set, GET /metrics needs "Authorization: Bearer <token>".
  std::string metrics_token;
  // http.public_url: scheme://host[:port] of the open-data catalogue's links (api/open_data*.cc);
  // empty = from the request's Host header.
  std::string public_url;
  // decode.max_timeout_ms: an organisation admin sets decoderTimeoutMs up to this; only a global
  // admin goes above it (api/organizations.cc).
  int64_t decoder_max_timeout_ms = 1000;
  // limits.*: what an organisation may have (api/org_limits.h); devices unless a global admin
  // gave it its own maxDevices.
  struct OrgLimits {
    int64_t devices = 10'000;
    int64_t data_targets = 100;
    int64_t integrations = 20;
    int64_t rules = 1000;
    int64_t silences = 10'000;  // in force
    int64_t dashboards = 1000;
    int64_t datasets = 100;
    int64_t applications = 1000;
  };
  OrgLimits limits;
  // This process's node lease holder (server/node_coordinator.h): recorded with the jobs it runs.
  std::string node_holder;
  // retention.*: the server's default retention per data class (model/retention.h).
  RetentionDefaults retention_defaults = RetentionDefaults::Builtin();
  // Reads of personal data: one audit entry per (caller, route, object) and minute, with the
  // count of the reads it stands for (api/privacy_audit.h).
  std::shared_ptr<ReadAuditCounter> personal_reads = std::make_shared<ReadAuditCounter>();
  // The server's data directory (api/org_export.cc keeps export archives under exports/ and
  // copies bysans.db from here); empty = exports and imports answer 503.
  std::string data_dir;
  // Export archives older than this are deleted (api/org_export.cc).
  int64_t export_keep_ms = int64_t{7} * 86'400'000;
  // Free space an export must leave on the data directory's file system, besides what it
  // writes (export.free_space_reserve_mb): ingest, the WAL and the archive need room, and a full
  // disk stops every tenant's ingest. An export that would leave less is refused (503).
  uint64_t export_reserve_bytes = uint64_t{1} << 30;
  // SensorThings over MQTT (server/sta_mqtt.h): the broker's URL, listed in the service root's
  // serverSettings with its conformance classes; empty when not served (an external broker).
  std::string sta_mqtt_url;
  // Called after a Thing (device) or Datastream (series) was created or changed through the API
  // (api/devices.cc, api/sta_datastreams.cc); server/sta_mqtt.h publishes the notifications
  // (A.8). Unset = nobody listens. Must not block: it runs on the request's thread.
  sta::EntityChangeHook on_entity_change;
  // One "denied" audit entry per (caller, organisation) and minute.
  std::shared_ptr<AuditThrottle> denied_audits = std::make_shared<AuditThrottle>();
  // HTTP ingest's device keys (api/ingest.cc); a rotated or deleted device is forgotten at once
  // (api/devices.cc).
  std::shared_ptr<ingest::DeviceKeyCache> ingest_keys =
      std::make_shared<ingest::DeviceKeyCache>(store, clock);
};

// Each file under api/ registers its own routes.
void RegisterAllRoutes(http::Router& router, ApiContext& ctx);

}  // namespace bysans::api

namespace bysans::api {
// Route groups, one per file (api/<group>.cc). RegisterAllRoutes calls them all.
void RegisterSystemRoutes(http::Router& router, ApiContext& ctx);  // healthz, metrics, openapi
void RegisterAuthRoutes(http::Router& router, ApiContext& ctx);    // login, logout, me
void RegisterOrganizationRoutes(http::Router& router, ApiContext& ctx);  // orgs, memberships
void RegisterInvitationRoutes(http::Router& router, ApiContext& ctx);    // invite, accept
void RegisterApplicationRoutes(http::Router& router, ApiContext& ctx);
void RegisterDeviceRoutes(http::Router& router, ApiContext& ctx);
void RegisterCoapCredentialRoutes(http::Router& router, ApiContext& ctx);  // coap_credentials.cc
void RegisterLwm2mRoutes(http::Router& router, ApiContext& ctx);           // lwm2m.cc
void RegisterDeviceModelRoutes(http::Router& router, ApiContext& ctx);
void RegisterUserRoutes(http::Router& router, ApiContext& ctx);
void RegisterApiKeyRoutes(http::Router& router, ApiContext& ctx);
void RegisterAuditRoutes(http::Router& router, ApiContext& ctx);
void RegisterAuditExportRoutes(http::Router& router, ApiContext& ctx);         // CSV/JSON (admins)
void RegisterRecordOfProcessingRoutes(http::Router& router, ApiContext& ctx);  // GDPR art. 30
void RegisterIngestRoutes(http::Router& router, ApiContext& ctx);    // receive-data (api/ingest.cc)
void RegisterReadingRoutes(http::Router& router, ApiContext& ctx);   // readings, latest, messages
void RegisterDecoderRoutes(http::Router& router, ApiContext& ctx);   // decoders, jobs
void RegisterRuleRoutes(http::Router& router, ApiContext& ctx);      // rules, dry run, silences
void RegisterAlarmRoutes(http::Router& router, ApiContext& ctx);     // alarms, ack/clear/comment
void RegisterActionRoutes(http::Router& router, ApiContext& ctx);    // action delivery log
void RegisterOpenDataRoutes(http::Router& router, ApiContext& ctx);  // dataset definitions
// The public Open Data DK catalogue and distributions (no login; api/open_data_public.cc).
void RegisterOpenDataPublicRoutes(http::Router& router, ApiContext& ctx);
// OGC SensorThings API 1.1, read side (api/sta.cc, sta/README.md).
void RegisterStaRoutes(http::Router& router, ApiContext& ctx);
// Its write side: creating Observations through the ingest pipeline (api/sta_write.cc).
void RegisterStaWriteRoutes(http::Router& router, ApiContext& ctx);
// Export and import of an organisation (api/org_export.cc, archive/README.md).
void RegisterOrgExportRoutes(http::Router& router, ApiContext& ctx);
// "Erase a data subject" jobs (api/subject_erasure_routes.cc).
void RegisterSubjectErasureRoutes(http::Router& router, ApiContext& ctx);
// Saved dashboards (api/dashboards.cc).
void RegisterDashboardRoutes(http::Router& router, ApiContext& ctx);
// Public dashboards, read without login (api/dashboard_public.cc).
void RegisterDashboardPublicRoutes(http::Router& router, ApiContext& ctx);
// Responsible contacts of applications and devices (api/contacts.cc).
void RegisterContactRoutes(http::Router& router, ApiContext& ctx);
// api/gateways.cc: LoRaWAN gateway health.
void RegisterGatewayRoutes(http::Router& router, ApiContext& ctx);
}  // namespace bysans::api
