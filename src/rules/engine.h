// RuleEngine: evaluates rules against incoming readings and the passage of
// time, and emits alarm events. Pure logic: no store, no I/O. The caller
// persists events (alarm.h) and triggers actions.
//
// Guarantees
// - Exactly one alarm per (rule, device): kRaise once, no duplicates while
//   active, kClear when the clear condition holds (hysteresis), and a new
//   kRaise only after a kClear.
// - A condition must hold continuously for rule.for_ms before kRaise; a false
//   or unknown evaluation in between resets the wait.
// - kRemind every rule.remind_every_ms while active (not while suppressed).
// - Suppression: while the device is in maintenance, or the device or the
//   rule is silenced (SilenceDevice / SilenceRule until a time), nothing is
//   raised and no reminder is sent, but state is still tracked and clears are
//   still emitted. When the suppression ends and the condition still holds
//   (and has held for for_ms), the alarm is raised at the first OnTick at or
//   after the end of the silence (or, for maintenance, at the first OnTick or
//   OnReadings after the device leaves maintenance), with that time as ts. If
//   the condition stopped holding meanwhile, nothing is raised.
// - Silence rules: a device in scope that sends nothing for the timeout gets
//   kRaise; its next message gives kClear. Devices are watched from their
//   first OnReadings or from UpsertDevice.
//
// Time: all decisions use the injected Clock (processing time); only
// rate-of-change windows use the readings' own timestamps.
//
// Cost: readings whose key no rule references cost one hash lookup. A reading
// touches only rules that reference its key in one of the device's scopes
// (device, application, device model, tags); each touched rule is evaluated
// once per OnReadings call. No allocation per reading in the steady state
// (except copying string values longer than the small-string buffer).
//
// Thread-compatibility: not thread-safe. Use one engine per pipeline thread
// (partition devices by id) or guard every call with an external mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "model/model.h"
#include "rules/rule.h"

namespace bysans::rules {

// What the engine needs to know about a device (from model::Device).
// A rule only ever sees devices of its own organisation (rule.org_id ==
// org_id), whatever its scope names: tags are per organisation, and a device,
// application or device model id of another organisation matches nothing.
struct DeviceInfo {
  Id id = 0;
  Id org_id = 0;
  Id app_id = 0;
  std::optional<Id> model_id;
  std::vector<std::string> tags;
  int64_t expected_interval_s = 0;  // 0 = unknown
  bool in_maintenance = false;
};

// The engine's view of a stored device (every field above, from `d`).
DeviceInfo DeviceInfoOf(const Device& d);

enum class AlarmEventKind : uint8_t { kRaise, kClear, kRemind };
const char* AlarmEventKindName(AlarmEventKind k);  // "raise", "clear", "remind"

struct AlarmEvent {
  AlarmEventKind kind = AlarmEventKind::kRaise;
  Id rule_id = 0;
  Id org_id = 0;
  Id device_id = 0;        // 0 for a gateway alarm
  std::string gateway_id;  // a gateway alarm's gateway (rules/gateway_engine.h); else empty
  TimeMs ts = 0;
  Severity severity = Severity::kWarning;
  bool require_acknowledge = false;  // RequiresAcknowledge(rule)
  std::string message;               // "<rule name>: <what happened>"
  // Snapshot of the values the rule looks at (missing keys are left out).
  // Silence rules report "last_seen_ms"; rate rules the key and "change".
  std::vector<std::pair<std::string, Value>> values;
};

// A change of a for-duration wait, for the caller to persist (TakeWaitChanges): only rules with
// for_ms > 0 of kind expression or rate of change (silence rules recompute theirs from the
// device's last message). `since` set: the condition has held since then (a wait began);
// nullopt: the wait is over — the condition stopped holding, the alarm was raised, the rule was
// changed or removed, or the device left the rule's scope.
struct WaitChange {
  Id rule_id = 0;
  Id device_id = 0;
  std::optional<TimeMs> since;
  bool operator==(const WaitChange&) const = default;
};

class RuleEngine {
 public:
  explicit RuleEngine(const Clock& clock);
  ~RuleEngine();
  RuleEngine(const RuleEngine&) = delete;
  RuleEngine& operator=(const RuleEngine&) = delete;

