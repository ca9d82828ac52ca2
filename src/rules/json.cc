#include "rules/json.h"

#include <set>

#include "act/action_secrets.h"
#include "act/outbox.h"
#include "act/sms.h"
#include "core/encoding.h"
#include "model/contact.h"

namespace bysans::rules {
namespace {

Status Bad(const std::string& field, const std::string& what) {
  return InvalidArgument("field '" + field + "' " + what);
}

Status GetString(const json& o, const char* k, const std::string& path, std::string* out) {
  if (!o.contains(k)) return Status::Ok();
  if (!o[k].is_string()) return Bad(path + k, "must be a string");
  *out = o[k].get<std::string>();
  return Status::Ok();
}

Status GetInt(const json& o, const char* k, const std::string& path, int64_t* out) {
  if (!o.contains(k)) return Status::Ok();
  if (!o[k].is_number_integer()) return Bad(path + k, "must be an integer");
  *out = o[k].get<int64_t>();
  return Status::Ok();
}

Status GetDouble(const json& o, const char* k, const std::string& path, double* out) {
  if (!o.contains(k)) return Status::Ok();
  if (!o[k].is_number()) return Bad(path + k, "must be a number");
  *out = o[k].get<double>();
  return Status::Ok();
}

// CR, LF or NUL: would end an SMTP command or a mail/HTTP header line early (injection).
bool HasLineBreak(const std::string& v) {
  return v.find_first_of(std::string("\r\n\0", 3)) != std::string::npos;
}

// An action URL: no line breaks or control characters, no credentials (user:password@) in it.
Status CheckActionUrl(const std::string& url, const std::string& field) {
  for (unsigned char c : url) {
    if (c < 0x20 || c == 0x7f || c == ' ')
      return Bad(field, "must not contain spaces or control characters");
  }
  size_t scheme = url.find("://");
  size_t end = url.find_first_of("/?#", scheme == std::string::npos ? 0 : scheme + 3);
  if (url.substr(0, end).find('@') != std::string::npos) {
    return Bad(field, "must not hold credentials; use 'headers' or 'username'/'password'");
  }
  return Status::Ok();
}

Status CheckKeys(const json& o, const std::string& path, const std::set<std::string>& allowed) {
  for (auto it = o.begin(); it != o.end(); ++it) {
    if (!allowed.count(it.key())) return Bad(path + it.key(), "is not a known field");
  }
  return Status::Ok();
}

// The SMTP members of an "email" or "notify_contacts" action (the latter's e-mails).
Status CheckSmtp(const json& a, const std::string& p, const std::string& url,
                 const std::string& subject) {
  if (url.rfind("smtp://", 0) != 0 && url.rfind("smtps://", 0) != 0) {
    return Bad(p + "url", "must be an smtp:// or smtps:// URL (server and port)");
  }
  BYSANS_RETURN_IF_ERROR(CheckActionUrl(url, p + "url"));
  std::string from;
  BYSANS_RETURN_IF_ERROR(GetString(a, "from", p, &from));
  if (from.empty()) return Bad(p + "from", "is required");
  if (!act::IsMailAddress(from)) {
    return Bad(p + "from", "must be one e-mail address (no line breaks, '<', '>' or spaces)");
  }
  if (HasLineBreak(subject)) return Bad(p + "subject", "must not contain line breaks");
  std::string tmp;
  BYSANS_RETURN_IF_ERROR(GetString(a, "username", p, &tmp));
  if (HasLineBreak(tmp)) return Bad(p + "username", "must not contain line breaks");
  if (a.contains("password") && !a["password"].is_null()) {
    BYSANS_RETURN_IF_ERROR(GetString(a, "password", p, &tmp));
  }
  return Status::Ok();
}

// The "message" template of an "sms" or "notify_contacts" action: a string of at most
// act::kMaxSmsMessage bytes.
Status CheckMessage(const json& a, const std::string& p) {
  std::string message;
  BYSANS_RETURN_IF_ERROR(GetString(a, "message", p, &message));
  if (message.size() > act::kMaxSmsMessage) {
    return Bad(p + "message", "must be at most " + std::to_string(act::kMaxSmsMessage) + " bytes");
  }
  return Status::Ok();
}

}  // namespace

json ValueToJson(const Value& v) {
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  return std::get<bool>(v);
}

namespace {
Value ValueFromJson(const json& j) {
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) return j.get<std::string>();
  return std::string(j.dump());
}
}  // namespace

