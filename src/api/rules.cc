// Rules (CRUD, dry run) and silences of an organisation. Rules are kept as
// JSON in the RuleStore; the rules runtime (rules/service.h) picks changes up
// through the store's listener.
#include <algorithm>
#include <set>

#include "act/action_secrets.h"
#include "api/common.h"
#include "api/org_limits.h"
#include "core/time_format.h"
#include "rules/dry_run.h"
#include "rules/json.h"
#include "store/gateway_store.h"
#include "store/rule_store.h"

namespace bysans::api {
namespace {

struct Parsed {
  rules::Rule rule;
  json actions = json::array();
};

Result<Parsed> FromRecord(const RuleRecord& rec) {
  Parsed p;
  json def = json::parse(rec.definition, nullptr, false);
  BYSANS_RETURN_IF_ERROR(rules::RuleFromJson(def, &p.rule, &p.actions));
  p.rule.id = rec.id;
  p.rule.org_id = rec.org_id;
  p.rule.enabled = rec.enabled;
  return p;
}

// `who` reads the rule: webhook URLs (which may carry a token) only for those who may change it.
json RuleJson(const RuleRecord& rec, const auth::Principal& who) {
  auto p = FromRecord(rec);
  if (!p.ok()) return {{"id", rec.id}, {"orgId", rec.org_id}, {"error", p.status().message()}};
  const auto role = who.RoleIn(rec.org_id);
  const bool may_edit = role && *role >= Role::kEditor;
  json j = rules::RuleToJson(p->rule, act::ActionsForApi(p->actions, may_edit));  // write-only
  j["createdAt"] = FormatRfc3339(rec.created_ms);
  j["updatedAt"] = FormatRfc3339(rec.updated_ms);
  return j;
}

// Checks that the scope names an object of the organisation.
Status CheckScope(ApiContext& ctx, const rules::Scope& s, Id org) {
  auto bad = [](const std::string& what) {
    return InvalidArgument("field 'scope.id' names no " + what + " of this organisation");
  };
  switch (s.kind) {
    case rules::ScopeKind::kDevice: {
      auto d = ctx.store.GetDevice(s.id);
      if (!d.ok() || d->org_id != org) return bad("device");
      return Status::Ok();
    }
    case rules::ScopeKind::kApplication: {
      auto a = ctx.store.GetApplication(s.id);
      if (!a.ok() || a->org_id != org) return bad("application");
      return Status::Ok();
    }
    case rules::ScopeKind::kDeviceModel: {
      auto m = ctx.store.GetDeviceModel(s.id);
      if (!m.ok() || m->org_id != org) return bad("device model");
      return Status::Ok();
    }
    case rules::ScopeKind::kTag:
      if (s.tag.empty()) return InvalidArgument("field 'scope.tag' is required for a tag scope");
      return Status::Ok();
    case rules::ScopeKind::kGateway:
      // All the organisation's gateways, or one it has seen (its uplinks or gateway events).
      if (!s.gateway_id.empty() && !ctx.store.gateways().GetGatewayHealth(org, s.gateway_id).ok()) {
        return InvalidArgument(
            "field 'scope.gatewayId' names no gateway of this organisation (a "
            "gateway is known once its uplinks or gateway events arrive)");
      }
      return Status::Ok();
  }
  return Status::Ok();
}

// A 400 naming the field and, for expressions, the position.
http::Response RuleErrorResponse(const Status& s, const rules::RuleError& e) {
  json err = {{"code", CodeName(s.code())}, {"message", s.message()}};
  if (!e.field.empty()) err["field"] = e.field;
  if (e.parse) {
    err["position"] = {
        {"offset", e.parse->offset}, {"line", e.parse->line}, {"column", e.parse->column}};
  }
  return Json(400, {{"error", err}});
}

// Keys the rule reads that the scoped devices never sent.
json Warnings(ApiContext& ctx, const rules::Rule& r) {
  json out = json::array();
  std::vector<std::string> keys;
  for (const std::string* text : {&r.expression, &r.clear_expression}) {
    if (r.kind != rules::ConditionKind::kExpression || text->empty()) continue;
    auto e = rules::Expr::Parse(*text);
    if (e.ok()) keys.insert(keys.end(), e->Keys().begin(), e->Keys().end());
  }
  if (r.kind == rules::ConditionKind::kRateOfChange) keys.push_back(r.rate.key);
  std::vector<Id> devices;
  if (r.scope.kind == rules::ScopeKind::kDevice) {
    devices.push_back(r.scope.id);
  } else if (r.scope.kind == rules::ScopeKind::kApplication) {
    DeviceFilter f;
    f.app_id = r.scope.id;
    auto ds = ctx.store.ListDevices(f, Page{200, 0});
    if (ds.ok()) {
      for (const auto& d : ds->items) devices.push_back(d.id);
    }
  }
  if (devices.empty()) return out;
  std::set<std::string> seen;
  for (Id d : devices) {
    auto ks = ctx.store.Keys(d);
    if (ks.ok()) seen.insert(ks->begin(), ks->end());
  }
  std::set<std::string> warned;
  for (const auto& k : keys) {
    if (seen.count(k) || !warned.insert(k).second) continue;
    out.push_back("key '" + k + "' has never been sent by the device(s) in scope");
  }
  return out;
}

// Parses and validates; on error returns the response to send.
std::optional<http::Response> Build(ApiContext& ctx, const json& body, Id org, Parsed* p) {
  Status s = rules::RuleFromJson(body, &p->rule, &p->actions);
  if (!s.ok()) return http::ErrorResponse(s);
  p->rule.org_id = org;  // what CheckActionsForRule holds the actions to
  if (p->rule.name.empty()) return http::ErrorResponse(InvalidArgument("field 'name' is required"));
  rules::RuleError err;
  s = rules::ValidateRule(p->rule, &err);
  if (!s.ok()) return RuleErrorResponse(s, err);
  s = rules::CheckActionsForRule(p->rule, p->actions);
  if (!s.ok()) return http::ErrorResponse(s);
  s = CheckScope(ctx, p->rule.scope, org);
  if (!s.ok()) return http::ErrorResponse(s);
  return std::nullopt;
}

// The actions as they are stored: secrets sealed, a secret not given again kept from
// `previous` while the action's server is unchanged (act/action_secrets.h).
Status StoreActions(ApiContext& ctx, const json& body, const json& previous, Parsed* p) {
  auto stored = body.contains("actions")
                    ? act::ActionsForStore(body["actions"], previous, ctx.store.secrets())
                    : act::SealStoredActions(p->actions, ctx.store.secrets());
  if (!stored.ok()) return stored.status();
  p->actions = std::move(stored).value();
  return Status::Ok();
}

Result<http::Response> Create(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  Parsed parsed;
  parsed.rule.org_id = o.id;
  if (auto bad = Build(ctx, body, o.id, &parsed)) return std::move(*bad);
  BYSANS_ASSIGN_OR_RETURN(LimitHold limit_hold,
                          CheckRuleLimit(ctx, o.id));  // each is evaluated on the shared thread
  BYSANS_RETURN_IF_ERROR(StoreActions(ctx, body, json::array(), &parsed));
  RuleRecord rec;
  rec.org_id = o.id;
  rec.enabled = parsed.rule.enabled;
  rec.definition = rules::RuleToJson(parsed.rule, parsed.actions).dump();
  rec.created_ms = rec.updated_ms = ctx.clock.NowMs();
  BYSANS_ASSIGN_OR_RETURN(rec, ctx.store.rules().CreateRule(rec));
  Audit(ctx, p, req, o.id, "create", "rule", std::to_string(rec.id), parsed.rule.name);
  json out = RuleJson(rec, p);
  out["warnings"] = Warnings(ctx, parsed.rule);
  return Json(201, out);
}

Result<http::Response> List(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  BYSANS_ASSIGN_OR_RETURN(auto rs, ctx.store.rules().ListRules(o.id, page));
  json items = json::array();
  for (const auto& r : rs.items) items.push_back(RuleJson(r, p));
  return PagedJson(items, rs.total, page);
}

Result<RuleRecord> LoadRule(ApiContext& ctx, http::Request& req, const auth::Principal& p,
                            Role min) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "ruleId"));
  auto rec = ctx.store.rules().GetRule(id);
  Id org = rec.ok() ? rec->org_id : 0;
  return CheckObject(ctx, std::move(rec), p, org, min, "rule", id);
}

