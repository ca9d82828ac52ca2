#include "rules/action_guard.h"

#include <nlohmann/json.hpp>
#include <string>

#include "store/gateway_store.h"

namespace bysans::rules {
namespace {

// A gateway alarm (device 0): its gateway is one of the row's organisation, no device or
// contacts are acted on.
template <typename Refuse>
Status CheckGatewayAlarm(Store& store, const OutboxEntry& e, const AlarmRecord& alarm,
                         const Refuse& refuse) {
  if (alarm.device_id != 0) return refuse("a gateway alarm names a device");
  if (!store.gateways().GetGatewayHealth(e.org_id, alarm.gateway_id).ok()) {
    return refuse("gateway " + alarm.gateway_id + " is not a gateway of the organisation");
  }
  auto rule = store.rules().GetRule(e.rule_id);
  if (rule.ok() && rule->org_id != e.org_id) return refuse("the rule is of another organisation");
  auto spec = nlohmann::json::parse(e.spec, nullptr, false);
  const std::string type = spec.is_object() ? spec.value("type", "") : "";
  if (type == "downlink" || type == "notify_contacts" ||
      (spec.is_object() && spec.contains("deviceId"))) {
    return refuse("a gateway alarm has no device or contacts to act on");
  }
  return Status::Ok();
}

}  // namespace

Status CheckActionTenancy(Store& store, const OutboxEntry& e) {
  auto refuse = [&e](const std::string& why) {
    return PermissionDenied("action of organisation " + std::to_string(e.org_id) + ": " + why);
  };
  auto alarm = store.rules().GetAlarm(e.alarm_id);
  if (!alarm.ok()) return refuse("alarm " + std::to_string(e.alarm_id) + " not found");
  if (alarm->org_id != e.org_id) return refuse("the alarm is of another organisation");
  if (!alarm->gateway_id.empty()) return CheckGatewayAlarm(store, e, *alarm, refuse);
  auto device = store.GetDevice(alarm->device_id);
  if (!device.ok()) return refuse("device " + std::to_string(alarm->device_id) + " not found");
  if (device->org_id != e.org_id) return refuse("the alarm's device is of another organisation");
  auto rule = store.rules().GetRule(e.rule_id);
  if (rule.ok() && rule->org_id != e.org_id) return refuse("the rule is of another organisation");
  auto spec = nlohmann::json::parse(e.spec, nullptr, false);
  if (spec.is_object() && spec.contains("deviceId") &&
      (!spec["deviceId"].is_number_integer() || spec["deviceId"].get<Id>() != alarm->device_id)) {
    return refuse("the downlink names another device than the alarm's");
  }
  return Status::Ok();
}

}  // namespace bysans::rules
