// GatewayRuleEngine: evaluates the rules with a gateway scope (rule.h kGateway; kinds
// gateway_offline and gateway_packets) against snapshots of an organisation's gateways
// (store/gateway_store.h) and the injected Clock, and emits the same AlarmEvents as the device
// engine (engine.h), with device_id 0 and the gateway's id in gateway_id. Pure logic: no store,
// no I/O; the RulesService (service.h) reads the snapshots and persists the events.
//
// Guarantees
// - One alarm per (rule, gateway): kRaise once, nothing more while active (except reminders),
//   kClear when the condition stops holding, a new kRaise only after a kClear.
// - gateway_offline holds when the gateway's last state/conn is OFFLINE and has been for at
//   least gateway.offline_ms, or when nothing (no uplink through it, no gateway event) was seen
//   for gateway.offline_ms; it stops holding when the gateway is ONLINE again and seen within
//   the duration (an ONLINE state/conn counts as seen). A gateway never seen is not judged.
// - gateway_packets judges the last complete UTC hour, counted from a minute before now (late
//   stats messages of the hour's last seconds get that grace): the counter summed over the
//   hour outside [min, max] holds, inside does not. An hour without stats (a gap) counts as 0
//   only when the gateway was ONLINE (its last state/conn) since before the hour began; else
//   the hour is unknown and the alarm keeps its state (no raise, no clear).
// - Reminders every rule.remind_every_ms while active and not silenced.
// - SilenceRule: nothing is raised and no reminder sent until the silence ends; clears are
//   still emitted. A condition still holding when it ends raises at the next Evaluate.
// - Tenancy: Evaluate(org, ...) applies only the rules of `org` to snapshots of `org`; a
//   rule's gatewayId names a gateway of its own organisation (gateways are per (org, id)).
// - Replacing or disabling a rule clears its active alarms ("rule changed"), removing one
//   clears them ("rule removed"); it may raise again at the next Evaluate.
//
// Thread-compatibility: not thread-safe (the rules thread owns it).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "model/model.h"
#include "rules/engine.h"
#include "rules/rule.h"

namespace bysans::rules {

// A gateway's ChirpStack stats counters summed over an hour (store/gateway_store.h's
// GatewayCounters, copied by the caller: rules/ depends on core/ and model/ only).
struct GatewayHourCounters {
  int64_t rx_received = 0;
  int64_t rx_received_ok = 0;
  int64_t tx_received = 0;
  int64_t tx_emitted = 0;
};

// What the engine needs to know about one gateway of an organisation.
struct GatewaySnapshot {
  std::string gateway_id;
  std::optional<bool> online;  // the last state/conn; none before the first
  TimeMs state_ms = 0;         // when it took that state
  TimeMs last_seen_ms = 0;     // its newest uplink or gateway event (0: never)
  // The counters summed over the hour starting at PacketsHourStart(now); nullopt: no stats
  // message in that hour.
  std::optional<GatewayHourCounters> last_hour;
};

class GatewayRuleEngine {
 public:
  explicit GatewayRuleEngine(const Clock& clock);

  // The start of the hour gateway_packets rules judge at `now` (see above).
  static TimeMs PacketsHourStart(TimeMs now);

  // Adds or replaces a gateway rule (validated; InvalidArgument for other scopes).
  Status UpsertRule(const Rule& rule, std::vector<AlarmEvent>* events);
  // NotFound for an unknown id.
  Status RemoveRule(Id rule_id, std::vector<AlarmEvent>* events);
  // NotFound for an unknown rule or one of another organisation.
  Status SilenceRule(Id org_id, Id rule_id, TimeMs until_ms);
  // Marks an alarm loaded from the store as active (no second raise). NotFound for an unknown
  // rule or one of another organisation.
  Status RestoreActive(Id rule_id, Id org_id, const std::string& gateway_id, TimeMs raised_ms);

  // The organisations with enabled gateway rules, and whether one of them judges packets (the
  // caller then fills GatewaySnapshot::last_hour).
  std::vector<Id> Organizations() const;
  bool NeedsStats(Id org_id) const;

  // Judges every enabled rule of `org_id` on the organisation's gateways now; appends events.
  void Evaluate(Id org_id, const std::vector<GatewaySnapshot>& gateways,
                std::vector<AlarmEvent>* events);

  bool IsActive(Id rule_id, const std::string& gateway_id) const;
  size_t rule_count() const { return rules_.size(); }

 private:
  struct State {
    bool active = false;
    TimeMs last_reminder_ms = 0;
  };
  struct Entry {
    Rule rule;
    TimeMs silenced_until = 0;
    std::map<std::string, State> states;  // by gateway id
  };
  enum class Truth { kFalse, kTrue, kUnknown };
  Truth Holds(const Rule& r, const GatewaySnapshot& g, TimeMs now, std::string* what,
              std::vector<std::pair<std::string, Value>>* values) const;
  AlarmEvent Event(AlarmEventKind kind, const Rule& r, const std::string& gateway_id, TimeMs ts,
                   std::string what) const;
  void ClearAll(Entry& e, const char* why, std::vector<AlarmEvent>* events);

  const Clock& clock_;
  std::map<Id, Entry> rules_;
};

}  // namespace bysans::rules