Result<http::Response> Get(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(RuleRecord rec, LoadRule(ctx, req, p, Role::kViewer));
  return Json(200, RuleJson(rec, p));
}

Result<http::Response> Patch(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(RuleRecord rec, LoadRule(ctx, req, p, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_ASSIGN_OR_RETURN(Parsed parsed, FromRecord(rec));
  const json previous = parsed.actions;
  if (auto bad = Build(ctx, body, rec.org_id, &parsed)) return std::move(*bad);
  BYSANS_RETURN_IF_ERROR(StoreActions(ctx, body, previous, &parsed));
  rec.enabled = parsed.rule.enabled;
  rec.definition = rules::RuleToJson(parsed.rule, parsed.actions).dump();
  rec.updated_ms = ctx.clock.NowMs();
  BYSANS_RETURN_IF_ERROR(ctx.store.rules().UpdateRule(rec));
  Audit(ctx, p, req, rec.org_id, "update", "rule", std::to_string(rec.id), body.dump());
  json out = RuleJson(rec, p);
  out["warnings"] = Warnings(ctx, parsed.rule);
  return Json(200, out);
}

Result<http::Response> Delete(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(RuleRecord rec, LoadRule(ctx, req, p, Role::kEditor));
  BYSANS_RETURN_IF_ERROR(ctx.store.rules().DeleteRule(rec.id));
  Audit(ctx, p, req, rec.org_id, "delete", "rule", std::to_string(rec.id));
  return NoContent();
}

Result<http::Response> DryRunRoute(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  // Editors only: a dry run may replay a month of history (costly).
  BYSANS_ASSIGN_OR_RETURN(RuleRecord rec, LoadRule(ctx, req, p, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"deviceId", "from", "to"}));
  BYSANS_ASSIGN_OR_RETURN(auto dev_id, OptInt(body, "deviceId"));
  if (!dev_id) return InvalidArgument("field 'deviceId' is required");
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, *dev_id, Role::kViewer));
  if (d.org_id != rec.org_id) return NotFound("device " + std::to_string(*dev_id) + " not found");
  TimeMs now = ctx.clock.NowMs();
  auto time_field = [&](const char* f, TimeMs fallback) -> Result<TimeMs> {
    if (!body.contains(f)) return fallback;
    if (body[f].is_number_integer()) return body[f].get<TimeMs>();
    if (body[f].is_string()) {
      auto t = ParseTime(body[f].get<std::string>());
      if (t) return *t;
    }
    return InvalidArgument(std::string("field '") + f + "' must be RFC 3339 or ms");
  };
  BYSANS_ASSIGN_OR_RETURN(TimeMs from, time_field("from", now - 30LL * 86'400'000));
  BYSANS_ASSIGN_OR_RETURN(TimeMs to, time_field("to", now));
  if (to < from) return InvalidArgument("field 'to' is before 'from'");
  BYSANS_ASSIGN_OR_RETURN(Parsed parsed, FromRecord(rec));
  ReadingQuery q;
  q.device_id = d.id;
  q.from = from;
  q.to = to;
  q.limit = 1'000'000;
  BYSANS_ASSIGN_OR_RETURN(auto history, ctx.store.QueryReadings(q));
  std::stable_sort(history.begin(), history.end(),
                   [](const Reading& a, const Reading& b) { return a.ts < b.ts; });
  BYSANS_ASSIGN_OR_RETURN(auto r, rules::DryRun(parsed.rule, rules::DeviceInfoOf(d), history, to));
  json raised = json::array(), cleared = json::array();
  for (TimeMs t : r.raise_ts) raised.push_back(FormatRfc3339(t));
  for (TimeMs t : r.clear_ts) cleared.push_back(FormatRfc3339(t));
  return Json(200, {{"ruleId", rec.id},
                    {"deviceId", d.id},
                    {"from", FormatRfc3339(from)},
                    {"to", FormatRfc3339(to)},
                    {"raises", r.raises},
                    {"clears", r.clears},
                    {"raisedAt", raised},
                    {"clearedAt", cleared},
                    {"activeAtEnd", r.active_at_end},
                    {"readingsUsed", r.readings_used}});
}