Status RuleFromJson(const json& body, Rule* r, json* actions) {
  if (!body.is_object()) return InvalidArgument("the rule must be a JSON object");
  BYSANS_RETURN_IF_ERROR(CheckKeys(
      body, "",
      {"name", "scope", "severity", "kind", "expression", "clearExpression", "forMs",
       "remindEveryMs", "enabled", "requireAcknowledge", "silence", "rate", "gateway", "actions",
       // output-only fields, so a GET body can be sent back
       "id", "orgId", "createdAt", "updatedAt", "warnings"}));
  BYSANS_RETURN_IF_ERROR(GetString(body, "name", "", &r->name));
  if (body.contains("scope")) {
    const json& s = body["scope"];
    if (!s.is_object()) return Bad("scope", "must be an object");
    BYSANS_RETURN_IF_ERROR(CheckKeys(s, "scope.", {"kind", "id", "tag", "gatewayId"}));
    std::string kind = ScopeKindName(r->scope.kind);
    BYSANS_RETURN_IF_ERROR(GetString(s, "kind", "scope.", &kind));
    auto k = ParseScopeKind(kind);
    if (!k) return Bad("scope.kind", "must be device, application, device_model, tag or gateway");
    r->scope.kind = *k;
    BYSANS_RETURN_IF_ERROR(GetInt(s, "id", "scope.", &r->scope.id));
    BYSANS_RETURN_IF_ERROR(GetString(s, "tag", "scope.", &r->scope.tag));
    // A scope given replaces the previous one whole: a gateway scope without gatewayId (or "*")
    // watches all the organisation's gateways.
    r->scope.gateway_id.clear();
    if (s.contains("gatewayId") && !s["gatewayId"].is_null()) {
      BYSANS_RETURN_IF_ERROR(GetString(s, "gatewayId", "scope.", &r->scope.gateway_id));
      if (r->scope.gateway_id == "*") r->scope.gateway_id.clear();
      for (char& c : r->scope.gateway_id) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');  // as ingest stores them
      }
    }
    if (*k != ScopeKind::kGateway && !r->scope.gateway_id.empty()) {
      return Bad("scope.gatewayId", "is only for a gateway scope");
    }
  }
  if (body.contains("severity")) {
    std::string sev;
    BYSANS_RETURN_IF_ERROR(GetString(body, "severity", "", &sev));
    auto s = ParseSeverity(sev);
    if (!s) return Bad("severity", "must be info, warning or critical");
    r->severity = *s;
  }
  if (body.contains("kind")) {
    std::string kind;
    BYSANS_RETURN_IF_ERROR(GetString(body, "kind", "", &kind));
    auto k = ParseConditionKind(kind);
    if (!k) {
      return Bad("kind",
                 "must be expression, silence, rate_of_change, gateway_offline or "
                 "gateway_packets");
    }
    r->kind = *k;
  }
  BYSANS_RETURN_IF_ERROR(GetString(body, "expression", "", &r->expression));
  BYSANS_RETURN_IF_ERROR(GetString(body, "clearExpression", "", &r->clear_expression));
  BYSANS_RETURN_IF_ERROR(GetInt(body, "forMs", "", &r->for_ms));
  BYSANS_RETURN_IF_ERROR(GetInt(body, "remindEveryMs", "", &r->remind_every_ms));
  if (body.contains("enabled")) {
    if (!body["enabled"].is_boolean()) return Bad("enabled", "must be true or false");
    r->enabled = body["enabled"].get<bool>();
  }
  if (body.contains("requireAcknowledge")) {
    const json& v = body["requireAcknowledge"];
    if (v.is_null()) {
      r->require_acknowledge.reset();
    } else if (v.is_boolean()) {
      r->require_acknowledge = v.get<bool>();
    } else {
      return Bad("requireAcknowledge", "must be true, false or null (default: critical only)");
    }
  }
  if (body.contains("silence")) {
    const json& s = body["silence"];
    if (!s.is_object()) return Bad("silence", "must be an object");
    BYSANS_RETURN_IF_ERROR(CheckKeys(s, "silence.", {"fixedMs", "intervalMultiple"}));
    BYSANS_RETURN_IF_ERROR(GetInt(s, "fixedMs", "silence.", &r->silence.fixed_ms));
    BYSANS_RETURN_IF_ERROR(
        GetDouble(s, "intervalMultiple", "silence.", &r->silence.interval_multiple));
  }
  if (body.contains("rate")) {
    const json& s = body["rate"];
    if (!s.is_object()) return Bad("rate", "must be an object");
    BYSANS_RETURN_IF_ERROR(CheckKeys(s, "rate.", {"key", "windowMs", "threshold", "direction"}));
    BYSANS_RETURN_IF_ERROR(GetString(s, "key", "rate.", &r->rate.key));
    BYSANS_RETURN_IF_ERROR(GetInt(s, "windowMs", "rate.", &r->rate.window_ms));
    BYSANS_RETURN_IF_ERROR(GetDouble(s, "threshold", "rate.", &r->rate.threshold));
    if (s.contains("direction")) {
      std::string d;
      BYSANS_RETURN_IF_ERROR(GetString(s, "direction", "rate.", &d));
      auto dir = ParseDirection(d);
      if (!dir) return Bad("rate.direction", "must be rise, fall or either");
      r->rate.direction = *dir;
    }
  }
  if (body.contains("gateway")) {
    const json& g = body["gateway"];
    if (!g.is_object()) return Bad("gateway", "must be an object");
    BYSANS_RETURN_IF_ERROR(CheckKeys(g, "gateway.", {"offlineMs", "counter", "min", "max"}));
    BYSANS_RETURN_IF_ERROR(GetInt(g, "offlineMs", "gateway.", &r->gateway.offline_ms));
    if (g.contains("counter")) {
      std::string c;
      BYSANS_RETURN_IF_ERROR(GetString(g, "counter", "gateway.", &c));
      auto counter = ParseGatewayCounter(c);
      if (!counter) {
        return Bad("gateway.counter",
                   "must be rx_received_ok, rx_received, tx_received or tx_emitted");
      }
      r->gateway.counter = *counter;
    }
    for (const char* bound : {"min", "max"}) {
      if (!g.contains(bound)) continue;
      std::optional<double>& v = bound[1] == 'i' ? r->gateway.min : r->gateway.max;
      if (g[bound].is_null()) {
        v.reset();
        continue;
      }
      double d = 0;
      BYSANS_RETURN_IF_ERROR(GetDouble(g, bound, "gateway.", &d));
      v = d;
    }
  }
  if (body.contains("actions")) {
    BYSANS_RETURN_IF_ERROR(ValidateActions(body["actions"]));
    *actions = body["actions"];
  }
  return Status::Ok();
}

