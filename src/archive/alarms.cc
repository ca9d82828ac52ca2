#include "archive/alarms.h"

#include <algorithm>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/time_format.h"

namespace bysans::archive {

using nlohmann::json;

namespace {

const char* const kStates[] = {"active", "acknowledged", "cleared"};

Status Bad(const char* field, const std::string& why) {
  return InvalidArgument(std::string("field \"") + field + "\": " + why);
}

Result<Id> IdField(const json& j, const char* f) {
  auto it = j.find(f);
  if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() <= 0)
    return Bad(f, "must be a positive integer");
  return it->get<Id>();
}

}  // namespace

void AppendAlarmLine(std::string& out, const AlarmRecord& a) {
  json doc = json::parse(a.doc, nullptr, false);
  if (doc.is_discarded()) doc = json::object();
  json line = {{"id", a.id},
               {"rule", a.rule_id},
               {"device", a.device_id},
               {"state", a.state},
               {"awaitingAcknowledge", a.awaiting_ack},
               {"raisedAt", FormatRfc3339(a.raised_ms)},
               {"alarm", std::move(doc)}};
  if (!a.gateway_id.empty()) line["gateway"] = a.gateway_id;  // a gateway alarm (device 0)
  out += line.dump(-1, ' ', false, json::error_handler_t::replace);
  out += '\n';
}

Status ParseAlarmLine(std::string_view line, AlarmRecord& a) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("not a JSON object");
  BYSANS_ASSIGN_OR_RETURN(a.id, IdField(j, "id"));
  BYSANS_ASSIGN_OR_RETURN(a.rule_id, IdField(j, "rule"));
  // A gateway alarm: device 0 and its gateway's id (absent in archives before gateway rules).
  auto gateway = j.find("gateway");
  if (gateway != j.end()) {
    if (!gateway->is_string() || gateway->get<std::string>().size() > 64)
      return Bad("gateway", "must be a gateway id (a string of at most 64 characters)");
    a.gateway_id = gateway->get<std::string>();
  }
  if (!a.gateway_id.empty()) {
    auto device = j.find("device");
    if (device == j.end() || !device->is_number_integer() || device->get<Id>() != 0)
      return Bad("device", "must be 0 for a gateway alarm");
    a.device_id = 0;
  } else {
    BYSANS_ASSIGN_OR_RETURN(a.device_id, IdField(j, "device"));
  }
  auto state = j.find("state");
  if (state == j.end() || !state->is_string()) return Bad("state", "must be a string");
  a.state = state->get<std::string>();
  if (std::find(std::begin(kStates), std::end(kStates), a.state) == std::end(kStates))
    return Bad("state", "must be active, acknowledged or cleared");
  // Cleared but awaiting a person's acknowledgement (absent in archives before issue 21).
  auto awaiting = j.find("awaitingAcknowledge");
  if (awaiting != j.end() && !awaiting->is_boolean())
    return Bad("awaitingAcknowledge", "must be a boolean");
  a.awaiting_ack = awaiting != j.end() && awaiting->get<bool>();
  if (a.awaiting_ack && a.state != "cleared")
    return Bad("awaitingAcknowledge", "only a cleared alarm awaits acknowledgement");
  auto raised = j.find("raisedAt");
  std::optional<TimeMs> t;
  if (raised != j.end() && raised->is_string()) t = ParseTime(raised->get<std::string>());
  if (!t) return Bad("raisedAt", "must be an RFC 3339 time");
  a.raised_ms = *t;
  auto doc = j.find("alarm");
  if (doc == j.end() || !doc->is_object()) return Bad("alarm", "must be an object");
  a.doc = doc->dump();
  return Status::Ok();
}

Result<AlarmRecord> RemapAlarm(const AlarmRecord& a, Id org_id, Id rule_id, Id device_id) {
  json doc = json::parse(a.doc, nullptr, false);
  if (!doc.is_object()) return InvalidArgument("alarm document is not an object");
  doc["orgId"] = org_id;
  doc["ruleId"] = rule_id;
  doc["deviceId"] = device_id;
  AlarmRecord out = a;
  out.id = 0;
  out.org_id = org_id;
  out.rule_id = rule_id;
  out.device_id = device_id;
  out.doc = doc.dump();
  return out;
}

}  // namespace bysans::archive
