#include "rules/rule.h"

#include <cctype>
#include <cmath>

namespace bysans::rules {

const char* ScopeKindName(ScopeKind k) {
  switch (k) {
    case ScopeKind::kDevice:
      return "device";
    case ScopeKind::kApplication:
      return "application";
    case ScopeKind::kDeviceModel:
      return "device_model";
    case ScopeKind::kTag:
      return "tag";
    case ScopeKind::kGateway:
      return "gateway";
  }
  return "device";
}

std::optional<ScopeKind> ParseScopeKind(std::string_view s) {
  for (auto k : {ScopeKind::kDevice, ScopeKind::kApplication, ScopeKind::kDeviceModel,
                 ScopeKind::kTag, ScopeKind::kGateway}) {
    if (s == ScopeKindName(k)) return k;
  }
  return std::nullopt;
}

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kCritical:
      return "critical";
  }
  return "warning";
}

std::optional<Severity> ParseSeverity(std::string_view s) {
  for (auto v : {Severity::kInfo, Severity::kWarning, Severity::kCritical}) {
    if (s == SeverityName(v)) return v;
  }
  return std::nullopt;
}

const char* ConditionKindName(ConditionKind k) {
  switch (k) {
    case ConditionKind::kExpression:
      return "expression";
    case ConditionKind::kSilence:
      return "silence";
    case ConditionKind::kRateOfChange:
      return "rate_of_change";
    case ConditionKind::kGatewayOffline:
      return "gateway_offline";
    case ConditionKind::kGatewayPackets:
      return "gateway_packets";
  }
  return "expression";
}

std::optional<ConditionKind> ParseConditionKind(std::string_view s) {
  for (auto v : {ConditionKind::kExpression, ConditionKind::kSilence, ConditionKind::kRateOfChange,
                 ConditionKind::kGatewayOffline, ConditionKind::kGatewayPackets}) {
    if (s == ConditionKindName(v)) return v;
  }
  return std::nullopt;
}

const char* GatewayCounterName(GatewayCounter c) {
  switch (c) {
    case GatewayCounter::kRxReceivedOk:
      return "rx_received_ok";
    case GatewayCounter::kRxReceived:
      return "rx_received";
    case GatewayCounter::kTxReceived:
      return "tx_received";
    case GatewayCounter::kTxEmitted:
      return "tx_emitted";
  }
  return "rx_received_ok";
}

std::optional<GatewayCounter> ParseGatewayCounter(std::string_view s) {
  for (auto v : {GatewayCounter::kRxReceivedOk, GatewayCounter::kRxReceived,
                 GatewayCounter::kTxReceived, GatewayCounter::kTxEmitted}) {
    if (s == GatewayCounterName(v)) return v;
  }
  return std::nullopt;
}

const char* DirectionName(Direction d) {
  switch (d) {
    case Direction::kRise:
      return "rise";
    case Direction::kFall:
      return "fall";
    case Direction::kEither:
      return "either";
  }
  return "either";
}

std::optional<Direction> ParseDirection(std::string_view s) {
  for (auto v : {Direction::kRise, Direction::kFall, Direction::kEither}) {
    if (s == DirectionName(v)) return v;
  }
  return std::nullopt;
}

namespace {

Status Bad(RuleError* error, const std::string& field, const std::string& message) {
  if (error != nullptr) {
    error->field = field;
    error->parse.reset();
  }
  return InvalidArgument(field + ": " + message);
}

Status CheckExpression(RuleError* error, const std::string& field, const std::string& text) {
  ParseError pe;
  auto parsed = Expr::Parse(text, &pe);
  if (parsed.ok()) return Status::Ok();
  if (error != nullptr) {
    error->field = field;
    error->parse = pe;
  }
  return InvalidArgument(field + ": " + parsed.status().message());
}

}  // namespace

