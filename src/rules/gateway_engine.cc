#include "rules/gateway_engine.h"

#include <algorithm>
#include <cstdio>

#include "core/time_format.h"

namespace bysans::rules {
namespace {

constexpr TimeMs kHourMs = 3'600'000;
constexpr TimeMs kLateStatsGraceMs = 60'000;

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

int64_t CounterOf(const GatewayHourCounters& c, GatewayCounter which) {
  switch (which) {
    case GatewayCounter::kRxReceivedOk:
      return c.rx_received_ok;
    case GatewayCounter::kRxReceived:
      return c.rx_received;
    case GatewayCounter::kTxReceived:
      return c.tx_received;
    case GatewayCounter::kTxEmitted:
      return c.tx_emitted;
  }
  return c.rx_received_ok;
}

}  // namespace

GatewayRuleEngine::GatewayRuleEngine(const Clock& clock) : clock_(clock) {}

TimeMs GatewayRuleEngine::PacketsHourStart(TimeMs now) {
  TimeMs t = now - kLateStatsGraceMs;
  TimeMs current = t >= 0 ? t / kHourMs * kHourMs : (t - kHourMs + 1) / kHourMs * kHourMs;
  return current - kHourMs;
}

AlarmEvent GatewayRuleEngine::Event(AlarmEventKind kind, const Rule& r,
                                    const std::string& gateway_id, TimeMs ts,
                                    std::string what) const {
  AlarmEvent ev;
  ev.kind = kind;
  ev.rule_id = r.id;
  ev.org_id = r.org_id;
  ev.device_id = 0;
  ev.gateway_id = gateway_id;
  ev.ts = ts;
  ev.severity = r.severity;
  ev.require_acknowledge = RequiresAcknowledge(r);
  ev.message = r.name + ": " + what;
  return ev;
}

void GatewayRuleEngine::ClearAll(Entry& e, const char* why, std::vector<AlarmEvent>* events) {
  const TimeMs now = clock_.NowMs();
  for (auto& [gw, st] : e.states) {
    if (st.active && events != nullptr) {
      events->push_back(Event(AlarmEventKind::kClear, e.rule, gw, now, why));
    }
  }
  e.states.clear();
}

Status GatewayRuleEngine::UpsertRule(const Rule& rule, std::vector<AlarmEvent>* events) {
  if (!IsGatewayRule(rule)) {
    return InvalidArgument("rule " + std::to_string(rule.id) +
                           " does not watch gateways (the device engine evaluates it)");
  }
  BYSANS_RETURN_IF_ERROR(ValidateRule(rule));
  auto [it, added] = rules_.try_emplace(rule.id);
  if (!added) ClearAll(it->second, "rule changed", events);
  TimeMs silenced = added || it->second.rule.org_id != rule.org_id ? 0 : it->second.silenced_until;
  it->second.rule = rule;
  it->second.silenced_until = silenced;
  return Status::Ok();
}

Status GatewayRuleEngine::RemoveRule(Id rule_id, std::vector<AlarmEvent>* events) {
  auto it = rules_.find(rule_id);
  if (it == rules_.end()) return NotFound("gateway rule " + std::to_string(rule_id) + " not found");
  ClearAll(it->second, "rule removed", events);
  rules_.erase(it);
  return Status::Ok();
}

Status GatewayRuleEngine::SilenceRule(Id org_id, Id rule_id, TimeMs until_ms) {
  auto it = rules_.find(rule_id);
  if (it == rules_.end() || it->second.rule.org_id != org_id) {
    return NotFound("gateway rule " + std::to_string(rule_id) + " not found");
  }
  it->second.silenced_until = until_ms;
  return Status::Ok();
}

Status GatewayRuleEngine::RestoreActive(Id rule_id, Id org_id, const std::string& gateway_id,
                                        TimeMs raised_ms) {
  auto it = rules_.find(rule_id);
  if (it == rules_.end() || it->second.rule.org_id != org_id) {
    return NotFound("gateway rule " + std::to_string(rule_id) + " not found");
  }
  const Scope& s = it->second.rule.scope;
  if (!s.gateway_id.empty() && s.gateway_id != gateway_id) {
    return NotFound("gateway " + gateway_id + " is not in the scope of rule " +
                    std::to_string(rule_id));
  }
  State& st = it->second.states[gateway_id];
  st.active = true;
  // Reminders continue from the restart (not a burst of the ones missed while down).
  st.last_reminder_ms = std::max(raised_ms, clock_.NowMs());
  return Status::Ok();
}

std::vector<Id> GatewayRuleEngine::Organizations() const {
  std::vector<Id> out;
  for (const auto& [id, e] : rules_) {
    if (!e.rule.enabled) continue;
    if (out.empty() || out.back() != e.rule.org_id) out.push_back(e.rule.org_id);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool GatewayRuleEngine::NeedsStats(Id org_id) const {
  for (const auto& [id, e] : rules_) {
    if (e.rule.enabled && e.rule.org_id == org_id &&
        e.rule.kind == ConditionKind::kGatewayPackets) {
      return true;
    }
  }
  return false;
}

GatewayRuleEngine::Truth GatewayRuleEngine::Holds(
    const Rule& r, const GatewaySnapshot& g, TimeMs now, std::string* what,
    std::vector<std::pair<std::string, Value>>* values) const {
  values->emplace_back("gateway_id", Value(g.gateway_id));
  if (g.online) values->emplace_back("online", Value(*g.online));
  values->emplace_back("last_seen_ms", Value(static_cast<double>(g.last_seen_ms)));
  if (r.kind == ConditionKind::kGatewayOffline) {
    if (g.online == false && g.state_ms > 0) {
      *what = "gateway " + g.gateway_id + " offline since " + FormatRfc3339(g.state_ms);
      return now - g.state_ms >= r.gateway.offline_ms ? Truth::kTrue : Truth::kFalse;
    }
    if (g.last_seen_ms <= 0) return Truth::kUnknown;
    *what = "nothing from gateway " + g.gateway_id + " since " + FormatRfc3339(g.last_seen_ms);
    return now - g.last_seen_ms >= r.gateway.offline_ms ? Truth::kTrue : Truth::kFalse;
  }
  const TimeMs hour = PacketsHourStart(now);
  double count = 0;
  if (g.last_hour) {
    count = static_cast<double>(CounterOf(*g.last_hour, r.gateway.counter));
  } else if (g.online == true && g.state_ms > 0 && g.state_ms <= hour) {
    count = 0;  // online the whole hour and no stats: nothing received
  } else {
    return Truth::kUnknown;
  }
  const char* name = GatewayCounterName(r.gateway.counter);
  values->emplace_back(name, Value(count));
  values->emplace_back("hour_start_ms", Value(static_cast<double>(hour)));
  const bool low = r.gateway.min && count < *r.gateway.min;
  const bool high = r.gateway.max && count > *r.gateway.max;
  *what = "gateway " + g.gateway_id + ": " + name + " " + Number(count) + " in the hour from " +
          FormatRfc3339(hour) + ", outside [" + (r.gateway.min ? Number(*r.gateway.min) : "") +
          ", " + (r.gateway.max ? Number(*r.gateway.max) : "") + "]";
  return low || high ? Truth::kTrue : Truth::kFalse;
}

void GatewayRuleEngine::Evaluate(Id org_id, const std::vector<GatewaySnapshot>& gateways,
                                 std::vector<AlarmEvent>* events) {
  const TimeMs now = clock_.NowMs();
  for (auto& [id, e] : rules_) {
    const Rule& r = e.rule;
    if (!r.enabled || r.org_id != org_id) continue;
    const bool silenced = e.silenced_until > now;
    for (const GatewaySnapshot& g : gateways) {
      if (!r.scope.gateway_id.empty() && r.scope.gateway_id != g.gateway_id) continue;
      std::string what;
      std::vector<std::pair<std::string, Value>> values;
      const Truth t = Holds(r, g, now, &what, &values);
      auto it = e.states.find(g.gateway_id);
      if (it != e.states.end() && it->second.active) {
        State& st = it->second;
        if (t == Truth::kFalse) {
          st.active = false;
          events->push_back(Event(AlarmEventKind::kClear, r, g.gateway_id, now, "condition ended"));
        } else if (!silenced && r.remind_every_ms > 0 &&
                   now - st.last_reminder_ms >= r.remind_every_ms) {
          st.last_reminder_ms = now;
          AlarmEvent ev = Event(AlarmEventKind::kRemind, r, g.gateway_id, now, what);
          ev.values = std::move(values);
          events->push_back(std::move(ev));
        }
        continue;
      }
      if (t != Truth::kTrue || silenced) continue;
      State& st = e.states[g.gateway_id];
      st.active = true;
      st.last_reminder_ms = now;
      AlarmEvent ev = Event(AlarmEventKind::kRaise, r, g.gateway_id, now, what);
      ev.values = std::move(values);
      events->push_back(std::move(ev));
    }
  }
}

bool GatewayRuleEngine::IsActive(Id rule_id, const std::string& gateway_id) const {
  auto it = rules_.find(rule_id);
  if (it == rules_.end()) return false;
  auto st = it->second.states.find(gateway_id);
  return st != it->second.states.end() && st->second.active;
}

}  // namespace bysans::rules