json RuleToJson(const Rule& r, const json& actions) {
  json scope = {{"kind", ScopeKindName(r.scope.kind)}};
  if (r.scope.kind == ScopeKind::kTag) {
    scope["tag"] = r.scope.tag;
  } else if (r.scope.kind == ScopeKind::kGateway) {
    if (!r.scope.gateway_id.empty()) scope["gatewayId"] = r.scope.gateway_id;
  } else {
    scope["id"] = r.scope.id;
  }
  json j = {{"id", r.id},
            {"orgId", r.org_id},
            {"name", r.name},
            {"scope", scope},
            {"severity", SeverityName(r.severity)},
            {"kind", ConditionKindName(r.kind)},
            {"forMs", r.for_ms},
            {"remindEveryMs", r.remind_every_ms},
            {"enabled", r.enabled},
            {"requireAcknowledge", RequiresAcknowledge(r)},
            {"actions", actions.is_array() ? actions : json::array()}};
  if (r.kind == ConditionKind::kExpression) {
    j["expression"] = r.expression;
    j["clearExpression"] = r.clear_expression;
  } else if (r.kind == ConditionKind::kSilence) {
    j["silence"] = {{"fixedMs", r.silence.fixed_ms},
                    {"intervalMultiple", r.silence.interval_multiple}};
  } else if (IsGatewayKind(r.kind)) {
    json g = json::object();
    if (r.kind == ConditionKind::kGatewayOffline) {
      g["offlineMs"] = r.gateway.offline_ms;
    } else {
      g["counter"] = GatewayCounterName(r.gateway.counter);
      g["min"] = r.gateway.min ? json(*r.gateway.min) : json();
      g["max"] = r.gateway.max ? json(*r.gateway.max) : json();
    }
    j["gateway"] = g;
  } else {
    j["rate"] = {{"key", r.rate.key},
                 {"windowMs", r.rate.window_ms},
                 {"threshold", r.rate.threshold},
                 {"direction", DirectionName(r.rate.direction)}};
  }
  return j;
}

