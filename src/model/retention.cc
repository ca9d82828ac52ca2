#include "model/retention.h"

namespace bysans {

RetentionDefaults RetentionDefaults::Builtin() {
  constexpr int kAggregates = 3650;
  RetentionDefaults d;
  d.by_class[DataClass::kNone] = {std::nullopt, std::nullopt, kAggregates};
  d.by_class[DataClass::kPseudonymous] = {std::nullopt, std::nullopt, kAggregates};
  d.by_class[DataClass::kPersonal] = {90, 365, kAggregates};
  d.by_class[DataClass::kSensitive] = {30, 90, kAggregates};
  return d;
}

RetentionDays EffectiveRetention(const Application& app, const RetentionDefaults& defaults) {
  RetentionDays def;
  if (auto it = defaults.by_class.find(app.data_class); it != defaults.by_class.end())
    def = it->second;
  const RetentionDays& own = app.retention;
  RetentionDays out{own.raw_messages_days ? own.raw_messages_days : def.raw_messages_days,
                    own.readings_days ? own.readings_days : def.readings_days,
                    own.aggregates_days ? own.aggregates_days : def.aggregates_days};
  // Charts of old periods fall back to aggregates: never drop them before the readings.
  if (out.aggregates_days && (!out.readings_days || *out.readings_days > *out.aggregates_days))
    out.aggregates_days = out.readings_days;
  return out;
}

RetentionCutoffs RetentionCutoffsAt(const RetentionDays& days, TimeMs now) {
  constexpr TimeMs kDayMs = 86'400'000;
  // 00:00 UTC of the day after `now`'s, `d` days back: what turns `d` days old today goes.
  const TimeMs tomorrow = now - ((now % kDayMs) + kDayMs) % kDayMs + kDayMs;
  auto before = [tomorrow](const std::optional<int>& d) {
    return d ? std::optional<TimeMs>(tomorrow - int64_t{*d} * kDayMs) : std::nullopt;
  };
  return RetentionCutoffs{before(days.raw_messages_days), before(days.readings_days),
                          before(days.aggregates_days)};
}

Status ValidateRetention(const RetentionDays& r, const std::string& prefix) {
  const std::pair<const char*, const std::optional<int>*> fields[] = {
      {"rawMessagesDays", &r.raw_messages_days},
      {"readingsDays", &r.readings_days},
      {"aggregatesDays", &r.aggregates_days}};
  for (const auto& [name, v] : fields) {
    if (*v && (**v < kMinRetentionDays || **v > kMaxRetentionDays)) {
      return InvalidArgument("field '" + prefix + name + "' must be from " +
                             std::to_string(kMinRetentionDays) + " to " +
                             std::to_string(kMaxRetentionDays) + " days (or null for the default)");
    }
  }
  if (r.readings_days && r.aggregates_days && *r.readings_days > *r.aggregates_days) {
    return InvalidArgument(
        "field '" + prefix + "readingsDays' (" + std::to_string(*r.readings_days) +
        ") must not exceed '" + prefix + "aggregatesDays' (" + std::to_string(*r.aggregates_days) +
        "): hourly aggregates keep the charts of periods whose readings are gone");
  }
  return Status::Ok();
}

}  // namespace bysans
