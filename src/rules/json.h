// JSON forms of rules and alarms: the API's shape and the store's documents
// (store/rule_store.h keeps rule definitions and alarms as JSON text).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "rules/alarm.h"
#include "rules/rule.h"
#include "store/rule_store.h"

namespace bysans::rules {

using json = nlohmann::json;

// A rule definition as the API accepts it:
//   {"name", "scope": {"kind": "device|application|device_model|tag|gateway", "id", "tag",
//    "gatewayId" (gateway scope: one gateway; absent, null or "*": all of the organisation's)},
//    "severity", "kind": "expression|silence|rate_of_change|gateway_offline|gateway_packets",
//    "expression",
//    "clearExpression", "forMs", "remindEveryMs", "enabled",
//    "silence": {"fixedMs", "intervalMultiple"},
//    "rate": {"key", "windowMs", "threshold", "direction"},
//    "gateway": {"offlineMs"} (gateway_offline) | {"counter", "min", "max"} (gateway_packets),
//    "actions": [...]}
// Fields absent from `body` keep their value in `rule`/`actions`. Errors name
// the field. Does not run ValidateRule.
Status RuleFromJson(const json& body, Rule* rule, json* actions);
json RuleToJson(const Rule& rule, const json& actions);

// At most this many actions per rule (each distinct target costs a delivery queue).
inline constexpr size_t kMaxActionsPerRule = 10;

// Checks the action list (at most kMaxActionsPerRule): each {"type": "webhook", "url", "headers",
// "body", "timeoutMs", "on": ["raise","clear","remind"]} or {"type": "email", "url" (smtp:// or
// smtps://), "from", "to": [...], "subject", "body", "username", "password", "on"}, {"type":
// "mqtt", "topic" (template), "payload" (template, default the alarm context as JSON), "qos": 1,
// "on"}, {"type": "downlink", "fPort", "data" (base64) | "hex", "confirmed", "on"} (to the
// alarm's device), {"type": "sms", "to": [phone numbers], "message" (template), "on"} or
// {"type": "notify_contacts", "via": "email" | "sms" | "both", "message" (template), and for
// e-mails the SMTP members of "email" without "to", "on"} (the alarm device's effective
// contacts, model/contact.h). from, to, subject, username and header names/values must not contain
// CR, LF or NUL; URLs no credentials. Secrets have API and stored forms (act/action_secrets.h): a
// header value may be null (keep the stored one), "password" null; the output-only and stored-only
// members are accepted.
Status ValidateActions(const json& actions);

// The actions this rule may have: an "mqtt" action's topic in the rule's organisation's namespace
// (act::ActionTopicPrefix of rule.org_id; InvalidArgument naming "actions[i].topic"); a gateway
// rule refuses "downlink" and "notify_contacts" (a gateway has no device and no responsible
// contacts; InvalidArgument naming "actions[i].type"). ValidateActions checks the rest.
Status CheckActionsForRule(const Rule& rule, const json& actions);

// The whole alarm as the store keeps it, and back.
json AlarmToDoc(const Alarm& a);
Result<Alarm> AlarmFromDoc(const std::string& doc);
// Writes the alarm into its store record: state, awaiting_ack and doc.
void SaveToRecord(const Alarm& a, AlarmRecord* rec);

json ValueToJson(const Value& v);

}  // namespace bysans::rules
