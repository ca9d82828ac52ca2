// Alarms of an organisation: list (?state=open|active|acknowledged|cleared|
// awaiting_acknowledge|history, ?deviceId=, ?gatewayId=), one alarm, acknowledge / clear /
// comment (operator or above). Gateway alarms (gatewayId set, deviceId 0) are organisation-wide:
// a member restricted to some applications neither lists nor reaches them.
#include <cctype>

#include "api/common.h"
#include "core/time_format.h"
#include "rules/alarm.h"
#include "rules/json.h"
#include "store/rule_store.h"

namespace bysans::api {
namespace {

json AlarmJson(ApiContext& ctx, const AlarmRecord& rec) {
  auto a = rules::AlarmFromDoc(rec.doc);
  json j = {{"id", rec.id},          {"orgId", rec.org_id},
            {"ruleId", rec.rule_id}, {"deviceId", rec.device_id},
            {"state", rec.state},    {"raisedAt", FormatRfc3339(rec.raised_ms)}};
  // A gateway alarm (rules/gateway_engine.h): device 0 and the organisation's gateway.
  j["gatewayId"] = rec.gateway_id.empty() ? json() : json(rec.gateway_id);
  auto rule = ctx.store.rules().GetRule(rec.rule_id);
  j["ruleName"] = "";
  // A rule of another organisation under the same id (ids were reused before migration 13)
  // is not this alarm's rule.
  if (rule.ok() && rule->org_id == rec.org_id) {
    json def = json::parse(rule->definition, nullptr, false);
    if (def.is_object()) j["ruleName"] = def.value("name", "");
  }
  auto dev = rec.gateway_id.empty() ? ctx.store.GetDevice(rec.device_id)
                                    : Result<Device>(NotFound("a gateway alarm"));
  // Never another organisation's device name (an alarm raised across organisations before
  // the engine matched by organisation).
  j["deviceName"] = dev.ok() && dev->org_id == rec.org_id ? dev->name : "";
  if (!a.ok()) return j;
  j["severity"] = rules::SeverityName(a->severity);
  j["message"] = a->message;
  json values = json::object();
  for (const auto& [k, v] : a->values) values[k] = rules::ValueToJson(v);
  j["values"] = values;
  // The two dimensions (rules/alarm.h); `state` keeps its three values for older clients.
  j["status"] = rules::AlarmStatusName(*a);
  j["cleared"] = a->state == rules::AlarmState::kCleared;
  j["acknowledged"] = rules::IsAcknowledged(*a);
  j["requireAcknowledge"] = a->require_acknowledge;
  j["awaitingAcknowledge"] = rules::IsAwaitingAcknowledge(*a);
  j["open"] = rules::IsOpen(*a);
  j["acknowledgedAt"] = a->acknowledged_ms ? json(FormatRfc3339(*a->acknowledged_ms)) : json();
  j["acknowledgedBy"] = a->acknowledged_by ? json(*a->acknowledged_by) : json();
  j["acknowledgeComment"] = a->acknowledge_comment;
  j["clearedAt"] = a->cleared_ms ? json(FormatRfc3339(*a->cleared_ms)) : json();
  j["clearedBy"] = a->cleared_by ? json(*a->cleared_by) : json();
  // The comment of a person's clear (the history's last "cleared" entry by someone).
  j["clearComment"] = "";
  for (auto h = a->history.rbegin(); h != a->history.rend(); ++h) {
    if (h->action != "cleared") continue;
    if (!h->by.empty()) j["clearComment"] = h->detail;
    break;
  }
  json comments = json::array();
  for (const auto& c : a->comments) {
    comments.push_back({{"by", c.by}, {"at", FormatRfc3339(c.at)}, {"text", c.text}});
  }
  j["comments"] = comments;
  json history = json::array();
  for (const auto& h : a->history) {
    history.push_back(
        {{"at", FormatRfc3339(h.at)}, {"action", h.action}, {"by", h.by}, {"detail", h.detail}});
  }
  j["history"] = history;
  return j;
}

Result<http::Response> List(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(OrgScope scope, LoadOrganizationScope(ctx, p, org, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  AlarmFilter f;
  f.org_id = scope.org.id;
  f.app_ids = scope.apps;
  if (const std::string* s = req.Query("state"); s && !s->empty()) {
    if (*s == "history") {  // cleared and not awaiting acknowledgement
      f.states = {"cleared"};
      f.awaiting_ack = false;
    } else if (*s == "open") {  // not cleared, or awaiting acknowledgement
      f.open = true;
    } else if (*s == "awaiting_acknowledge") {
      f.states = {"cleared"};
      f.awaiting_ack = true;
    } else if (rules::ParseAlarmState(*s)) {
      f.states = {*s};
    } else {
      return InvalidArgument(
          "parameter 'state' must be open, active, acknowledged, cleared, awaiting_acknowledge "
          "or history");
    }
  }
  if (const std::string* d = req.Query("deviceId"); d && !d->empty()) {
    try {
      f.device_id = std::stoll(*d);
    } catch (...) {
      return InvalidArgument("parameter 'deviceId' must be an id");
    }
  }
  if (const std::string* g = req.Query("gatewayId"); g && !g->empty()) {
    std::string id = *g;
    for (char& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    f.gateway_id = id;
  }
  BYSANS_ASSIGN_OR_RETURN(auto as, ctx.store.rules().ListAlarms(f, page));
  json items = json::array();
  for (const auto& a : as.items) items.push_back(AlarmJson(ctx, a));
  return PagedJson(items, as.total, page);
}

Result<AlarmRecord> LoadAlarm(ApiContext& ctx, http::Request& req, const auth::Principal& p,
                              Role min) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "alarmId"));
  auto rec = ctx.store.rules().GetAlarm(id);
  Id org = rec.ok() ? rec->org_id : 0;
  // A member restricted to some applications reaches the alarms of their devices only.
  std::optional<Id> app;
  if (rec.ok() && p.ScopeIn(org) != nullptr) app = AppOfDevice(ctx, rec->device_id);
  return CheckObject(ctx, std::move(rec), p, org, min, "alarm", id, app);
}

Result<http::Response> Get(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(AlarmRecord rec, LoadAlarm(ctx, req, p, Role::kViewer));
  return Json(200, AlarmJson(ctx, rec));
}

enum class Op { kAck, kClear, kComment };

Result<http::Response> Change(ApiContext& ctx, http::Request& req, const auth::Principal& p,
                              Op op) {
  BYSANS_ASSIGN_OR_RETURN(AlarmRecord rec, LoadAlarm(ctx, req, p, Role::kOperator));
  std::string comment;
  if (!req.body.empty()) {
    BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
    BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"comment"}));
    BYSANS_ASSIGN_OR_RETURN(auto c, OptString(body, "comment"));
    if (c) comment = *c;
  }
  BYSANS_ASSIGN_OR_RETURN(rules::Alarm a, rules::AlarmFromDoc(rec.doc));
  TimeMs now = ctx.clock.NowMs();
  std::string by = p.name.empty() ? "user" : p.name;
  switch (op) {
    case Op::kAck:
      BYSANS_RETURN_IF_ERROR(rules::Acknowledge(&a, by, now, comment));
      break;
    case Op::kClear:
      BYSANS_RETURN_IF_ERROR(rules::ClearByHand(&a, by, now, comment));
      break;
    case Op::kComment:
      if (comment.empty()) return InvalidArgument("field 'comment' is required");
      BYSANS_RETURN_IF_ERROR(rules::AddComment(&a, by, now, comment));
      break;
  }
  rules::SaveToRecord(a, &rec);
  BYSANS_RETURN_IF_ERROR(ctx.store.rules().UpdateAlarm(rec, nullptr));
  const char* names[] = {"acknowledge", "clear", "comment"};
  Audit(ctx, p, req, rec.org_id, names[static_cast<int>(op)], "alarm", std::to_string(rec.id),
        comment);
  return Json(200, AlarmJson(ctx, rec));
}

}  // namespace

void RegisterAlarmRoutes(http::Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  auto change = [&ctx](Op op) {
    return [&ctx, op](http::Request& req, const auth::Principal& p) {
      return Change(ctx, req, p, op);
    };
  };
  const std::string one = "/api/v1/alarms/{alarmId}";
  AddAuthed(router, ctx, "GET", "/api/v1/organizations/{orgId}/alarms", "Alarms of an organisation",
            bind(List));
  AddAuthed(router, ctx, "GET", one, "One alarm", bind(Get));
  AddAuthed(router, ctx, "POST", one + "/acknowledge", "Acknowledge an alarm", change(Op::kAck));
  AddAuthed(router, ctx, "POST", one + "/clear", "Clear an alarm by hand", change(Op::kClear));
  AddAuthed(router, ctx, "POST", one + "/comment", "Comment on an alarm", change(Op::kComment));
}

}  // namespace bysans::api