  // Adds or replaces the rule with rule.id (validated with ValidateRule).
  // Replacing or disabling a rule resets its state: its active alarms get a
  // kClear ("rule changed") appended to `events`, and may be raised again by
  // later readings.
  Status UpsertRule(const Rule& rule, std::vector<AlarmEvent>* events);

  // Removes a rule; its active alarms get a kClear ("rule removed").
  // Returns NotFound for an unknown id.
  Status RemoveRule(Id rule_id, std::vector<AlarmEvent>* events);

  // Registers or updates a device without readings, e.g. at startup, so that
  // silence rules watch it from `last_seen_ms` (default: now). A later
  // OnReadings updates the info as well.
  void UpsertDevice(const DeviceInfo& info, std::optional<TimeMs> last_seen_ms,
                    std::vector<AlarmEvent>* events);

  // Forgets a device and its rule states (no events).
  void RemoveDevice(Id device_id);

  // Suppress raising and reminders until `until_ms` (a time in the past lifts
  // the silence). See "Suppression" above. A silence is keyed by (organisation,
  // object): one given by another organisation than the device's or the rule's
  // is ignored (SilenceRule: NotFound, like an unknown rule; SilenceDevice keeps it
  // per organisation, so it never applies while the device is another's).
  void SilenceDevice(Id org_id, Id device_id, TimeMs until_ms);
  Status SilenceRule(Id org_id, Id rule_id, TimeMs until_ms);

  // Marks an alarm as already active (e.g. loaded from the store at startup)
  // so it is not raised a second time. Returns NotFound for an unknown rule or
  // a device of another organisation than the rule's.
  Status RestoreActive(Id rule_id, const DeviceInfo& device, TimeMs raised_ms);

  // Puts (rule, device) into "condition true since `since`", e.g. a wait loaded from the store
  // after a takeover or a restart (TakeWaitChanges): the first OnTick at or after
  // since + for_ms raises (as a wait that began here would, suppression included), unless a
  // reading makes the condition false or unknown first, which ends the wait as usual. Nothing
  // is reported by TakeWaitChanges for it. An alarm already active (RestoreActive) is left as it
  // is. Returns NotFound for an unknown or disabled rule, a device of another organisation than
  // the rule's or not in its scope; InvalidArgument for a rule without for_ms or a silence rule.
  Status RestorePending(Id rule_id, const DeviceInfo& device, TimeMs since);

  // Puts a device's stored latest values in (read from the store after a takeover or a restart),
  // so that a rule naming several keys evaluates a new reading with the values stored before,
  // not as unknown until each key arrives again (a wait restored with RestorePending goes on).
  // Evaluates nothing and reports nothing. A value not newer than the one held, a reading of
  // another device and a key no rule names are skipped.
  void RestoreLatest(const DeviceInfo& device, std::span<const Reading> latest);

  // The wait changes since the last call: the latest of each (rule, device), ordered by rule
  // and device. Costs nothing for rules without for_ms; forgetting a device (RemoveDevice)
  // reports nothing (the device's next evaluator goes on with its waits).
  std::vector<WaitChange> TakeWaitChanges();

  // A batch of readings of one device (all with device_id == device.id),
  // received now. Appends events.
  void OnReadings(const DeviceInfo& device, std::span<const Reading> readings,
                  std::vector<AlarmEvent>* events);

  // Runs every time-based decision due at or before now (for-duration,
  // silence, reminders, end of suppression). Call it regularly (e.g. every
  // second) or at NextDueMs().
  void OnTick(std::vector<AlarmEvent>* events);

  // The earliest time OnTick may have something to do (may be early).
  std::optional<TimeMs> NextDueMs() const;

  bool IsActive(Id rule_id, Id device_id) const;
  size_t rule_count() const;
  size_t device_count() const;
  // Whether some rule names `key` (RestoreLatest keeps only such keys).
  bool NamesKey(std::string_view key) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bysans::rules