Status ValidateRule(const Rule& rule, RuleError* error) {
  if (rule.name.empty()) return Bad(error, "name", "must not be empty");
  if (rule.name.size() > 200) return Bad(error, "name", "must be at most 200 characters");
  if (rule.scope.kind == ScopeKind::kGateway) {
    if (rule.scope.gateway_id.size() > 64) {
      return Bad(error, "scope.gatewayId", "must be at most 64 characters");
    }
    for (char c : rule.scope.gateway_id) {
      if (!std::isxdigit(static_cast<unsigned char>(c))) {
        return Bad(error, "scope.gatewayId",
                   "must be a gateway id in hexadecimal (e.g. 0016c001f0001234), or absent for "
                   "all the organisation's gateways");
      }
    }
    if (!IsGatewayKind(rule.kind)) {
      return Bad(error, "kind",
                 "a gateway scope needs the kind gateway_offline or gateway_packets");
    }
  } else if (IsGatewayKind(rule.kind)) {
    return Bad(error, "kind",
               std::string(ConditionKindName(rule.kind)) + " needs a gateway scope, not " +
                   ScopeKindName(rule.scope.kind));
  } else if (rule.scope.kind == ScopeKind::kTag) {
    if (rule.scope.tag.empty()) return Bad(error, "scope", "a tag scope needs a tag");
  } else if (rule.scope.id <= 0) {
    return Bad(error, "scope",
               std::string("a ") + ScopeKindName(rule.scope.kind) + " scope needs a positive id");
  }
  if (rule.for_ms < 0) return Bad(error, "for_ms", "must not be negative");
  if (rule.remind_every_ms < 0) return Bad(error, "remind_every_ms", "must not be negative");
  if (rule.remind_every_ms > 0 && rule.remind_every_ms < 1000) {
    return Bad(error, "remind_every_ms", "must be at least 1000 (one second)");
  }
  switch (rule.kind) {
    case ConditionKind::kExpression:
      BYSANS_RETURN_IF_ERROR(CheckExpression(error, "expression", rule.expression));
      if (!rule.clear_expression.empty()) {
        BYSANS_RETURN_IF_ERROR(CheckExpression(error, "clear_expression", rule.clear_expression));
      }
      break;
    case ConditionKind::kSilence: {
      const auto& s = rule.silence;
      if (s.fixed_ms < 0) return Bad(error, "silence.fixed_ms", "must not be negative");
      if (!std::isfinite(s.interval_multiple) || s.interval_multiple < 0) {
        return Bad(error, "silence.interval_multiple", "must be a non-negative number");
      }
      if (s.fixed_ms == 0 && s.interval_multiple == 0) {
        return Bad(error, "silence", "set fixed_ms or interval_multiple");
      }
      if (!rule.clear_expression.empty()) {
        return Bad(error, "clear_expression", "a silence rule clears on the next message");
      }
      break;
    }
    case ConditionKind::kRateOfChange: {
      const auto& r = rule.rate;
      if (r.key.empty()) return Bad(error, "rate.key", "must not be empty");
      if (r.window_ms <= 0) return Bad(error, "rate.window_ms", "must be positive");
      if (!std::isfinite(r.threshold) || r.threshold <= 0) {
        return Bad(error, "rate.threshold", "must be a positive number");
      }
      if (!rule.clear_expression.empty()) {
        return Bad(error, "clear_expression",
                   "a rate-of-change rule clears when the change falls below the threshold");
      }
      break;
    }
    case ConditionKind::kGatewayOffline:
    case ConditionKind::kGatewayPackets: {
      if (!rule.clear_expression.empty()) {
        return Bad(error, "clear_expression", "a gateway rule clears when its condition ends");
      }
      if (rule.for_ms != 0) {
        return Bad(error, "for_ms",
                   "must be 0 for a gateway rule (the offline duration is gateway.offlineMs; "
                   "packets are counted per complete hour)");
      }
      const auto& g = rule.gateway;
      if (rule.kind == ConditionKind::kGatewayOffline) {
        if (g.offline_ms < 1000) {
          return Bad(error, "gateway.offline_ms", "must be at least 1000 (one second)");
        }
        break;
      }
      if (!g.min && !g.max) return Bad(error, "gateway", "set min, max or both");
      if ((g.min && (!std::isfinite(*g.min) || *g.min < 0)) ||
          (g.max && (!std::isfinite(*g.max) || *g.max < 0))) {
        return Bad(error, "gateway", "min and max must be non-negative numbers");
      }
      if (g.min && g.max && *g.min > *g.max) {
        return Bad(error, "gateway.max", "must not be below min");
      }
      break;
    }
  }
  return Status::Ok();
}

}  // namespace bysans::rules