Status ValidateActions(const json& actions) {
  if (!actions.is_array()) return Bad("actions", "must be an array");
  if (actions.size() > kMaxActionsPerRule) {
    return Bad("actions", "has more than " + std::to_string(kMaxActionsPerRule) +
                              " actions (the limit per rule)");
  }
  for (size_t i = 0; i < actions.size(); ++i) {
    const json& a = actions[i];
    std::string p = "actions[" + std::to_string(i) + "].";
    if (!a.is_object()) return Bad(p.substr(0, p.size() - 1), "must be an object");
    std::string type;
    BYSANS_RETURN_IF_ERROR(GetString(a, "type", p, &type));
    if (a.contains("on")) {
      if (!a["on"].is_array()) return Bad(p + "on", "must be an array");
      for (const auto& e : a["on"]) {
        if (!e.is_string() || (e != "raise" && e != "clear" && e != "remind")) {
          return Bad(p + "on", "entries must be raise, clear or remind");
        }
      }
    }
    std::string url;
    BYSANS_RETURN_IF_ERROR(GetString(a, "url", p, &url));
    std::string tmp;
    BYSANS_RETURN_IF_ERROR(GetString(a, "body", p, &tmp));
    std::string subject;
    BYSANS_RETURN_IF_ERROR(GetString(a, "subject", p, &subject));
    int64_t timeout = 0;
    BYSANS_RETURN_IF_ERROR(GetInt(a, "timeoutMs", p, &timeout));
    if (timeout < 0 || timeout > 600000) return Bad(p + "timeoutMs", "must be in [0, 600000]");
    if (type == "webhook") {
      if (a.contains(act::kUrlHidden)) {
        return Bad(p + "url", "was shown cut to its server (urlHidden): give the whole URL");
      }
      BYSANS_RETURN_IF_ERROR(CheckKeys(a, p,
                                       {"type", "on", "url", "headers", "body", "timeoutMs",
                                        act::kHeaderNames, act::kHeadersSealed}));
      if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
        return Bad(p + "url", "must be an http:// or https:// URL");
      }
      BYSANS_RETURN_IF_ERROR(CheckActionUrl(url, p + "url"));
      if (a.contains("headers")) {
        if (!a["headers"].is_object()) return Bad(p + "headers", "must be an object");
        for (auto it = a["headers"].begin(); it != a["headers"].end(); ++it) {
          // null: keep the stored value (act/action_secrets.h)
          if (!it->is_string() && !it->is_null()) {
            return Bad(p + "headers." + it.key(), "must be a string (or null to keep it)");
          }
          if (it.key().empty() || it.key().find_first_of(": \t") != std::string::npos ||
              HasLineBreak(it.key()) || (it->is_string() && HasLineBreak(it->get<std::string>()))) {
            return Bad(p + "headers." + it.key(), "must not contain ':', spaces or line breaks");
          }
        }
      }
    } else if (type == "email") {
      BYSANS_RETURN_IF_ERROR(
          CheckKeys(a, p,
                    {"type", "on", "url", "from", "to", "subject", "body", "username", "password",
                     "timeoutMs", act::kHasPassword, act::kPasswordSealed}));
      BYSANS_RETURN_IF_ERROR(CheckSmtp(a, p, url, subject));
      if (!a.contains("to") || !a["to"].is_array() || a["to"].empty()) {
        return Bad(p + "to", "must be a non-empty array of addresses");
      }
      for (const auto& t : a["to"]) {
        if (!t.is_string() || !act::IsMailAddress(t.get<std::string>())) {
          return Bad(p + "to", "entries must be e-mail addresses");
        }
      }
    } else if (type == "sms") {
      BYSANS_RETURN_IF_ERROR(CheckKeys(a, p, {"type", "on", "to", "message", "timeoutMs"}));
      if (!a.contains("to") || !a["to"].is_array() || a["to"].empty() ||
          a["to"].size() > kMaxContactsPerObject) {
        return Bad(p + "to", "must be an array of 1 to " + std::to_string(kMaxContactsPerObject) +
                                 " phone numbers");
      }
      for (const auto& t : a["to"]) {
        auto phone = t.is_string() ? NormalizePhone(t.get<std::string>())
                                   : Result<std::string>(InvalidArgument("must be a string"));
        if (!phone.ok()) return Bad(p + "to", "entries " + phone.status().message());
      }
      BYSANS_RETURN_IF_ERROR(CheckMessage(a, p));
    } else if (type == "notify_contacts") {
      BYSANS_RETURN_IF_ERROR(
          CheckKeys(a, p,
                    {"type", "on", "via", "message", "subject", "url", "from", "username",
                     "password", "timeoutMs", act::kHasPassword, act::kPasswordSealed}));
      std::string via;
      BYSANS_RETURN_IF_ERROR(GetString(a, "via", p, &via));
      if (via != "email" && via != "sms" && via != "both") {
        return Bad(p + "via", "must be email, sms or both");
      }
      BYSANS_RETURN_IF_ERROR(CheckMessage(a, p));
      if (via != "sms") BYSANS_RETURN_IF_ERROR(CheckSmtp(a, p, url, subject));
    } else if (type == "mqtt") {
      BYSANS_RETURN_IF_ERROR(
          CheckKeys(a, p, {"type", "on", "topic", "payload", "qos", "timeoutMs"}));
      std::string topic;
      BYSANS_RETURN_IF_ERROR(GetString(a, "topic", p, &topic));
      if (topic.empty()) return Bad(p + "topic", "is required");
      // The literal text around {{...}} placeholders must already be a valid topic.
      std::string literal;
      for (size_t pos = 0; pos < topic.size();) {
        size_t open = topic.find("{{", pos);
        size_t close = open == std::string::npos ? open : topic.find("}}", open);
        if (close == std::string::npos) {
          literal.append(topic, pos, std::string::npos);
          break;
        }
        literal.append(topic, pos, open - pos).append("x");
        pos = close + 2;
      }
      if (Status s = act::CheckActionTopic(literal); !s.ok()) return Bad(p + "topic", s.message());
      BYSANS_RETURN_IF_ERROR(GetString(a, "payload", p, &tmp));
      if (a.contains("qos") && a["qos"] != 1) return Bad(p + "qos", "must be 1");
    } else if (type == "downlink") {
      BYSANS_RETURN_IF_ERROR(CheckKeys(
          a, p, {"type", "on", "fPort", "data", "hex", "object", "confirmed", "timeoutMs"}));
      int64_t fport = 0;
      BYSANS_RETURN_IF_ERROR(GetInt(a, "fPort", p, &fport));
      if (a.contains("fPort") && (fport < 0 || fport > 255)) {
        return Bad(p + "fPort", "must be 0..255 (1..223 for LoRaWAN)");
      }
      if (int{a.contains("data")} + int{a.contains("hex")} + int{a.contains("object")} != 1) {
        return Bad(p + "data", "give exactly one of 'data' (base64), 'hex' and 'object'");
      }
      std::string frame;
      if (a.contains("object")) {
        // Encoded at delivery by the device's decoder (encodeDownlink).
        if (!a["object"].is_object()) return Bad(p + "object", "must be a JSON object");
      } else if (a.contains("hex")) {
        BYSANS_RETURN_IF_ERROR(GetString(a, "hex", p, &frame));
        if (auto b = DecodeHex(frame); !b.ok()) return Bad(p + "hex", b.status().message());
      } else {
        BYSANS_RETURN_IF_ERROR(GetString(a, "data", p, &frame));
        if (auto b = DecodeBase64(frame); !b.ok()) {
          return Bad(p + "data", b.status().message());
        }
      }
      if (a.contains("confirmed") && !a["confirmed"].is_boolean()) {
        return Bad(p + "confirmed", "must be true or false");
      }
    } else {
      return Bad(p + "type", "must be webhook, email, sms, notify_contacts, mqtt or downlink");
    }
  }
  return Status::Ok();
}

