#include "api/objects.h"

#include "core/time_format.h"
#include "sta/mqtt_topics.h"

namespace bysans::api {

using json = nlohmann::json;

namespace {
template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}
}  // namespace

json ToJson(const Organization& o) {
  return {{"id", o.id}, {"name", o.name}, {"createdAt", FormatRfc3339(o.created_ms)}};
}

json ToJson(const Application& a) {
  return {{"id", a.id},
          {"orgId", a.org_id},
          {"name", a.name},
          {"description", a.description},
          {"dataClass", DataClassName(a.data_class)},
          {"personalData", HoldsPersonalData(a.data_class)},
          {"retention", ToJson(a.retention)},
          {"purpose", a.purpose},
          {"legalBasis", a.legal_basis},
          {"dataCategories", a.data_categories},
          {"recipients", a.recipients},
          {"personalMetadataKeys", a.personal_metadata_keys},
          {"createdAt", FormatRfc3339(a.created_ms)}};
}

json ToJson(const RetentionDays& r) {
  return {{"rawMessagesDays", OrNull(r.raw_messages_days)},
          {"readingsDays", OrNull(r.readings_days)},
          {"aggregatesDays", OrNull(r.aggregates_days)}};
}

json ToJson(const Device& d) {
  json j = {{"id", d.id},
            {"orgId", d.org_id},
            {"applicationId", d.app_id},
            {"name", d.name},
            {"transport", TransportName(d.transport)},
            {"devEui", d.dev_eui.empty() ? json(nullptr) : json(d.dev_eui)},
            {"location", nullptr},
            {"tags", d.tags},
            {"metadata", json::object()},
            {"deviceModelId", OrNull(d.device_model_id)},
            {"expectedIntervalS", d.expected_interval_s},
            {"inMaintenance", d.in_maintenance},
            {"createdAt", FormatRfc3339(d.created_ms)}};
  if (d.location) j["location"] = {{"lat", d.location->lat}, {"lon", d.location->lon}};
  for (const auto& [k, v] : d.metadata) j["metadata"][k] = v;
  return j;
}

json ToJson(const DeviceModel& m) {
  json doc = json::parse(m.doc_json, nullptr, false);
  if (doc.is_discarded()) doc = json::object();
  return {{"id", m.id},
          {"orgId", m.org_id},
          {"name", m.name},
          {"doc", std::move(doc)},
          {"createdAt", FormatRfc3339(m.created_ms)}};
}

json ToJson(const User& u) {
  return {{"id", u.id},
          {"email", u.email},
          {"name", u.name},
          {"globalAdmin", u.global_admin},
          {"createdAt", FormatRfc3339(u.created_ms)}};
}

json ToJson(const ApiKey& k) {
  return {{"id", k.id},
          {"orgId", k.org_id},
          {"name", k.name},
          {"role", RoleName(k.role)},
          {"prefix", k.prefix},
          {"expiresAt", k.expires_ms ? json(FormatRfc3339(*k.expires_ms)) : json(nullptr)},
          {"createdBy", k.created_by ? json(k.created_by) : json(nullptr)},
          {"createdByKey", OrNull(k.created_by_key)},
          {"mqtt", !k.mqtt_hash.empty()},
          // SensorThings over MQTT: the broker user name (server/sta_mqtt.h).
          {"mqttUser", k.mqtt_hash.empty() ? json(nullptr) : json(sta::MqttKeyUserName(k.id))},
          {"createdAt", FormatRfc3339(k.created_ms)}};
}

json ToJson(const Invitation& i) {
  return {{"id", i.id},
          {"orgId", i.org_id},
          {"email", i.email},
          {"role", RoleName(i.role)},
          {"invitedBy", i.invited_by ? json(i.invited_by) : json(nullptr)},
          {"createdAt", FormatRfc3339(i.created_ms)},
          {"expiresAt", FormatRfc3339(i.expires_ms)},
          // null: the whole organisation; a list: those applications only.
          {"applications", i.app_scoped ? json(i.app_ids) : json(nullptr)}};
}

json ToJson(const AuditEntry& e) {
  return {{"id", e.id},
          {"orgId", OrNull(e.org_id)},
          {"userId", OrNull(e.user_id)},
          {"apiKeyId", OrNull(e.api_key_id)},
          {"action", e.action},
          {"objectType", e.object_type},
          {"objectId", e.object_id},
          {"remoteAddr", e.remote_addr},
          {"detail", e.detail},
          {"ts", FormatRfc3339(e.ts)}};
}

json ToJson(const Membership& m) {
  json j = {{"orgId", m.org_id}, {"role", RoleName(m.role)}};
  // null: the whole organisation; a list: those applications only (access per application).
  j["applications"] = m.app_scoped ? json(m.app_ids) : json(nullptr);
  return j;
}

}  // namespace bysans::api
