#include "rules/action_guard.h"

#include <nlohmann/json.hpp>
#include <string>

namespace bysans::rules {

Status CheckActionTenancy(Store& store, const OutboxEntry& e) {
  auto refuse = [&e](const std::string& why) {
    return PermissionDenied("action of organisation " + std::to_string(e.org_id) + ": " + why);
  };
  auto alarm = store.rules().GetAlarm(e.alarm_id);
  if (!alarm.ok()) return refuse("alarm " + std::to_string(e.alarm_id) + " not found");
  if (alarm->org_id != e.org_id) return refuse("the alarm is of another organisation");
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