Status CheckActionsForRule(const Rule& rule, const json& actions) {
  if (!actions.is_array()) return Status::Ok();
  for (size_t i = 0; i < actions.size(); ++i) {
    const std::string type = actions[i].is_object() ? actions[i].value("type", "") : "";
    if (type == "mqtt") {
      const std::string topic = actions[i].value("topic", "");
      // The prefix is literal text here (a placeholder in it would not match).
      if (!act::InActionNamespace(rule.org_id, topic)) {
        return Bad("actions[" + std::to_string(i) + "].topic",
                   "must start with '" + act::ActionTopicPrefix(rule.org_id) +
                       "' and go on after it: rule actions publish only in their own "
                       "organisation's namespace on bysans' broker");
      }
    }
    if (!IsGatewayRule(rule)) continue;
    if (type == "downlink") {
      return Bad("actions[" + std::to_string(i) + "].type",
                 "downlink is not available for a gateway rule: a gateway has no device to send "
                 "to (use webhook, email, sms or mqtt)");
    }
    if (type == "notify_contacts") {
      return Bad("actions[" + std::to_string(i) + "].type",
                 "notify_contacts is not available for a gateway rule: a gateway has no "
                 "responsible contacts (use email or sms with the recipients)");
    }
  }
  return Status::Ok();
}

