// How long an application's data is kept: its own retention settings, else the server default
// of its data class. One pure function that the store's background cleanup and the API (which
// shows the effective values) both call, plus the validation of the settings.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/status.h"
#include "model/model.h"

namespace bysans {

constexpr int kMinRetentionDays = 1;
constexpr int kMaxRetentionDays = 36'500;

// Server defaults per data class (config `retention.*`, docs/CONFIG.md); a class not in the map,
// or a kind left nullopt, keeps its data for ever.
struct RetentionDefaults {
  std::map<DataClass, RetentionDays> by_class;

  // The built-in defaults: sensitive raw 30 / readings 90, personal 90 / 365, pseudonymous and
  // none for ever; aggregates 3650 days for every class.
  static RetentionDefaults Builtin();
};

// The days each kind of data of `app` is kept (nullopt = for ever): each of the application's
// settings that is set, else the default of its data class. A combination where readings would
// outlive aggregates keeps the aggregates as long as the readings.
RetentionDays EffectiveRetention(const Application& app, const RetentionDefaults& defaults);

// What a retention pass removes for a set of devices (SeriesStore::ApplyRetention): each
// cutoff nullopt = that kind is kept for ever; data strictly older than a cutoff goes.
struct RetentionCutoffs {
  std::optional<TimeMs> raw_before;         // raw messages (received_ms)
  std::optional<TimeMs> readings_before;    // readings (their points; hourly summaries stay)
  std::optional<TimeMs> aggregates_before;  // hourly summaries of readings already removed
  bool operator==(const RetentionCutoffs&) const = default;
};

// The cutoffs of a retention of `days` at `now`, in whole UTC days (nullopt: kept for ever).
// Retention is a maximum (GDPR's storage limitation): data goes at the first pass of the UTC day
// on which it turns `days` old, so it is kept at most its number of days and at least one day
// less (the newest reading of a series always stays). Whole days make the cleanup one pass a day
// per application (each series' expired chunks move in one piece, each device's raw-message index
// is rewritten once) instead of one every hour: the hourly housekeeping runs in between find
// nothing to do. bench/retention measures it.
RetentionCutoffs RetentionCutoffsAt(const RetentionDays& days, TimeMs now);

// Checks settings given by a user: each set value within 1..36500 days and readings not kept
// longer than aggregates (when both are set). kInvalidArgument naming the field otherwise
// (`prefix` is put before the field names, e.g. "retention.").
Status ValidateRetention(const RetentionDays& r, const std::string& prefix);

}  // namespace bysans