json SilenceJson(const SilenceRecord& s) {
  json j = {{"id", s.id},
            {"orgId", s.org_id},
            {"until", FormatRfc3339(s.until_ms)},
            {"createdBy", s.created_by},
            {"createdAt", FormatRfc3339(s.created_ms)}};
  j["deviceId"] = s.device_id ? json(*s.device_id) : json(nullptr);
  j["ruleId"] = s.rule_id ? json(*s.rule_id) : json(nullptr);
  return j;
}

Result<http::Response> CreateSilence(ApiContext& ctx, http::Request& req,
                                     const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  // Silencing is alarm handling: operators may (model.h Role).
  // A member restricted to some applications silences their devices only (not whole rules).
  BYSANS_ASSIGN_OR_RETURN(OrgScope scope, LoadOrganizationScope(ctx, p, org, Role::kOperator));
  const Organization& o = scope.org;
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"deviceId", "ruleId", "until"}));
  BYSANS_ASSIGN_OR_RETURN(auto dev, OptInt(body, "deviceId"));
  BYSANS_ASSIGN_OR_RETURN(auto rule, OptInt(body, "ruleId"));
  if (!dev == !rule) return InvalidArgument("exactly one of 'deviceId' and 'ruleId' is required");
  BYSANS_ASSIGN_OR_RETURN(std::string until_s, RequiredString(body, "until"));
  auto until = ParseTime(until_s);
  if (!until) return InvalidArgument("field 'until' must be an RFC 3339 time");
  SilenceRecord s;
  s.org_id = o.id;
  if (dev) {
    auto d = ctx.store.GetDevice(*dev);
    if (!d.ok() || d->org_id != o.id || !scope.Allows(d->app_id))
      return InvalidArgument("field 'deviceId': no such device");
    s.device_id = *dev;
  } else {
    if (scope.apps)
      return PermissionDenied(
          "a member with access to some applications silences devices, not "
          "whole rules");
    auto r = ctx.store.rules().GetRule(*rule);
    if (!r.ok() || r->org_id != o.id) return InvalidArgument("field 'ruleId': no such rule");
    s.rule_id = *rule;
  }
  s.until_ms = *until;
  s.created_by = p.name;
  s.created_ms = ctx.clock.NowMs();
  BYSANS_ASSIGN_OR_RETURN(LimitHold limit_hold,
                          CheckSilenceLimit(ctx, o.id));  // each change reloads them all
  BYSANS_ASSIGN_OR_RETURN(s, ctx.store.rules().CreateSilence(s));
  Audit(ctx, p, req, o.id, "create", "silence", std::to_string(s.id), until_s);
  return Json(201, SilenceJson(s));
}