json AlarmToDoc(const Alarm& a) {
  json values = json::object();
  for (const auto& [k, v] : a.values) values[k] = ValueToJson(v);
  json comments = json::array();
  for (const auto& c : a.comments)
    comments.push_back({{"by", c.by}, {"at", c.at}, {"text", c.text}});
  json history = json::array();
  for (const auto& h : a.history) {
    history.push_back({{"at", h.at}, {"action", h.action}, {"by", h.by}, {"detail", h.detail}});
  }
  json j = {{"severity", SeverityName(a.severity)},
            {"state", AlarmStateName(a.state)},
            {"message", a.message},
            {"values", values},
            {"raisedMs", a.raised_ms},
            {"ackComment", a.acknowledge_comment},
            {"lastReminderMs", a.last_reminder_ms},
            {"requireAck", a.require_acknowledge},
            {"comments", comments},
            {"history", history},
            {"orgId", a.org_id},
            {"ruleId", a.rule_id},
            {"deviceId", a.device_id}};
  if (!a.gateway_id.empty()) j["gatewayId"] = a.gateway_id;
  if (a.acknowledged_by) j["ackBy"] = *a.acknowledged_by;
  if (a.acknowledged_ms) j["ackMs"] = *a.acknowledged_ms;
  if (a.cleared_ms) j["clearedMs"] = *a.cleared_ms;
  if (a.cleared_by) j["clearedBy"] = *a.cleared_by;
  return j;
}

void SaveToRecord(const Alarm& a, AlarmRecord* rec) {
  rec->state = AlarmStateName(a.state);
  rec->awaiting_ack = IsAwaitingAcknowledge(a);
  rec->doc = AlarmToDoc(a).dump();
}

Result<Alarm> AlarmFromDoc(const std::string& doc) {
  json j = json::parse(doc, nullptr, false);
  if (!j.is_object()) return Internal("alarm document is not JSON");
  try {
    Alarm a;
    a.org_id = j.value("orgId", Id{0});
    a.rule_id = j.value("ruleId", Id{0});
    a.device_id = j.value("deviceId", Id{0});
    a.gateway_id = j.value("gatewayId", "");
    a.severity = ParseSeverity(j.value("severity", "warning")).value_or(Severity::kWarning);
    a.state = ParseAlarmState(j.value("state", "active")).value_or(AlarmState::kActive);
    a.message = j.value("message", "");
    for (auto it = j["values"].begin(); it != j["values"].end(); ++it) {
      a.values.emplace_back(it.key(), ValueFromJson(*it));
    }
    a.raised_ms = j.value("raisedMs", TimeMs{0});
    a.acknowledge_comment = j.value("ackComment", "");
    a.last_reminder_ms = j.value("lastReminderMs", TimeMs{0});
    a.require_acknowledge = j.value("requireAck", false);
    if (j.contains("ackBy")) a.acknowledged_by = j["ackBy"].get<std::string>();
    if (j.contains("ackMs")) a.acknowledged_ms = j["ackMs"].get<TimeMs>();
    if (j.contains("clearedMs")) a.cleared_ms = j["clearedMs"].get<TimeMs>();
    if (j.contains("clearedBy")) a.cleared_by = j["clearedBy"].get<std::string>();
    for (const auto& c : j["comments"]) {
      a.comments.push_back({c.value("by", ""), c.value("at", TimeMs{0}), c.value("text", "")});
    }
    for (const auto& h : j["history"]) {
      a.history.push_back({h.value("at", TimeMs{0}), h.value("action", ""), h.value("by", ""),
                           h.value("detail", "")});
    }
    return a;
  } catch (const json::exception& e) {
    return Internal(std::string("alarm document: ") + e.what());
  }
}

}  // namespace bysans::rules
