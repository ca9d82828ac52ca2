#include "api/openapi.h"

#include <string_view>

namespace bysans::api {
namespace {

using json = nlohmann::json;

struct Op {
  std::string_view method;
  std::string_view pattern;
  std::string_view request;   // component schema name, "" = no body
  std::string_view response;  // component name, "list:<name>" = paged list, "" = no body
  int status;
};

// One row per route registered by the route groups.
constexpr Op kOps[] = {
    {"GET", "/healthz", "", "Health", 200},
    {"GET", "/metrics", "", "", 200},
    {"GET", "/api/openapi.json", "", "", 200},
    {"POST", "/api/v1/auth/login", "LoginRequest", "Me", 200},
    {"POST", "/api/v1/auth/logout", "", "", 204},
    {"GET", "/api/v1/auth/me", "", "Me", 200},
    {"POST", "/api/v1/organizations", "OrganizationInput", "Organization", 201},
    {"GET", "/api/v1/organizations", "", "list:Organization", 200},
    {"GET", "/api/v1/organizations/{orgId}", "", "Organization", 200},
    {"PATCH", "/api/v1/organizations/{orgId}", "OrganizationInput", "Organization", 200},
    {"DELETE", "/api/v1/organizations/{orgId}", "", "", 204},
    {"GET", "/api/v1/organizations/{orgId}/members", "", "list:Member", 200},
    {"GET", "/api/v1/organizations/{orgId}/members/{userId}", "", "Member", 200},
    {"PUT", "/api/v1/organizations/{orgId}/members/{userId}", "RoleInput", "Member", 200},
    {"DELETE", "/api/v1/organizations/{orgId}/members/{userId}", "", "", 204},
    {"POST", "/api/v1/organizations/{orgId}/invitations", "InvitationInput", "Invitation", 201},
    {"GET", "/api/v1/organizations/{orgId}/invitations", "", "list:Invitation", 200},
    {"DELETE", "/api/v1/organizations/{orgId}/invitations/{invitationId}", "", "", 204},
    {"GET", "/api/v1/me/invitations", "", "list:Invitation", 200},
    {"POST", "/api/v1/me/invitations/{invitationId}/accept", "", "Membership", 200},
    {"POST", "/api/v1/me/invitations/{invitationId}/decline", "", "", 204},
    {"POST", "/api/v1/organizations/{orgId}/applications", "ApplicationInput", "Application", 201},
    {"GET", "/api/v1/organizations/{orgId}/applications", "", "list:Application", 200},
    {"GET", "/api/v1/applications/{appId}", "", "Application", 200},
    {"PATCH", "/api/v1/applications/{appId}", "ApplicationInput", "Application", 200},
    {"DELETE", "/api/v1/applications/{appId}", "", "", 204},
    {"POST", "/api/v1/applications/{appId}/devices", "DeviceInput", "DeviceCreated", 201},
    {"GET", "/api/v1/applications/{appId}/devices", "", "list:Device", 200},
    {"GET", "/api/v1/organizations/{orgId}/devices", "", "list:Device", 200},
    {"GET", "/api/v1/devices/{id}", "", "Device", 200},
    {"PATCH", "/api/v1/devices/{id}", "DeviceInput", "Device", 200},
    {"DELETE", "/api/v1/devices/{id}", "", "", 204},
    {"POST", "/api/v1/devices/{id}/rotate-key", "", "DeviceKey", 200},
    // api/coap_credentials.cc: CoAP DTLS PSK (issue 20); 201 when created, 200 when rotated.
    {"POST", "/api/v1/devices/{id}/coap-credentials", "CoapCredentialInput",
     "CoapCredentialCreated", 201},
    {"GET", "/api/v1/devices/{id}/coap-credentials", "", "CoapCredential", 200},
    {"DELETE", "/api/v1/devices/{id}/coap-credentials", "", "", 204},
    // api/lwm2m.cc: LwM2M registration and queued operations (issue 20, lwm2m/).
    {"GET", "/api/v1/devices/{id}/lwm2m", "", "Lwm2mRegistration", 200},
    {"POST", "/api/v1/devices/{id}/lwm2m/operations", "Lwm2mOperationInput", "Lwm2mOperation", 201},
    {"GET", "/api/v1/devices/{id}/lwm2m/operations", "", "list:Lwm2mOperation", 200},
    {"POST", "/api/v1/organizations/{orgId}/device-models", "DeviceModelDoc", "DeviceModel", 201},
    {"GET", "/api/v1/organizations/{orgId}/device-models", "", "list:DeviceModel", 200},
    {"GET", "/api/v1/device-models/{id}", "", "DeviceModel", 200},
    {"PATCH", "/api/v1/device-models/{id}", "DeviceModelDoc", "DeviceModel", 200},
    {"DELETE", "/api/v1/device-models/{id}", "", "", 204},
    {"POST", "/api/v1/users", "UserInput", "User", 201},
    {"GET", "/api/v1/users", "", "list:User", 200},
    {"GET", "/api/v1/users/{userId}", "", "User", 200},
    {"PATCH", "/api/v1/users/{userId}", "UserPatch", "User", 200},
    {"DELETE", "/api/v1/users/{userId}", "", "", 204},
    {"POST", "/api/v1/organizations/{orgId}/api-keys", "ApiKeyInput", "ApiKeyCreated", 201},
    {"GET", "/api/v1/organizations/{orgId}/api-keys", "", "list:ApiKey", 200},
    {"DELETE", "/api/v1/api-keys/{id}", "", "", 204},
    {"POST", "/api/v1/api-keys/{id}/rotate", "", "ApiKeyCreated", 200},
    {"GET", "/api/v1/audit", "", "list:AuditEntry", 200},
    {"GET", "/api/v1/organizations/{orgId}/audit/export", "", "AuditExport", 200},
    {"GET", "/api/v1/organizations/{orgId}/record-of-processing", "", "RecordOfProcessing", 200},
    // api/ingest.cc and api/readings.cc.
    {"POST", "/api/v1/receive-data", "DevicePayload", "", 204},
    {"GET", "/api/v1/devices/{id}/readings", "", "Readings", 200},
    {"GET", "/api/v1/devices/{id}/keys", "", "Keys", 200},
    {"GET", "/api/v1/devices/{id}/latest", "", "Readings", 200},
    {"GET", "/api/v1/devices/{id}/messages", "", "Messages", 200},
    // api/integrations.cc (LoRaWAN onboarding).
    {"GET", "/api/v1/organizations/{orgId}/lorawan/gateways", "", "", 200},
    {"GET", "/api/v1/lorawan/unknown-devices", "", "", 200},
    {"GET", "/api/v1/organizations/{orgId}/lorawan/unknown-devices", "", "UnknownDevices", 200},
    // api/integrations.cc: third-party MQTT brokers (ChirpStack per organisation, external
    // brokers per application).
    {"POST", "/api/v1/organizations/{orgId}/integrations/chirpstack", "ChirpstackIntegrationInput",
     "Integration", 201},
    {"GET", "/api/v1/organizations/{orgId}/integrations/chirpstack", "", "Integrations", 200},
    {"GET", "/api/v1/integrations/chirpstack/{id}", "", "Integration", 200},
    {"PATCH", "/api/v1/integrations/chirpstack/{id}", "ChirpstackIntegrationInput", "Integration",
     200},
    {"DELETE", "/api/v1/integrations/chirpstack/{id}", "", "", 204},
    {"POST", "/api/v1/applications/{appId}/integrations/mqtt", "MqttIntegrationInput",
     "Integration", 201},
    {"GET", "/api/v1/applications/{appId}/integrations/mqtt", "", "Integrations", 200},
    {"GET", "/api/v1/integrations/mqtt/{id}", "", "Integration", 200},
    {"PATCH", "/api/v1/integrations/mqtt/{id}", "MqttIntegrationInput", "Integration", 200},
    {"DELETE", "/api/v1/integrations/mqtt/{id}", "", "", 204},
    // api/downlink.cc (registered by server/ with the MQTT client).
    {"POST", "/api/v1/devices/{id}/downlink", "DownlinkInput", "Downlink", 202},
    {"GET", "/api/v1/devices/{id}/downlink", "", "Downlinks", 200},
    {"GET", "/api/v1/devices/{id}/quality", "", "QualityCounts", 200},
    {"GET", "/api/v1/applications/{appId}/latest", "", "ApplicationLatest", 200},
    // api/stream.cc and api/ui_config.cc.
    {"GET", "/api/v1/organizations/{orgId}/stream", "", "", 200},
    {"GET", "/api/v1/ui-config", "", "UiConfig", 200},
    {"GET", "/api/v1/geocode", "", "Places", 200},
    // api/rules.cc, api/alarms.cc, api/actions.cc.
    {"POST", "/api/v1/organizations/{orgId}/rules", "RuleInput", "Rule", 201},
    {"GET", "/api/v1/organizations/{orgId}/rules", "", "list:Rule", 200},
    {"GET", "/api/v1/rules/{ruleId}", "", "Rule", 200},
    {"PATCH", "/api/v1/rules/{ruleId}", "RuleInput", "Rule", 200},
    {"DELETE", "/api/v1/rules/{ruleId}", "", "", 204},
    {"POST", "/api/v1/rules/{ruleId}/dry-run", "DryRunInput", "DryRunResult", 200},
    {"POST", "/api/v1/organizations/{orgId}/silences", "SilenceInput", "Silence", 201},
    {"GET", "/api/v1/organizations/{orgId}/silences", "", "list:Silence", 200},
    {"DELETE", "/api/v1/silences/{silenceId}", "", "", 204},
    {"GET", "/api/v1/organizations/{orgId}/alarms", "", "list:Alarm", 200},
    {"GET", "/api/v1/alarms/{alarmId}", "", "Alarm", 200},
    {"POST", "/api/v1/alarms/{alarmId}/acknowledge", "AlarmComment", "Alarm", 200},
    {"POST", "/api/v1/alarms/{alarmId}/clear", "AlarmComment", "Alarm", 200},
    {"POST", "/api/v1/alarms/{alarmId}/comment", "AlarmComment", "Alarm", 200},
    {"GET", "/api/v1/organizations/{orgId}/actions/log", "", "list:DeliveryAttempt", 200},
    // api/decoders.cc and api/jobs.cc.
    {"POST", "/api/v1/organizations/{orgId}/decoders", "DecoderInput", "Decoder", 201},
    {"GET", "/api/v1/organizations/{orgId}/decoders", "", "list:Decoder", 200},
    {"GET", "/api/v1/decoders/{id}", "", "Decoder", 200},
    {"PATCH", "/api/v1/decoders/{id}", "DecoderInput", "Decoder", 200},
    {"DELETE", "/api/v1/decoders/{id}", "", "", 204},
    {"GET", "/api/v1/decoders/{id}/versions", "", "DecoderVersions", 200},
    {"PUT", "/api/v1/applications/{appId}/decoder", "DecoderAttachment", "DecoderAttachment", 200},
    {"PUT", "/api/v1/devices/{id}/decoder", "DecoderAttachment", "DecoderAttachment", 200},
    {"GET", "/api/v1/applications/{appId}/decoder", "", "DecoderAttachment", 200},
    {"GET", "/api/v1/devices/{id}/decoder", "", "DecoderAttachment", 200},
    {"POST", "/api/v1/decoders/test", "DecoderTest", "DecoderTestResult", 200},
    {"POST", "/api/v1/decoders/{id}/redecode", "RedecodeInput", "JobAccepted", 202},
    {"GET", "/api/v1/jobs/{id}", "", "Job", 200},
    {"POST", "/api/v1/jobs/{id}/rerun", "", "Job", 202},
    // api/org_export.cc.
    {"POST", "/api/v1/organizations/{orgId}/export", "", "JobAccepted", 202},
    {"GET", "/api/v1/organizations/{orgId}/exports", "", "ExportList", 200},
    {"GET", "/api/v1/organizations/{orgId}/exports/{jobId}/archive", "", "", 200},
    {"DELETE", "/api/v1/organizations/{orgId}/exports/{jobId}", "", "", 204},
    // api/subject_erasure_routes.cc: a dry run answers 200 with a SubjectErasureReport.
    {"POST", "/api/v1/organizations/{orgId}/subject-erasures", "SubjectErasureInput",
     "SubjectErasure", 202},
    {"GET", "/api/v1/organizations/{orgId}/subject-erasures", "", "SubjectErasureList", 200},
    {"GET", "/api/v1/organizations/{orgId}/subject-erasures/{jobId}", "", "SubjectErasure", 200},
    {"POST", "/api/v1/organizations/import", "ImportArchive", "ImportReport", 201},
    // api/data_targets.cc.
    {"GET", "/api/v1/applications/{appId}/data-targets", "", "list:DataTarget", 200},
    {"POST", "/api/v1/applications/{appId}/data-targets", "DataTargetInput", "DataTarget", 201},
    {"GET", "/api/v1/data-targets/{id}", "", "DataTarget", 200},
    {"PUT", "/api/v1/data-targets/{id}", "DataTargetInput", "DataTarget", 200},
    {"DELETE", "/api/v1/data-targets/{id}", "", "", 204},
    {"POST", "/api/v1/data-targets/{id}/pause", "", "DataTarget", 200},
    {"POST", "/api/v1/data-targets/{id}/resume", "", "DataTarget", 200},
    {"POST", "/api/v1/data-targets/{id}/test", "DataTargetTest", "DataTargetTestResult", 200},
    {"POST", "/api/v1/data-targets/{id}/backfill", "DataTargetBackfill", "DataTarget", 202},
    {"DELETE", "/api/v1/data-targets/{id}/backfill", "", "DataTarget", 200},
    {"GET", "/api/v1/data-targets/{id}/deliveries", "", "list:DataTargetDelivery", 200},
    {"GET", "/api/v1/data-targets/{id}/dead-letters", "", "list:DeadLetter", 200},
    {"POST", "/api/v1/data-targets/{id}/dead-letters/replay", "", "ReplayResult", 200},
    // api/open_data.cc, api/open_data_public.cc: Open Data DK.
    {"POST", "/api/v1/organizations/{orgId}/open-data/datasets", "OpenDatasetInput", "OpenDataset",
     201},
    {"GET", "/api/v1/organizations/{orgId}/open-data/datasets", "", "OpenDatasets", 200},
    {"GET", "/api/v1/open-data/datasets/{id}", "", "OpenDataset", 200},
    {"PUT", "/api/v1/open-data/datasets/{id}", "OpenDatasetInput", "OpenDataset", 200},
    {"DELETE", "/api/v1/open-data/datasets/{id}", "", "", 204},
    {"GET", "/api/v1/open-data-dk-sharing/{orgId}", "", "DcatCatalog", 200},
    {"GET", "/api/v1/open-data-dk-sharing/{orgId}/datasets/{id}", "", "DcatDataset", 200},
    {"GET", "/api/v1/open-data-dk-sharing/{orgId}/datasets/{id}/latest", "", "OpenDataLatest", 200},
    {"GET", "/api/v1/open-data-dk-sharing/{orgId}/datasets/{id}/history.csv", "", "", 200},
    {"GET", "/api/v1/open-data-dk-sharing/{orgId}/datasets/{id}/history.json", "",
     "OpenDataHistory", 200},
    // OGC SensorThings API 1.1, read side (api/sta.cc, docs/sensorthings.md).
    {"GET", "/sta/v1.1", "", "StaServiceRoot", 200},
    {"GET", "/sta/v1.1/{*path}", "", "StaResource", 200},
    {"GET", "/sta/open/{orgId}/datasets/{id}/v1.1", "", "StaServiceRoot", 200},
    {"GET", "/sta/open/{orgId}/datasets/{id}/v1.1/{*path}", "", "StaResource", 200},
    // Its writes (api/sta_write.cc, sta_datastreams.cc, sta_locations.cc, sta_delete.cc).
    {"POST", "/sta/v1.1/{*path}", "StaCreateInput", "StaCreated", 201},
    {"POST", "/sta/v1.1/$batch", "StaBatch", "StaBatchResponses", 200},
    {"PATCH", "/sta/v1.1/{*path}", "StaPatchInput", "StaResource", 200},
    {"DELETE", "/sta/v1.1/{*path}", "", "", 204},
    // api/dashboards.cc: saved dashboards (issue 21 §4).
    {"POST", "/api/v1/organizations/{orgId}/dashboards", "DashboardInput", "Dashboard", 201},
    {"GET", "/api/v1/organizations/{orgId}/dashboards", "", "Dashboards", 200},
    {"GET", "/api/v1/dashboards/{id}", "", "Dashboard", 200},
    {"PUT", "/api/v1/dashboards/{id}", "DashboardInput", "Dashboard", 200},
    {"DELETE", "/api/v1/dashboards/{id}", "", "", 204},
    // api/dashboard_public.cc: public dashboards, no login.
    {"GET", "/api/v1/public/dashboards/{id}", "", "PublicDashboard", 200},
    {"GET", "/api/v1/public/dashboards/{id}/data", "", "PublicDashboardData", 200},
    // api/contacts.cc: responsible contacts (issue 20); reads are audited.
    {"GET", "/api/v1/applications/{appId}/contacts", "", "Contacts", 200},
    {"PUT", "/api/v1/applications/{appId}/contacts", "Contacts", "Contacts", 200},
    {"GET", "/api/v1/devices/{id}/contacts", "", "Contacts", 200},
    {"PUT", "/api/v1/devices/{id}/contacts", "Contacts", "Contacts", 200},
    {"GET", "/api/v1/devices/{id}/contacts/effective", "", "EffectiveContacts", 200},
    // api/sms_gateway.cc: the organisation's SMS gateway (admins).
    {"GET", "/api/v1/organizations/{orgId}/sms-gateway", "", "SmsGateway", 200},
    {"PUT", "/api/v1/organizations/{orgId}/sms-gateway", "SmsGatewayInput", "SmsGateway", 200},
    {"DELETE", "/api/v1/organizations/{orgId}/sms-gateway", "", "", 204},
    {"POST", "/api/v1/organizations/{orgId}/sms-gateway/test", "SmsTestInput", "SmsTestResult",
     200},
    // api/gateways.cc: LoRaWAN gateway health (issue 20); members read.
    {"GET", "/api/v1/organizations/{orgId}/gateways", "", "Gateways", 200},
    {"GET", "/api/v1/organizations/{orgId}/gateways/{gatewayId}", "", "GatewayDetail", 200},
    {"GET", "/api/v1/organizations/{orgId}/gateways/{gatewayId}/stats", "", "GatewayStats", 200},
    {"GET", "/api/v1/organizations/{orgId}/gateways/{gatewayId}/devices", "", "GatewayDevices",
     200},
};

const Op* FindOp(const http::RouteInfo& r) {
  for (const Op& op : kOps)
    if (op.method == r.method && op.pattern == r.pattern) return &op;
  return nullptr;
}

json Ref(std::string_view name) { return {{"$ref", "#/components/schemas/" + std::string(name)}}; }

json Str() { return {{"type", "string"}}; }
json Int() { return {{"type", "integer"}, {"format", "int64"}}; }
json Bool() { return {{"type", "boolean"}}; }
json StrArray() { return {{"type", "array"}, {"items", Str()}}; }
json Time() { return {{"type", "string"}, {"format", "date-time"}}; }
json Obj(json props, const std::vector<std::string>& required = {}) {
  json o = {{"type", "object"}, {"properties", std::move(props)}};
  if (!required.empty()) o["required"] = required;
  return o;
}
json Nullable(json s) {
  s["nullable"] = true;
  return s;
}

// `next` of the latest values' answers (api/latest_pages.h).
json LatestNext() {
  return {{"type", "string"},
          {"nullable", true},
          {"description",
           "when the latest values passed 16 MiB, the URL of the rest (?cursor=), also sent as "
           "a Link rel=\"next\" header; null otherwise. A device may go on on the next page"}};
}

// api/subject_erasure_routes.cc: "erase a data subject" (issue 18).
void SubjectErasureSchemas(json& s) {
  json time = {{"description", "RFC 3339 or ms since the epoch; absent or null = all time"}};
  s["SubjectErasureInput"] =
      Obj({{"tag", {{"type", "string"}, {"description", "devices with this tag, or:"}}},
           {"metadata", Obj({{"key", Str()}, {"value", Str()}}, {"key", "value"})},
           {"from", time},
           {"to", time},
           {"deleteDevices",
            {{"type", "boolean"}, {"description", "the devices go too (default false)"}}},
           {"dryRun",
            {{"type", "boolean"},
             {"description", "answer 200 with the devices and counts, remove nothing"}}}});
  s["SubjectErasureInput"]["description"] =
      "exactly one of tag or metadata; only devices of the path's organisation match";
  json counts = {{"readings", Int()},
                 {"rawMessages", Int()},
                 {"downlinks", Int()},
                 {"alarms", Int()},
                 {"shareRecords", Int()}};
  json device = counts;
  device["id"] = Int();
  device["name"] = Str();
  device["deviceDeleted"] = {{"type", "boolean"}};
  device["done"] = {{"type", "boolean"}};
  json totals = counts;
  totals["devices"] = Int();
  s["SubjectErasureReport"] = Obj({{"devices", {{"type", "array"}, {"items", Obj(device)}}},
                                   {"totals", Obj(totals)},
                                   {"range", Obj({{"from", Time()}, {"to", Time()}})},
                                   {"requestedBy", Str()},
                                   {"requestedAt", Time()},
                                   {"startedAt", Time()},
                                   {"finishedAt", Time()}});
  s["SubjectErasure"] =
      Obj({{"id", Int()},
           {"orgId", Int()},
           {"state", {{"type", "string"}, {"enum", {"queued", "running", "done", "failed"}}}},
           {"request", {{"$ref", "#/components/schemas/SubjectErasureInput"}}},
           {"report", {{"$ref", "#/components/schemas/SubjectErasureReport"}}},
           {"error", Str()},
           {"requestedBy", Str()},
           {"createdAt", Time()},
           {"updatedAt", Time()}});
  s["SubjectErasureList"] =
      Obj({{"items",
            {{"type", "array"}, {"items", {{"$ref", "#/components/schemas/SubjectErasure"}}}}}});
}

// api/applications.cc: an application with its privacy settings (issue 18).
void ApplicationSchemas(json& s) {
  json days = {{"type", "integer"}, {"minimum", 1}, {"maximum", 36500}, {"nullable", true}};
  s["Retention"] =
      Obj({{"rawMessagesDays", days}, {"readingsDays", days}, {"aggregatesDays", days}});
  s["Retention"]["description"] =
      "days each kind of data is kept; null = the server default of the data class; readingsDays "
      "must not exceed aggregatesDays";
  json data_class = {{"type", "string"},
                     {"enum", {"none", "pseudonymous", "personal", "sensitive"}},
                     {"description",
                      "anything but none: never published as open data, every read of its "
                      "readings/messages/Observations audited; personal and sensitive: exported "
                      "(CSV) by admins only. Changed by admins only (403)"}};
  json text = {{"type", "string"}, {"maxLength", 2000}};
  json props = {{"name", Str()},
                {"description", Str()},
                {"dataClass", data_class},
                {"personalData",
                 {{"type", "boolean"},
                  {"description",
                   "older form of dataClass: true exactly when dataClass is not none (true alone "
                   "makes none personal, false makes it none; disagreeing with dataClass: 400); "
                   "cannot become true while an open-data dataset covers the application (409)"}}},
                {"retention", {{"$ref", "#/components/schemas/Retention"}}},
                {"purpose", text},
                {"legalBasis", text},
                {"dataCategories", text},
                {"recipients", text},
                {"personalMetadataKeys",
                 {{"type", "array"},
                  {"items", Str()},
                  {"maxItems", 100},
                  {"description",
                   "device metadata keys holding personal data: never passed to decoders or "
                   "encoders, data targets, NGSI-LD or open data; members still see them in the "
                   "device API. Changed by admins only (403)"}}}};
  s["AuditExport"] = Obj(
      {{"orgId", Int()},
       {"items", {{"type", "array"}, {"items", {{"$ref", "#/components/schemas/AuditEntry"}}}}}});
  s["AuditExport"]["description"] =
      "?format=json (this) or csv (id,ts,user_id,api_key_id,action,object_type,object_id,"
      "remote_addr,detail), ?from=&to= (RFC 3339 or ms); oldest first; organisation admins";
  s["RecordOfProcessing"] =
      Obj({{"orgId", Int()},
           {"organization", Str()},
           {"generatedAt", Time()},
           {"applications",
            {{"type", "array"},
             {"items", Obj({{"applicationId", Int()},
                            {"name", Str()},
                            {"dataClass", data_class},
                            {"purpose", text},
                            {"legalBasis", text},
                            {"dataCategories", text},
                            {"recipients", text},
                            {"keys", StrArray()},
                            {"retention", {{"$ref", "#/components/schemas/Retention"}}}})}}}});
  s["RecordOfProcessing"]["description"] =
      "organisation admins; Accept: text/html or ?format=html gives a printable page (Danish with "
      "?lang=da or "
      "Accept-Language: da, else English); retention is the one in force (null = no limit)";
  s["ApplicationInput"] = Obj(props, {"name"});
  props["id"] = Int();
  props["orgId"] = Int();
  props["createdAt"] = Time();
  props["effectiveRetention"] = {{"$ref", "#/components/schemas/Retention"}};
  s["Application"] = Obj(props);
  SubjectErasureSchemas(s);
}

// api/dashboards.cc, api/dashboard_layout.h.
void DashboardSchemas(json& s, const json& role) {
  json series = Obj({{"deviceId", Int()}, {"key", Str()}}, {"deviceId", "key"});
  json widget = Obj({{"type",
                      {{"type", "string"},
                       {"enum", {"timeseries", "latest", "gauge", "table", "alarms", "map"}}}},
                     {"title", Str()},
                     {"period", {{"type", "string"}, {"enum", {"24h", "7d", "30d"}}}},
                     {"series", {{"type", "array"}, {"items", series}, {"maxItems", 16}}},
                     {"deviceId", Int()},
                     {"key", Str()},
                     {"min", {{"type", "number"}}},
                     {"max", {{"type", "number"}}},
                     {"deviceIds", {{"type", "array"}, {"items", Int()}, {"maxItems", 50}}},
                     {"keys", {{"type", "array"}, {"items", Str()}, {"maxItems", 8}}},
                     {"applicationId", Int()}},
                    {"type"});
  widget["description"] =
      "timeseries: period, series; latest: deviceId, key; gauge: deviceId, key, min < max; "
      "table: deviceIds, keys; alarms; map: applicationId";
  json layout = Obj({{"widgets", {{"type", "array"}, {"items", widget}, {"maxItems", 24}}}});
  json props = {{"name", Str()},
                {"minRole", role},
                {"layout", layout},
                {"applicationId", Nullable(Int())},  // shared with one application
                {"public", Bool()}};                 // admins only; published open data only
  json input = Obj(props, {"name", "layout"});
  input["additionalProperties"] = false;
  s["DashboardInput"] = input;
  props["id"] = Int();
  props["orgId"] = Int();
  props["createdAt"] = Time();
  props["updatedAt"] = Time();
  s["Dashboard"] = Obj(props);
  s["Dashboards"] =
      Obj({{"items", {{"type", "array"}, {"items", Ref("Dashboard")}}}, {"total", Int()}});
  s["PublicDashboard"] =
      Obj({{"id", Int()},
           {"name", Str()},
           {"layout", layout},
           {"devices", {{"type", "array"}, {"items", Obj({{"id", Int()}, {"name", Str()}})}}},
           {"updatedAt", Time()}});
  json bucket = Obj({{"ts", Time()}, {"avg", {{"type", "number"}}}});
  json averages = Obj({{"widget", Int()},
                       {"deviceId", Int()},
                       {"key", Str()},
                       {"bucket", Str()},
                       {"items", {{"type", "array"}, {"items", bucket}}}});
  s["PublicDashboardData"] =
      Obj({{"id", Int()},
           {"to", Time()},
           {"latest",
            {{"type", "object"}, {"description", "deviceId → key → {value, ts, unit, quality}"}}},
           {"latestTruncated",
            {{"type", "boolean"},
             {"description", "true when the latest values passed 16 MiB and some are left out"}}},
           {"series", {{"type", "array"}, {"items", averages}}}});
}

// api/contacts.cc and api/sms_gateway.cc (issue 20).
void ContactSchemas(json& s) {
  json contact = Obj({{"name", Str()},
                      {"email", Str()},
                      {"phone", {{"type", "string"}, {"description", "E.164, e.g. +4512345678"}}},
                      {"role", Str()}},
                     {"name"});
  s["Contacts"] =
      Obj({{"items", {{"type", "array"}, {"items", contact}, {"maxItems", 20}}}}, {"items"});
  json effective = contact;
  effective["properties"]["source"] = {{"type", "string"}, {"enum", {"device", "application"}}};
  effective["properties"]["sourceId"] = Int();
  s["EffectiveContacts"] = Obj({{"items", {{"type", "array"}, {"items", effective}}}});
  json props = {
      {"url", Str()},
      {"method", {{"type", "string"}, {"enum", {"POST", "GET"}}}},
      {"headers", {{"type", "object"}, {"additionalProperties", Str()}}},
      {"bodyFormat", {{"type", "string"}, {"enum", {"form", "json"}}}},
      {"body",
       {{"type", "string"}, {"description", "template with {{to}}, {{message}}, {{secret}}"}}}};
  json input = Obj(props, {"url"});
  input["properties"]["secret"] = {{"type", "string"}, {"nullable", true}, {"writeOnly", true}};
  s["SmsGatewayInput"] = input;
  props["hasSecret"] = Bool();
  props["updatedAt"] = Time();
  s["SmsGateway"] = Obj(props);
  s["SmsTestInput"] = Obj({{"to", Str()}, {"message", Str()}}, {"to"});
  s["SmsTestResult"] = Obj({{"ok", Bool()}, {"httpStatus", Int()}, {"error", Nullable(Str())}});
}

// api/gateways.cc (issue 20).
void GatewaySchemas(json& s) {
  json num = {{"type", "number"}};
  json gateway = Obj(
      {{"gatewayId", Str()},
       {"online", Nullable(Bool())},
       {"stateSince", Nullable(Time())},
       {"firstSeen", Nullable(Time())},
       {"lastSeen", Nullable(Time())},
       {"uplinks", Int()},
       {"location", Nullable(Obj({{"latitude", num}, {"longitude", num}, {"altitude", num}}))}});
  s["Gateway"] = gateway;
  s["Gateways"] = Obj({{"items", {{"type", "array"}, {"items", Ref("Gateway")}}}});
  json detail = gateway;
  detail["properties"]["history"] = {{"type", "array"},
                                     {"items", Obj({{"time", Time()}, {"online", Bool()}})}};
  s["GatewayDetail"] = detail;
  s["GatewayStats"] = Obj({{"bucket", {{"type", "string"}, {"enum", {"hour", "day"}}}},
                           {"items",
                            {{"type", "array"},
                             {"items", Obj({{"start", Time()},
                                            {"rxPacketsReceived", Int()},
                                            {"rxPacketsReceivedOk", Int()},
                                            {"txPacketsReceived", Int()},
                                            {"txPacketsEmitted", Int()}})}}}});
  s["GatewayDevices"] = Obj({{"items",
                              {{"type", "array"},
                               {"items", Obj({{"deviceId", Int()},
                                              {"name", Str()},
                                              {"devEui", Str()},
                                              {"rssi", Nullable(num)},
                                              {"snr", Nullable(num)},
                                              {"lastSeen", Time()},
                                              {"uplinks", Int()}})}}}});
}

// api/open_data.cc and api/open_data_public.cc.
void OpenDataSchemas(json& s) {
  json meta = {
      {"applicationId", Nullable(Int())},
      {"deviceIds", {{"type", "array"}, {"items", Int()}, {"maxItems", 10000}}},
      {"keys", {{"type", "array"}, {"items", Str()}, {"description", "empty = every key"}}},
      {"published", Bool()},
      {"title", Str()},
      {"description", Str()},
      {"keywords", StrArray()},
      {"themes",
       {{"type", "array"},
        {"items",
         {{"type", "string"},
          {"enum",
           {"AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST", "OP_DATPRO",
            "REGI", "SOCI", "TECH", "TRAN"}}}}}},
      {"license", {{"type", "string"}, {"format", "uri"}}},
      {"accrualPeriodicity",
       {{"type", "string"}, {"description", "irregular, or ISO 8601 R/PT1H, R/P1D, ..."}}},
      {"contactName", Str()},
      {"contactEmail", {{"type", "string"}, {"format", "email"}}},
      {"documentationUrl", Str()},
      {"spatial", Str()}};
  json input = Obj(meta, {"title", "license", "contactName", "contactEmail"});
  input["additionalProperties"] = false;
  input["description"] = "either applicationId or deviceIds";
  s["OpenDatasetInput"] = input;
  json out = meta;
  out["id"] = Int();
  out["orgId"] = Int();
  out["createdAt"] = Time();
  out["updatedAt"] = Time();
  out["issuedAt"] = Nullable(Time());
  out["urls"] = Obj({{"latest", Str()}, {"historyCsv", Str()}, {"historyJson", Str()}});
  s["OpenDataset"] = Obj(out);
  s["OpenDatasets"] =
      Obj({{"items", {{"type", "array"}, {"items", Ref("OpenDataset")}}}, {"total", Int()}});
  json dist = Obj({{"@type", Str()},
                   {"title", Str()},
                   {"description", Str()},
                   {"format", Str()},
                   {"mediaType", Str()},
                   {"accessURL", Str()},
                   {"downloadURL", Str()},
                   {"license", Str()}});
  s["DcatDataset"] = Obj({{"@type", Str()},
                          {"identifier", Str()},
                          {"title", Str()},
                          {"description", Str()},
                          {"keyword", StrArray()},
                          {"issued", Time()},
                          {"modified", Time()},
                          {"publisher", Obj({{"name", Str()}})},
                          {"contactPoint", Obj({{"fn", Str()}, {"hasEmail", Str()}})},
                          {"accessLevel", Str()},
                          {"license", Str()},
                          {"theme", StrArray()},
                          {"accrualPeriodicity", Str()},
                          {"landingPage", Str()},
                          {"distribution", {{"type", "array"}, {"items", dist}}}});
  s["StaServiceRoot"] =
      Obj({{"value", {{"type", "array"}, {"items", Obj({{"name", Str()}, {"url", Str()}})}}},
           {"serverSettings", Obj({{"conformance", StrArray()}})}});
  s["StaResource"] = {
      {"type", "object"},
      {"description",
       "A SensorThings entity, a collection {value, @iot.count, @iot.nextLink} or a property "
       "(OGC 18-088); .../$value answers text/plain. Path examples: Things, Things(1)/Datastreams, "
       "Datastreams(5)/Observations?$filter=phenomenonTime ge 2026-01-01T00:00:00Z"}};
  s["StaCreateInput"] = {
      {"description",
       "POST Things: a Thing (StaThingInput); POST Datastreams / Things(N)/Datastreams: a "
       "Datastream (StaDatastreamInput); POST Locations / Things(N)/Locations: a Location "
       "{name?, description?, encodingType?, location: GeoJSON Point, Things?: [{@iot.id}]}; "
       "POST Observations / Datastreams(N)/Observations: an "
       "Observation {phenomenonTime?, result, "
       "resultTime?, Datastream: {@iot.id}}; POST CreateObservations: [{Datastream: {@iot.id}, "
       "components: [phenomenonTime, result, resultTime?], dataArray: [[...], ...]}] (at most "
       "100,000 rows, 8 MiB)"}};
  s["StaBatch"] = {{"description",
                    "{requests: [{id, method, url (relative to /sta/v1.1; \"$<id>\" = an entity "
                    "created earlier), body?, dependsOn?}]}, at most 100"}};
  s["StaBatchResponses"] = {
      {"description", "{responses: [{id, status, headers?: {location}, body?}]}"}};
  s["StaThingInput"] = {
      {"description",
       "A Thing: {name, description?, properties: {application: {id} (create only), tags?, "
       "metadata?}, Locations?: [{name, encodingType, location: GeoJSON Point}], Datastreams?: "
       "[StaDatastreamInput without Thing] (create only)}"}};
  s["StaDatastreamInput"] = {
      {"description",
       "A Datastream (a series: device, key, unit): {name?, description?, unitOfMeasurement?: "
       "{name, symbol, definition}, observationType? (OM_Measurement, OM_CountObservation, "
       "OM_TruthObservation, OM_CategoryObservation, OM_Observation), ObservedProperty: "
       "{@iot.id: key} or {name: key, definition?, description?}, Thing: {@iot.id} (POST "
       "Datastreams), Sensor?: {@iot.id: the Thing's device model or 0}}"}};
  s["StaPatchInput"] = {
      {"description",
       "PATCH Things(N): StaThingInput without properties.application; PATCH Datastreams(N): "
       "{unitOfMeasurement}; PATCH Locations(N): {location: GeoJSON Point, encodingType?}. Any "
       "member bysans does not keep is a 400 naming it"}};
  s["StaCreated"] = {{"description",
                      "The created entity (Location header: its selfLink); for "
                      "CreateObservations an array of each row's selfLink or \"error\""}};
  s["DcatCatalog"] = Obj({{"@context", Str()},
                          {"@type", Str()},
                          {"conformsTo", Str()},
                          {"describedBy", Str()},
                          {"dataset", {{"type", "array"}, {"items", Ref("DcatDataset")}}}});
  json reading = {{"value", json::object()}, {"ts", Time()}, {"unit", Str()}, {"quality", Str()}};
  s["OpenDataLatest"] =
      Obj({{"datasetId", Int()},
           {"title", Str()},
           {"license", Str()},
           {"items",
            {{"type", "array"},
             {"items",
              Obj({{"deviceId", Int()},
                   {"deviceName", Str()},
                   {"location", {{"type", "object"}}},
                   {"readings", {{"type", "object"}, {"additionalProperties", Obj(reading)}}}})}}},
           {"next", LatestNext()}});
  json row = reading;
  row["deviceId"] = Int();
  row["deviceName"] = Str();
  row["key"] = Str();
  s["OpenDataHistory"] = Obj({{"datasetId", Int()},
                              {"from", Time()},
                              {"to", Time()},
                              {"limit", Int()},
                              {"items", {{"type", "array"}, {"items", Obj(row)}}},
                              {"next", Nullable(Str())}});
}

json Components() {
  json role = {{"type", "string"}, {"enum", {"viewer", "operator", "editor", "admin"}}};
  json s;
  s["Error"] = Obj({{"error", Obj({{"code", Str()}, {"message", Str()}})}});
  s["Health"] = Obj({{"status", Str()}});
  s["LoginRequest"] = Obj({{"email", Str()}, {"password", Str()}}, {"email", "password"});
  // Access per application: null = the whole organisation; a list = those applications only.
  const json scope = Nullable({{"type", "array"}, {"items", Int()}, {"maxItems", 1000}});
  s["Membership"] =
      Obj({{"orgId", Int()}, {"orgName", Str()}, {"role", role}, {"applications", scope}});
  s["Me"] = Obj({{"user", Ref("User")},
                 {"memberships", {{"type", "array"}, {"items", Ref("Membership")}}},
                 {"expiresAt", Time()}});
  // maxDevices: the organisation's own limit of devices (null: the server's,
  // limits.max_devices_per_org), set by a global admin only; deviceLimit: the one that holds.
  s["Organization"] = Obj({{"id", Int()},
                           {"name", Str()},
                           {"createdAt", Time()},
                           {"decoderTimeoutMs", Int()},
                           {"maxDevices", Nullable(Int())},
                           {"deviceLimit", Int()}});
  s["OrganizationInput"] =
      Obj({{"name", Str()},
           {"decoderTimeoutMs", {{"type", "integer"}, {"minimum", 1}, {"maximum", 5000}}},
           {"maxDevices", Nullable({{"type", "integer"}, {"minimum", 0}})}},
          {"name"});
  s["Member"] = Obj({{"userId", Int()},
                     {"email", Str()},
                     {"name", Str()},
                     {"role", role},
                     {"applications", scope}});
  s["RoleInput"] = Obj({{"role", role}, {"applications", scope}}, {"role"});
  s["InvitationInput"] =
      Obj({{"email", Str()}, {"role", role}, {"applications", scope}}, {"email", "role"});
  s["Invitation"] = Obj({{"id", Int()},
                         {"orgId", Int()},
                         {"orgName", {{"type", "string"}, {"description", "in /me/invitations"}}},
                         {"email", Str()},
                         {"role", role},
                         {"invitedBy", Nullable(Int())},
                         {"createdAt", Time()},
                         {"expiresAt", Time()},
                         {"applications", scope}});
  {
    // api/integrations.cc
    json broker = {
        {"name", Str()},
        {"url", {{"type", "string"}, {"pattern", "^mqtts?://"}}},
        {"username", Str()},
        {"password", {{"type", "string"}, {"writeOnly", true}}},
        {"clientId", Str()},
        {"enabled", Bool()},
        {"caCert", Nullable({{"type", "string"},
                             {"maxLength", 65536},
                             {"description",
                              "PEM CA certificate(s) trusted for an mqtts:// broker "
                              "instead of the system's CAs; null or \"\" removes"}})},
        {"clientCert", Nullable({{"type", "string"},
                                 {"maxLength", 65536},
                                 {"description",
                                  "mutual TLS: the PEM certificate bysans presents to an "
                                  "mqtts:// broker (then its intermediates); needs "
                                  "clientKey; null or \"\" removes"}})},
        {"clientKey", Nullable({{"type", "string"},
                                {"writeOnly", true},
                                {"maxLength", 16384},
                                {"description",
                                 "PEM private key of clientCert, without a passphrase; "
                                 "kept encrypted, never returned; null removes"}})}};
    json cs_input = Obj(broker, {"name", "url"});
    cs_input["additionalProperties"] = false;
    s["ChirpstackIntegrationInput"] = cs_input;
    json ext = broker;
    ext["topicFilter"] = Str();
    ext["deviceTopicLevel"] = {{"type", "integer"}, {"minimum", 0}, {"maximum", 63}};
    ext["deviceMatch"] = {{"type", "string"}, {"enum", {"id", "name", "devEui"}}};
    json ext_input = Obj(ext, {"name", "url", "topicFilter", "deviceTopicLevel"});
    ext_input["additionalProperties"] = false;
    s["MqttIntegrationInput"] = ext_input;
    json out = ext;
    out.erase("password");
    out.erase("clientKey");
    out["caCert"] = {{"type", "string"}, {"description", "PEM CA certificate(s); \"\" = none"}};
    out["clientCert"] = {{"type", "string"},
                         {"description", "PEM client certificate (mutual TLS); \"\" = none"}};
    out["hasClientKey"] = Bool();
    out["id"] = Int();
    out["orgId"] = Int();
    out["applicationId"] = Int();
    out["hasPassword"] = Bool();
    out["status"] = {{"type", "string"},
                     {"enum", {"stopped", "disabled", "connecting", "connected", "error"}}};
    out["lastError"] = Str();
    out["statusSince"] = Time();
    out["createdAt"] = Time();
    out["updatedAt"] = Time();
    s["Integration"] = Obj(out);
    s["Integrations"] = Obj({{"items", {{"type", "array"}, {"items", Ref("Integration")}}}});
    s["UnknownDevices"] = Obj({{"items",
                                {{"type", "array"},
                                 {"items", Obj({{"devEui", Str()},
                                                {"applicationId", Str()},
                                                {"integrationId", Int()},
                                                {"firstSeen", Time()},
                                                {"lastSeen", Time()},
                                                {"uplinks", Int()}})}}}});
  }
  ApplicationSchemas(s);
  OpenDataSchemas(s);
  DashboardSchemas(s, role);
  ContactSchemas(s);
  GatewaySchemas(s);
  json location = Obj({{"lat", {{"type", "number"}, {"minimum", -90}, {"maximum", 90}}},
                       {"lon", {{"type", "number"}, {"minimum", -180}, {"maximum", 180}}}},
                      {"lat", "lon"});
  json device_props = {{"name", Str()},
                       {"transport", {{"type", "string"}, {"enum", {"http", "mqtt", "lorawan"}}}},
                       {"devEui", {{"type", "string"}, {"pattern", "^[0-9a-fA-F]{16}$"}}},
                       {"location", Nullable(location)},
                       {"tags", {{"type", "array"}, {"items", Str()}}},
                       {"metadata", {{"type", "object"}, {"additionalProperties", Str()}}},
                       {"deviceModelId", Nullable(Int())},
                       {"expectedIntervalS", Int()},
                       {"inMaintenance", Bool()}};
  json input = Obj(device_props, {"name"});
  input["additionalProperties"] = false;
  s["DeviceInput"] = input;
  json device = device_props;
  device["id"] = Int();
  device["orgId"] = Int();
  device["applicationId"] = Int();
  device["createdAt"] = Time();
  s["Device"] = Obj(device);
  json created = device;
  created["apiKey"] = {{"type", "string"}, {"description", "HTTP devices only; shown once"}};
  s["DeviceCreated"] = Obj(created);
  json mqtt_credentials = Obj({{"username", Str()},
                               {"password", Str()},
                               {"host", Str()},
                               {"port", Int()},
                               {"upTopic", Str()},
                               {"downTopic", Str()}});
  mqtt_credentials["description"] = "MQTT devices only; shown once";
  s["DeviceKey"] = Obj({{"apiKey", Str()}, {"mqtt", mqtt_credentials}});
  // api/coap_credentials.cc (issue 20): the key is in the create/rotate answer only.
  s["CoapCredentialInput"] =
      Obj({{"identity", {{"type", "string"}, {"minLength", 1}, {"maxLength", 64}}}});
  s["CoapCredential"] = Obj({{"deviceId", Int()}, {"identity", Str()}, {"createdAt", Time()}});
  s["CoapCredentialCreated"] =
      Obj({{"deviceId", Int()},
           {"identity", Str()},
           {"createdAt", Time()},
           {"key", {{"type", "string"}, {"description", "the pre-shared key; shown once"}}}});
  // api/lwm2m.cc (issue 20): a device's LwM2M registration and its server-initiated operations.
  s["Lwm2mRegistration"] =
      Obj({{"deviceId", Int()},
           {"registered", Bool()},
           {"endpoint", Str()},
           {"lifetime", Int()},
           {"binding", Str()},
           {"queueMode", Bool()},
           {"lwm2mVersion", Str()},
           {"objects", {{"type", "array"}, {"items", Str()}}},
           {"registeredAt", Time()},
           {"updatedAt", Time()},
           {"expiresAt", Time()},
           {"observations", {{"type", "array"}, {"items", Ref("Lwm2mObservation")}}}});
  // An active observation: its notifications become readings (lwm2m/README.md).
  s["Lwm2mObservation"] =
      Obj({{"path", {{"type", "string"}, {"example", "/3303/0"}}},
           {"since", Time()},
           {"notifications", Int()},
           {"lastAt", {{"type", "string"}, {"format", "date-time"}, {"nullable", true}}}});
  json op_kind = {{"type", "string"},
                  {"enum", {"read", "write", "execute", "observe", "cancel-observe"}}};
  s["Lwm2mOperationInput"] = Obj(
      {{"kind", op_kind}, {"path", {{"type", "string"}, {"example", "/3/0/4"}}}, {"value", Str()}});
  s["Lwm2mOperation"] = Obj(
      {{"id", Int()},
       {"deviceId", Int()},
       {"kind", op_kind},
       {"path", Str()},
       {"value", Str()},
       {"state", {{"type", "string"}, {"enum", {"queued", "sent", "done", "failed"}}}},
       {"resultCode", {{"type", "string"}, {"description", "the device's CoAP answer, e.g. 2.04"}}},
       {"result", Str()},
       {"error", Str()},
       {"createdAt", Time()},
       {"updatedAt", Time()}});
  s["DeviceModelDoc"] = {
      {"type", "object"},
      {"description", "A FIWARE Smart Data Models DeviceModel; `name` or `modelName` required"},
      {"properties",
       {{"name", Str()},
        {"modelName", Str()},
        {"brandName", Str()},
        {"controlledProperty", {{"type", "array"}, {"items", Str()}}}}}};
  s["DeviceModel"] = Obj({{"id", Int()},
                          {"orgId", Int()},
                          {"name", Str()},
                          {"doc", Ref("DeviceModelDoc")},
                          {"createdAt", Time()}});
  s["User"] = Obj({{"id", Int()},
                   {"email", Str()},
                   {"name", Str()},
                   {"globalAdmin", Bool()},
                   {"createdAt", Time()}});
  json new_password = {{"type", "string"},
                       {"minLength", 12},
                       {"maxLength", 1024},
                       {"description", "not one of the common passwords bysans ships"}};
  s["UserInput"] =
      Obj({{"email", Str()}, {"password", new_password}, {"name", Str()}, {"globalAdmin", Bool()}},
          {"email", "password"});
  s["UserPatch"] = Obj({{"name", Str()},
                        {"password", new_password},
                        {"currentPassword", Str()},
                        {"globalAdmin", Bool()}});
  json key = {{"id", Int()},        {"orgId", Int()},      {"name", Str()},
              {"role", role},       {"prefix", Str()},     {"expiresAt", Nullable(Time())},
              {"createdBy", Int()}, {"createdAt", Time()}, {"createdByKey", Nullable(Int())}};
  // SensorThings over MQTT (server/sta_mqtt.h): the key is a broker user, password = the key.
  key["mqtt"] = Bool();
  key["mqttUser"] = Nullable(Str());
  s["ApiKey"] = Obj(key);
  key["key"] = {{"type", "string"}, {"description", "the secret; shown once"}};
  s["ApiKeyCreated"] = Obj(key);
  s["ApiKeyInput"] =
      Obj({{"name", Str()},
           {"role", role},
           {"expiresAt", Time()},
           {"mqtt",
            {{"type", "boolean"},
             {"description",
              "also a user of the supervised MQTT broker for SensorThings over MQTT (user "
              "mqttUser, password the key): reads its organisation's Things and Datastreams, "
              "an editor or admin key creates Observations; 409 when the organisation has more "
              "than 20,000 such topics"}}}},
          {"name", "role"});
  s["AuditEntry"] = Obj({{"id", Int()},
                         {"orgId", Nullable(Int())},
                         {"userId", Nullable(Int())},
                         {"apiKeyId", Nullable(Int())},
                         {"action", Str()},
                         {"objectType", Str()},
                         {"objectId", Str()},
                         {"remoteAddr", Str()},
                         {"detail", Str()},
                         {"ts", Time()}});
  {  // api/rules.cc, api/alarms.cc, api/actions.cc
    json kinds = {
        {"type", "string"},
        {"enum",
         {"expression", "silence", "rate_of_change", "gateway_offline", "gateway_packets"}}};
    json states = {{"type", "string"}, {"enum", {"active", "acknowledged", "cleared"}}};
    json rule = {
        {"name", Str()},
        {"scope",
         Obj({{"kind",
               {{"type", "string"},
                {"enum", {"device", "application", "device_model", "tag", "gateway"}}}},
              {"id", Int()},
              {"tag", Str()},
              {"gatewayId", Nullable({{"type", "string"},
                                      {"description",
                                       "gateway scope: one gateway of the organisation; absent, "
                                       "null or \"*\" = all its gateways"}})}})},
        {"severity", {{"type", "string"}, {"enum", {"info", "warning", "critical"}}}},
        {"kind", kinds},
        {"expression", Str()},
        {"clearExpression", Str()},
        {"forMs", Int()},
        {"remindEveryMs", Int()},
        {"enabled", Bool()},
        {"requireAcknowledge",
         Nullable({{"type", "boolean"},
                   {"description",
                    "an alarm that clears by itself stays open until a person "
                    "acknowledges it; null or absent = only critical alarms"}})},
        {"silence", Obj({{"fixedMs", Int()}, {"intervalMultiple", {{"type", "number"}}}})},
        {"rate", Obj({{"key", Str()},
                      {"windowMs", Int()},
                      {"threshold", {{"type", "number"}}},
                      {"direction", Str()}})},
        {"gateway",
         Obj({{"offlineMs",
               {{"type", "integer"},
                {"description", "gateway_offline: OFFLINE for, or nothing seen for, this long"}}},
              {"counter",
               {{"type", "string"},
                {"enum", {"rx_received_ok", "rx_received", "tx_received", "tx_emitted"}}}},
              {"min", Nullable({{"type", "number"}})},
              {"max", Nullable({{"type", "number"}})}})},
        {"actions",
         {{"type", "array"},
          {"items", {{"type", "object"}}},
          {"description",
           "a gateway rule refuses downlink and notify_contacts (no device, no "
           "contacts)"}}}};
    s["RuleInput"] = Obj(rule);
    rule["id"] = Int();
    rule["orgId"] = Int();
    rule["warnings"] = {{"type", "array"}, {"items", Str()}};
    rule["createdAt"] = Time();
    rule["updatedAt"] = Time();
    s["Rule"] = Obj(rule);
    s["DryRunInput"] = Obj({{"deviceId", Int()}, {"from", Time()}, {"to", Time()}}, {"deviceId"});
    s["DryRunResult"] = Obj({{"ruleId", Int()},
                             {"deviceId", Int()},
                             {"raises", Int()},
                             {"clears", Int()},
                             {"activeAtEnd", Bool()},
                             {"readingsUsed", Int()},
                             {"raisedAt", {{"type", "array"}, {"items", Time()}}},
                             {"clearedAt", {{"type", "array"}, {"items", Time()}}}});
    s["SilenceInput"] = Obj({{"deviceId", Int()}, {"ruleId", Int()}, {"until", Time()}}, {"until"});
    s["Silence"] = Obj({{"id", Int()},
                        {"orgId", Int()},
                        {"deviceId", Nullable(Int())},
                        {"ruleId", Nullable(Int())},
                        {"until", Time()},
                        {"createdBy", Str()},
                        {"createdAt", Time()}});
    s["AlarmComment"] = Obj({{"comment", Str()}});
    s["Alarm"] = Obj(
        {{"id", Int()},
         {"orgId", Int()},
         {"ruleId", Int()},
         {"ruleName", Str()},
         {"deviceId", Int()},
         {"deviceName", Str()},
         {"gatewayId",
          Nullable({{"type", "string"}, {"description", "a gateway rule's alarm (deviceId 0)"}})},
         {"severity", Str()},
         {"state", states},
         {"status",
          {{"type", "string"},
           {"enum",
            {"active_unacknowledged", "active_acknowledged", "cleared_unacknowledged",
             "cleared_acknowledged"}}}},
         {"cleared", Bool()},
         {"acknowledged", Bool()},
         {"requireAcknowledge", Bool()},
         {"awaitingAcknowledge",
          {{"type", "boolean"},
           {"description",
            "cleared by its condition, waiting for a person to "
            "acknowledge it (still listed with state=open)"}}},
         {"open", Bool()},
         {"message", Str()},
         {"raisedAt", Time()},
         {"acknowledgedAt", Nullable(Time())},
         {"acknowledgedBy", Nullable(Str())},
         {"acknowledgeComment", Str()},
         {"clearedAt", Nullable(Time())},
         {"clearedBy", Nullable(Str())},
         {"clearComment", Str()},
         {"values", {{"type", "object"}}},
         {"comments", {{"type", "array"}, {"items", {{"type", "object"}}}}},
         {"history", {{"type", "array"}, {"items", {{"type", "object"}}}}}});
    s["DeliveryAttempt"] = Obj({{"id", Int()},
                                {"outboxId", Int()},
                                {"ruleId", Int()},
                                {"alarmId", Int()},
                                {"target", Str()},
                                {"type", Str()},
                                {"attempt", Int()},
                                {"at", Time()},
                                {"ok", Bool()},
                                {"error", Str()}});
  }
  {  // api/data_targets.cc
    json input = {{"name", Str()},
                  {"type", {{"type", "string"}, {"enum", {"http", "mqtt", "ngsi-ld"}}}},
                  {"url", Str()},
                  {"format", {{"type", "string"}, {"enum", {"bysans", "os2iot"}}}},
                  {"ngsiLd",
                   {{"type", "object"},
                    {"description",
                     "ngsi-ld targets: tenant, context, contextMode (link|body), "
                     "unmappedAsMeasurements, auth {type: none|header|oauth2, name, value "
                     "(write-only), tokenUrl, clientId, clientSecret (write-only), scope, "
                     "credentialsInBody}"}}},
                  {"batchSize", Int()},
                  {"timeoutMs", Int()},
                  {"deviceIds", {{"type", "array"}, {"items", Int()}}},
                  {"headers",
                   {{"type", "object"},
                    {"description", "write-only values; null removes a header"},
                    {"additionalProperties", Nullable(Str())}}},
                  {"topic", Str()},
                  {"qos", Int()},
                  {"retain", Bool()},
                  {"username", Str()},
                  {"password", {{"type", "string"}, {"description", "write-only (mqtt)"}}},
                  {"paused", Bool()},
                  {"maxAttempts", Int()},
                  {"maxAgeMs", Int()}};
    s["DataTargetInput"] = Obj(input, {"name", "url"});
    json target = input;
    target.erase("headers");
    target.erase("password");
    target["hasPassword"] = Bool();
    target["id"] = Int();
    target["organizationId"] = Int();
    target["applicationId"] = Int();
    target["headerNames"] = StrArray();
    target["createdAt"] = Time();
    target["updatedAt"] = Time();
    target["backfill"] = Nullable(Obj({{"state", Str()},
                                       {"from", Time()},
                                       {"to", Time()},
                                       {"devicesTotal", Int()},
                                       {"devicesDone", Int()},
                                       {"records", Int()},
                                       {"error", Str()}}));
    target["metrics"] = Nullable(Obj({{"status", Str()},
                                      {"sent", Int()},
                                      {"failed", Int()},
                                      {"deadLetters", Int()},
                                      {"queueDepth", Int()},
                                      {"lagSeconds", {{"type", "number"}}},
                                      {"lastError", Str()},
                                      {"lastSuccessAt", Nullable(Time())}}));
    s["DataTarget"] = Obj(target);
    s["DataTargetTest"] = Obj({{"deviceId", Int()}}, {"deviceId"});
    s["DataTargetBackfill"] = Obj({{"from", Time()}, {"to", Time()}}, {"from"});
    s["DataTargetTestResult"] =
        Obj({{"ok", Bool()}, {"httpStatus", Int()}, {"error", Str()}, {"durationMs", Int()}});
    s["DataTargetDelivery"] = Obj({{"id", Int()},
                                   {"at", Time()},
                                   {"ok", Bool()},
                                   {"records", Int()},
                                   {"firstPosition", Int()},
                                   {"lastPosition", Int()},
                                   {"error", Str()},
                                   {"durationMs", Int()}});
    s["DeadLetter"] = Obj({{"id", Int()},
                           {"position", Int()},
                           {"deviceId", Int()},
                           {"messageId", Int()},
                           {"receivedAt", Time()},
                           {"error", Str()},
                           {"attempts", Int()},
                           {"createdAt", Time()},
                           {"replaying", Bool()}});
    s["ReplayResult"] = Obj({{"replaying", Int()}});
  }
  s["DevicePayload"] = {
      {"description",
       "Any JSON object or SenML array the device sends (?apiKey=<device key>); with "
       "Content-Type application/senml+cbor a SenML pack in CBOR (RFC 8428 §6); malformed or "
       "truncated: 400 naming the byte offset"}};
  json value = {{"oneOf", {{{"type", "number"}}, Str(), Bool()}}};
  json reading = Obj({{"key", Str()},
                      {"ts", Time()},
                      {"value", value},
                      {"unit", Str()},
                      {"quality", Str()},
                      {"min", {{"type", "number"}}},
                      {"max", {{"type", "number"}}},
                      {"avg", {{"type", "number"}}},
                      {"count", Int()}});
  // Reading and message lists stop at 16 MiB of rows (api/readings.cc kListBudgetBytes).
  json truncated = {{"type", "boolean"},
                    {"description",
                     "true when the answer stopped before `limit` rows (buckets: at `limit`; "
                     "readings and messages: at 16 MiB of rows) while more rows remain"}};
  json next = {{"type", "string"},
               {"nullable", true},
               {"description",
                "readings and messages: when truncated, the URL of the rest (the same query "
                "with `to`, `skip` and the `limit` left), also sent as a Link rel=\"next\" "
                "header (CSV too); null otherwise"}};
  s["Readings"] = Obj({{"deviceId", Int()},
                       {"key", Str()},
                       {"bucket", Str()},
                       {"items", {{"type", "array"}, {"items", reading}}},
                       {"limit", Int()},
                       {"truncated", truncated},
                       {"next", next}});
  s["Keys"] = Obj({{"deviceId", Int()}, {"items", {{"type", "array"}, {"items", Str()}}}});
  json message = Obj({{"id", Int()},
                      {"receivedAt", Time()},
                      {"transport", Str()},
                      {"contentType", Str()},
                      {"payload", Str()},
                      {"payloadEncoding", Str()},
                      {"decodeStatus", Str()},
                      {"decodeError", Str()},
                      {"decodeErrors", StrArray()},
                      {"decodeWarnings", StrArray()}});
  s["Messages"] = Obj({{"deviceId", Int()},
                       {"items", {{"type", "array"}, {"items", message}}},
                       {"limit", Int()},
                       {"total", Int()},
                       {"truncated", truncated},
                       {"next", next}});
  s["QualityCounts"] = Obj({{"deviceId", Int()},
                            {"counts", {{"type", "object"}, {"additionalProperties", Int()}}},
                            {"total", Int()}});
  json latest = Obj({{"deviceId", Int()},
                     {"deviceName", Str()},
                     {"readings", {{"type", "object"}, {"additionalProperties", reading}}}});
  s["ApplicationLatest"] = Obj({{"applicationId", Int()},
                                {"items", {{"type", "array"}, {"items", latest}}},
                                {"next", LatestNext()}});
  s["StreamReading"] =
      Obj({{"deviceId", Int()}, {"key", Str()}, {"ts", Time()}, {"value", value}, {"unit", Str()}});
  s["UiConfig"] =
      Obj({{"tileUrl", Str()}, {"coap", Obj({{"udpPort", Int()}, {"dtlsPort", Int()}})}});
  // api/geocode.cc: at most 10 places for an address text.
  s["Places"] = Obj({{"items",
                      {{"type", "array"},
                       {"maxItems", 10},
                       {"items", Obj({{"label", Str()},
                                      {"lat", {{"type", "number"}}},
                                      {"lon", {{"type", "number"}}}})}}}});
  {  // api/decoders.cc, api/jobs.cc
    json kind = {{"type", "string"}, {"enum", {"js", "cayenne_lpp", "senml"}}};
    json contract = {
        {"type", "string"},
        {"enum", {"auto", "os2iot", "ttn", "chirpstack", "chirpstack-v3", "ttn-v2"}},
        {"description",
         "entry point: auto (from the code), os2iot decode(payload, metadata), ttn / chirpstack "
         "decodeUplink(input), chirpstack-v3 Decode(fPort, bytes, variables), ttn-v2 "
         "Decoder(bytes, port); stored per version"}};
    s["DecoderInput"] =
        Obj({{"name", Str()}, {"kind", kind}, {"code", Str()}, {"contract", contract}});
    s["Decoder"] = Obj({{"id", Int()},
                        {"orgId", Int()},
                        {"name", Str()},
                        {"kind", kind},
                        {"version", Int()},
                        {"code", Str()},
                        {"contract", contract},
                        {"createdAt", Time()},
                        {"updatedAt", Time()}});
    json version = Obj({{"version", Int()},
                        {"code", Str()},
                        {"contract", contract},
                        {"createdAt", Time()},
                        {"createdBy", Nullable(Int())}});
    s["DecoderVersions"] =
        Obj({{"decoderId", Int()}, {"items", {{"type", "array"}, {"items", version}}}});
    s["DecoderAttachment"] = Obj({{"decoderId", Nullable(Int())}}, {"decoderId"});
    s["DecoderTest"] = Obj({{"code", Str()},
                            {"kind", kind},
                            {"contract", contract},
                            {"decoderId", Int()},
                            {"orgId", Int()},
                            {"payload", {{"description", "hex or base64 string, or JSON"}}},
                            {"encoding", {{"type", "string"}, {"enum", {"hex", "base64", "json"}}}},
                            {"fPort", Int()},
                            {"deviceId", Int()}},
                           {"payload"});
    s["DecoderTestResult"] =
        Obj({{"output", {{"description", "the decoder's output"}}},
             {"readings", {{"type", "array"}, {"items", {{"type", "object"}}}}},
             {"log", StrArray()},
             {"errors", StrArray()},
             {"warnings", StrArray()},
             {"entryPoint", Nullable(Str())},
             {"durationUs", Int()},
             {"error", Nullable(Str())}});
    s["DownlinkInput"] =
        Obj({{"fPort", Int()},
             {"data", {{"type", "string"}, {"description", "base64 bytes"}}},
             {"hex", {{"type", "string"}, {"description", "hex bytes"}}},
             {"object",
              {{"type", "object"},
               {"description",
                "encoded by the device's decoder (own, else its application's) with its "
                "encodeDownlink; errors: 400 with error.errors[]; no such decoder: 409"}}},
             {"confirmed", Bool()}});
    json downlink = Obj({{"id", Int()},
                         {"deviceId", Int()},
                         {"createdAt", Time()},
                         {"fPort", Int()},
                         {"data", Str()},
                         {"object", Nullable({{"type", "object"}})},
                         {"confirmed", Bool()},
                         {"topic",
                          {{"type", "string"},
                           {"description",
                            "the MQTT topic; \"coap\" for an HTTP device: the downlink waits "
                            "for the answer to its next CoAP uplink"}}},
                         {"status",
                          {{"type", "string"},
                           {"enum", {"queued", "published", "sent", "failed"}},
                           {"description",
                            "published: the broker took it (LoRaWAN, MQTT); sent: carried by "
                            "the answer to a CoAP uplink"}}},
                         {"error", Str()},
                         {"warnings", StrArray()}});
    s["Downlink"] = downlink;
    s["Downlinks"] =
        Obj({{"deviceId", Int()}, {"items", {{"type", "array"}, {"items", downlink}}}});
    s["RedecodeInput"] = Obj({{"from", Time()}, {"to", Time()}, {"deviceId", Int()}});
    s["JobAccepted"] = Obj({{"jobId", Int()}});
    // api/org_export.cc (archive/README.md).
    s["ExportList"] =
        Obj({{"items", {{"type", "array"}, {"items", Obj({{"jobId", Int()}, {"bytes", Int()}})}}}});
    s["ExportList"]["description"] =
        "The organisation's kept archives, oldest first: only its newest few stay (older ones are "
        "deleted when a newer export finishes), each for at most 7 days (src/archive/README.md)";
    s["ImportArchive"] =
        Obj({{"archive",
              {{"type", "string"},
               {"format", "byte"},
               {"description",
                "the archive file as exported, base64 (at most ~190 MiB: the CLI "
                "`bysans import` for larger)"}}},
             {"name", {{"type", "string"}, {"description", "the new organisation's name"}}}},
            {"archive"});
    s["ImportReport"] = Obj({{"orgId", Int()},
                             {"name", Str()},
                             {"applications", Int()},
                             {"devices", Int()},
                             {"deviceModels", Int()},
                             {"decoders", Int()},
                             {"rules", Int()},
                             {"dataTargets", Int()},
                             {"integrations", Int()},
                             {"invitations", Int()},
                             {"readings", Int()},
                             {"rawMessages", Int()},
                             {"notes", StrArray()}});
    s["Job"] = Obj({{"id", Int()},
                    {"orgId", Int()},
                    {"kind", Str()},
                    {"state", Str()},
                    {"done", Int()},
                    {"total", Int()},
                    {"errors", Int()},
                    {"error", Nullable(Str())}});
  }
  return s;
}

json ResponseSchema(std::string_view response) {
  constexpr std::string_view kList = "list:";
  if (response.substr(0, kList.size()) == kList) {
    return Obj({{"items", {{"type", "array"}, {"items", Ref(response.substr(kList.size()))}}},
                {"total", Int()},
                {"limit", Int()},
                {"offset", Int()}});
  }
  return Ref(response);
}

// The router's "{*name}" (the rest of the path) as OpenAPI writes a parameter: "{name}".
std::string PathKey(std::string pattern) {
  if (size_t i = pattern.find("{*"); i != std::string::npos) pattern.erase(i + 1, 1);
  return pattern;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

json Operation(const http::RouteInfo& r) {
  json op = {{"summary", r.summary}, {"operationId", Lower(r.method) + " " + PathKey(r.pattern)}};
  json params = json::array();
  size_t i = 0;
  while ((i = r.pattern.find('{', i)) != std::string::npos) {
    size_t j = r.pattern.find('}', i);
    if (j == std::string::npos) break;
    std::string name = r.pattern.substr(i + 1, j - i - 1);
    if (name.starts_with('*')) name.erase(0, 1);  // "{*path}": the rest of the path
    params.push_back({{"name", name}, {"in", "path"}, {"required", true}, {"schema", Str()}});
    i = j;
  }
  if (!params.empty()) op["parameters"] = params;
  json responses;
  json error = {{"description", "error"},
                {"content", {{"application/json", {{"schema", Ref("Error")}}}}}};
  responses["default"] = error;
  if (const Op* o = FindOp(r)) {
    if (!o->request.empty())
      op["requestBody"] = {{"required", true},
                           {"content", {{"application/json", {{"schema", Ref(o->request)}}}}}};
    json ok = {{"description", "success"}};
    if (!o->response.empty())
      ok["content"] = {{"application/json", {{"schema", ResponseSchema(o->response)}}}};
    else if (r.pattern.ends_with(".csv"))
      ok["content"] = {{"text/csv", {{"schema", Str()}}}};
    else if (r.pattern.ends_with("/archive"))
      ok["content"] = {
          {"application/x-tar", {{"schema", {{"type", "string"}, {"format", "binary"}}}}}};
    else if (r.pattern == "/metrics")
      ok["content"] = {{"text/plain", {{"schema", Str()}}}};
    else if (r.pattern.ends_with("/stream"))
      ok["content"] = {
          {"text/event-stream",
           {{"schema", Str()},
            {"description",
             "event: reading, data: StreamReading (JSON); event: alarm, data: {event (raised, "
             "acknowledged, cleared, updated), id, deviceId, ruleId, state, status, open, "
             "severity, message, raisedAt}"}}}};
    else if (r.pattern == "/api/openapi.json")
      ok["content"] = {{"application/json", {{"schema", {{"type", "object"}}}}}};
    responses[std::to_string(o->status)] = ok;
  } else {
    responses["200"] = {{"description", "success"}};
  }
  op["responses"] = responses;
  return op;
}

}  // namespace

json BuildOpenApi(const std::vector<http::RouteInfo>& routes) {
  json paths = json::object();
  for (const auto& r : routes) paths[PathKey(r.pattern)][Lower(r.method)] = Operation(r);
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "bysans"},
            {"version", "0.1.0"},
            {"description", "IoT platform for Danish municipalities"}}},
          {"paths", std::move(paths)},
          {"components",
           {{"schemas", Components()},
            {"securitySchemes",
             {{"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}}},
              {"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
              {"session", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "bysans_session"}}}}}}},
          {"security", json::array({{{"apiKey", json::array()}},
                                    {{"bearer", json::array()}},
                                    {{"session", json::array()}}})}};
}

std::vector<std::string> RoutesWithoutSchema(const std::vector<http::RouteInfo>& routes) {
  std::vector<std::string> out;
  for (const auto& r : routes)
    if (!FindOp(r)) out.push_back(r.method + " " + r.pattern);
  return out;
}

}  // namespace bysans::api
