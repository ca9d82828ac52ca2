// The rule model: plain value types describing when an alarm is raised and
// cleared. Validation (including expression parsing with positions) is
// ValidateRule below. Thread-compatible value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "model/model.h"
#include "rules/expr.h"

namespace bysans::rules {

enum class ScopeKind : uint8_t { kDevice, kApplication, kDeviceModel, kTag, kGateway };
// "device", "application", "device_model", "tag", "gateway"
const char* ScopeKindName(ScopeKind k);
std::optional<ScopeKind> ParseScopeKind(std::string_view s);

// Which devices a rule watches: one device, every device of an application or
// of a device model, or every device carrying a tag. Or which LoRaWAN gateways
// (kGateway): one gateway of the rule's organisation (gateway_id, e.g.
// "0016c001f0001234"), or every gateway of the organisation (gateway_id empty;
// the API also accepts "*" for it). Gateways are organisation-wide objects
// (store/gateway_store.h), keyed by (organisation, gateway id).
struct Scope {
  ScopeKind kind = ScopeKind::kDevice;
  Id id = 0;               // device, application or device model id
  std::string tag;         // for kTag
  std::string gateway_id;  // for kGateway; empty = all the organisation's gateways
};

enum class Severity : uint8_t { kInfo = 0, kWarning = 1, kCritical = 2 };
const char* SeverityName(Severity s);  // "info", "warning", "critical"
std::optional<Severity> ParseSeverity(std::string_view s);

enum class ConditionKind : uint8_t {
  kExpression,
  kSilence,
  kRateOfChange,
  kGatewayOffline,  // gateway scope only (rules/gateway_engine.h)
  kGatewayPackets,  // gateway scope only
};
// "expression", "silence", "rate_of_change", "gateway_offline", "gateway_packets"
const char* ConditionKindName(ConditionKind k);
// The kinds evaluated on gateways (rules/gateway_engine.h), not on devices.
inline bool IsGatewayKind(ConditionKind k) {
  return k == ConditionKind::kGatewayOffline || k == ConditionKind::kGatewayPackets;
}
std::optional<ConditionKind> ParseConditionKind(std::string_view s);

// No message from the device for `fixed_ms`, or (when fixed_ms is 0) for
// `interval_multiple` × the device's expected report interval. A device with
// no expected interval is not watched by a multiple-based silence rule.
struct SilenceCondition {
  TimeMs fixed_ms = 0;
  double interval_multiple = 0;
};

enum class Direction : uint8_t { kRise, kFall, kEither };
const char* DirectionName(Direction d);  // "rise", "fall", "either"
std::optional<Direction> ParseDirection(std::string_view s);

// The numeric reading `key` changed by at least `threshold` (> 0) within
// `window_ms`: change = newest value − oldest value whose timestamp lies in
// [newest ts − window_ms, newest ts]. kRise needs change ≥ threshold, kFall
// change ≤ −threshold, kEither |change| ≥ threshold. Timestamps are the
// readings' own (data time). At most the latest 10,000 samples per (rule,
// device) are kept, so at very high rates the window is effectively shorter.
struct RateOfChangeCondition {
  std::string key;
  TimeMs window_ms = 0;
  double threshold = 0;
  Direction direction = Direction::kEither;
};

// Gateway conditions (rules/gateway_engine.h has the exact semantics).
// kGatewayOffline: the gateway's last state/conn is OFFLINE since at least
// `offline_ms`, or nothing (no uplink through it, no gateway event) was seen
// for `offline_ms`. kGatewayPackets: the counter `counter` summed over the
// last complete UTC hour lies outside [min, max] (either bound may be absent,
// not both).
enum class GatewayCounter : uint8_t { kRxReceivedOk, kRxReceived, kTxReceived, kTxEmitted };
// "rx_received_ok", "rx_received", "tx_received", "tx_emitted"
const char* GatewayCounterName(GatewayCounter c);
std::optional<GatewayCounter> ParseGatewayCounter(std::string_view s);

struct GatewayCondition {
  TimeMs offline_ms = 0;  // kGatewayOffline
  GatewayCounter counter = GatewayCounter::kRxReceivedOk;
  std::optional<double> min;  // kGatewayPackets
  std::optional<double> max;
};

struct Rule {
  Id id = 0;
  Id org_id = 0;
  std::string name;
  Scope scope;
  Severity severity = Severity::kWarning;
  ConditionKind kind = ConditionKind::kExpression;
  std::string expression;        // kExpression: the condition, see expr.h
  SilenceCondition silence;      // kSilence
  RateOfChangeCondition rate;    // kRateOfChange
  GatewayCondition gateway;      // kGatewayOffline, kGatewayPackets
  TimeMs for_ms = 0;             // condition must hold this long before raising
  std::string clear_expression;  // kExpression only; empty = "not condition"
  TimeMs remind_every_ms = 0;    // 0 = no reminders
  bool enabled = true;
  // An alarm that clears by itself stays open until a person acknowledges it
  // (alarm.h). nullopt = the default: only critical alarms.
  std::optional<bool> require_acknowledge;
};

inline bool RequiresAcknowledge(const Rule& r) {
  return r.require_acknowledge.value_or(r.severity == Severity::kCritical);
}

// Where a validation error is: the field ("expression", "clear_expression",
// "for_ms", ...) and, for expressions, the parse position.
struct RuleError {
  std::string field;
  std::optional<ParseError> parse;
};

inline bool IsGatewayRule(const Rule& r) { return r.scope.kind == ScopeKind::kGateway; }

// Checks a rule: expressions parse (messages name the field and position,
// e.g. "expression: at 7: expected a number after '>', got end of input"),
// durations are non-negative, the condition kind's fields are set, gateway
// kinds go with a gateway scope and only they (field "kind"). Returns
// InvalidArgument; fills `error` when given.
Status ValidateRule(const Rule& rule, RuleError* error = nullptr);

}  // namespace bysans::rules
