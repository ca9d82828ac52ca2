// Alarm lifecycle as pure state transitions on a value type. The store keeps
// Alarm rows; the API and the pipeline call these functions and save the
// result. Thread-compatible.
//
// Two dimensions (ThingsBoard's four states): active or cleared, and
// acknowledged or not. `state` keeps the stored three-valued lifecycle
// (active, acknowledged = active and acknowledged, cleared); whether a
// cleared alarm was acknowledged is `acknowledged_by`:
//
//   active ──acknowledge──► acknowledged
//     │                          │
//     └──────clear (auto|hand)───┴──► cleared ──acknowledge──► (cleared, acknowledged)
//
// An alarm whose rule requires acknowledgement (default: critical) stays
// *open* (IsOpen) after an automatic clear until a person acknowledges it:
// "cleared, not acknowledged". Clearing by hand acknowledges too (a person
// saw it). Comments may be added in every state; severity may change while
// not cleared. Every change appends a history entry. Invalid transitions
// return FailedPrecondition and leave the alarm unchanged.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "rules/engine.h"
#include "rules/rule.h"

namespace bysans::rules {

enum class AlarmState : uint8_t { kActive, kAcknowledged, kCleared };
const char* AlarmStateName(AlarmState s);  // "active", "acknowledged", "cleared"
std::optional<AlarmState> ParseAlarmState(std::string_view s);

struct AlarmComment {
  std::string by;
  TimeMs at = 0;
  std::string text;
};

// One line of an alarm's history. `action` is one of "raised",
// "acknowledged", "cleared", "comment", "severity", "reminded".
struct AlarmHistoryEntry {
  TimeMs at = 0;
  std::string action;
  std::string by;      // empty for the system (e.g. automatic clear)
  std::string detail;  // comment text, "warning -> critical", ...
};

struct Alarm {
  Id id = 0;  // assigned by the store
  Id org_id = 0;
  Id rule_id = 0;
  Id device_id = 0;        // 0 for a gateway alarm
  std::string gateway_id;  // a gateway alarm's gateway (of org_id); empty for a device alarm
  Severity severity = Severity::kWarning;
  AlarmState state = AlarmState::kActive;
  std::string message;
  std::vector<std::pair<std::string, Value>> values;  // snapshot at raise
  TimeMs raised_ms = 0;
  std::optional<std::string> acknowledged_by;
  std::optional<TimeMs> acknowledged_ms;
  std::string acknowledge_comment;
  std::optional<TimeMs> cleared_ms;
  std::optional<std::string> cleared_by;  // nullopt = cleared automatically
  TimeMs last_reminder_ms = 0;
  bool require_acknowledge = false;  // from the rule at raise time
  std::vector<AlarmComment> comments;
  std::vector<AlarmHistoryEntry> history;
};

// A person acknowledged the alarm (in any state).
inline bool IsAcknowledged(const Alarm& a) { return a.acknowledged_by.has_value(); }
// Cleared by its condition, requires acknowledgement and nobody has yet.
inline bool IsAwaitingAcknowledge(const Alarm& a) {
  return a.state == AlarmState::kCleared && a.require_acknowledge && !IsAcknowledged(a);
}
// Among the open alarms (API list ?state=open, the open-alarm count): not
// cleared, or awaiting acknowledgement.
inline bool IsOpen(const Alarm& a) {
  return a.state != AlarmState::kCleared || IsAwaitingAcknowledge(a);
}
// "active_unacknowledged", "active_acknowledged", "cleared_unacknowledged",
// "cleared_acknowledged".
const char* AlarmStatusName(const Alarm& a);

// A new active alarm from a kRaise event (require_acknowledge from the
// event). InvalidArgument for other kinds.
Result<Alarm> AlarmFromRaise(const AlarmEvent& raise);

// Records who acknowledged: active → acknowledged, or a cleared alarm not yet
// acknowledged stays cleared and is acknowledged (no longer awaiting).
// FailedPrecondition when already acknowledged; InvalidArgument when `by` is
// empty.
Status Acknowledge(Alarm* alarm, std::string by, TimeMs at, std::string comment);

// active|acknowledged → cleared by a person; an unacknowledged alarm is
// acknowledged by the same person first (two history entries).
// FailedPrecondition when cleared.
Status ClearByHand(Alarm* alarm, std::string by, TimeMs at, std::string comment);

// active|acknowledged → cleared because the condition cleared (kClear event).
Status AutoClear(Alarm* alarm, TimeMs at);

// Adds a comment in any state. InvalidArgument when text or by is empty or
// the text is longer than 4000 bytes.
Status AddComment(Alarm* alarm, std::string by, TimeMs at, std::string text);

// Changes severity while not cleared. FailedPrecondition when cleared.
Status ChangeSeverity(Alarm* alarm, Severity severity, std::string by, TimeMs at);

// Records a reminder (kRemind event). FailedPrecondition when cleared.
Status RecordReminder(Alarm* alarm, TimeMs at);

// Applies an engine event to the alarm it belongs to (kClear → AutoClear,
// kRemind → RecordReminder). kRaise is InvalidArgument (use AlarmFromRaise).
Status ApplyEvent(Alarm* alarm, const AlarmEvent& event);

}  // namespace bysans::rules