Result<http::Response> ListSilences(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(OrgScope scope, LoadOrganizationScope(ctx, p, org, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(auto ss, ctx.store.rules().ListSilences(scope.org.id, ctx.clock.NowMs()));
  json items = json::array();
  for (const auto& s : ss) {
    if (scope.apps && (!s.device_id || !scope.Allows(AppOfDevice(ctx, *s.device_id)))) continue;
    items.push_back(SilenceJson(s));
  }
  return Json(200, {{"items", items}, {"total", items.size()}});
}

// Lifts a silence before its end; the rules runtime stops honouring it at once
// (RuleStoreChange::kSilenceDeleted).
Result<http::Response> DeleteSilence(ApiContext& ctx, http::Request& req,
                                     const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "silenceId"));
  auto s = ctx.store.rules().GetSilence(id);
  Id org = s.ok() ? s->org_id : 0;
  // A member restricted to some applications lifts their devices' silences only.
  std::optional<Id> app;
  if (s.ok() && p.ScopeIn(org) != nullptr) app = s->device_id ? AppOfDevice(ctx, *s->device_id) : 0;
  BYSANS_ASSIGN_OR_RETURN(SilenceRecord found, CheckObject(ctx, std::move(s), p, org,
                                                           Role::kOperator, "silence", id, app));
  BYSANS_RETURN_IF_ERROR(ctx.store.rules().DeleteSilence(id));
  Audit(ctx, p, req, found.org_id, "delete", "silence", std::to_string(id));
  return NoContent();
}

}  // namespace

void RegisterRuleRoutes(http::Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  const std::string list = "/api/v1/organizations/{orgId}/rules";
  const std::string one = "/api/v1/rules/{ruleId}";
  AddAuthed(router, ctx, "POST", list, "Create a rule", bind(Create));
  AddAuthed(router, ctx, "GET", list, "Rules of an organisation", bind(List));
  AddAuthed(router, ctx, "GET", one, "One rule", bind(Get));
  AddAuthed(router, ctx, "PATCH", one, "Change a rule", bind(Patch));
  AddAuthed(router, ctx, "DELETE", one, "Delete a rule", bind(Delete));
  AddAuthed(router, ctx, "POST", one + "/dry-run", "Replay a device's history through a rule",
            bind(DryRunRoute));
  const std::string silences = "/api/v1/organizations/{orgId}/silences";
  AddAuthed(router, ctx, "POST", silences, "Silence a device or a rule until a time",
            bind(CreateSilence));
  AddAuthed(router, ctx, "GET", silences, "Silences in force", bind(ListSilences));
  AddAuthed(router, ctx, "DELETE", "/api/v1/silences/{silenceId}", "Lift a silence before its end",
            bind(DeleteSilence));
}

}  // namespace bysans::api
