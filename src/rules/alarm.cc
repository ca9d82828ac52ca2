#include "rules/alarm.h"

namespace bysans::rules {

const char* AlarmStateName(AlarmState s) {
  switch (s) {
    case AlarmState::kActive:
      return "active";
    case AlarmState::kAcknowledged:
      return "acknowledged";
    case AlarmState::kCleared:
      return "cleared";
  }
  return "active";
}

std::optional<AlarmState> ParseAlarmState(std::string_view s) {
  for (auto v : {AlarmState::kActive, AlarmState::kAcknowledged, AlarmState::kCleared}) {
    if (s == AlarmStateName(v)) return v;
  }
  return std::nullopt;
}

const char* AlarmStatusName(const Alarm& a) {
  const bool ack = IsAcknowledged(a);
  if (a.state == AlarmState::kCleared)
    return ack ? "cleared_acknowledged" : "cleared_unacknowledged";
  return ack ? "active_acknowledged" : "active_unacknowledged";
}

namespace {

constexpr size_t kMaxCommentBytes = 4000;

Status NotWhenCleared(const Alarm& a, const char* what) {
  if (a.state == AlarmState::kCleared) {
    return FailedPrecondition(std::string("cannot ") + what + " an alarm that is already cleared");
  }
  return Status::Ok();
}

void Log(Alarm* a, TimeMs at, std::string action, std::string by, std::string detail) {
  a->history.push_back(AlarmHistoryEntry{at, std::move(action), std::move(by), std::move(detail)});
}

}  // namespace

Result<Alarm> AlarmFromRaise(const AlarmEvent& raise) {
  if (raise.kind != AlarmEventKind::kRaise) {
    return InvalidArgument(std::string("an alarm starts with a raise event, not ") +
                           AlarmEventKindName(raise.kind));
  }
  Alarm a;
  a.org_id = raise.org_id;
  a.rule_id = raise.rule_id;
  a.device_id = raise.device_id;
  a.gateway_id = raise.gateway_id;
  a.severity = raise.severity;
  a.state = AlarmState::kActive;
  a.message = raise.message;
  a.values = raise.values;
  a.raised_ms = raise.ts;
  a.last_reminder_ms = raise.ts;
  a.require_acknowledge = raise.require_acknowledge;
  Log(&a, raise.ts, "raised", "", raise.message);
  return a;
}

Status Acknowledge(Alarm* alarm, std::string by, TimeMs at, std::string comment) {
  if (by.empty()) return InvalidArgument("acknowledge: who acknowledges is required");
  if (comment.size() > kMaxCommentBytes) return InvalidArgument("comment is too long");
  if (IsAcknowledged(*alarm)) {
    return FailedPrecondition("alarm is already acknowledged by " + *alarm->acknowledged_by);
  }
  if (alarm->state != AlarmState::kCleared) alarm->state = AlarmState::kAcknowledged;
  alarm->acknowledged_by = by;
  alarm->acknowledged_ms = at;
  alarm->acknowledge_comment = comment;
  Log(alarm, at, "acknowledged", std::move(by), std::move(comment));
  return Status::Ok();
}

Status ClearByHand(Alarm* alarm, std::string by, TimeMs at, std::string comment) {
  if (by.empty()) return InvalidArgument("clear: who clears is required");
  if (comment.size() > kMaxCommentBytes) return InvalidArgument("comment is too long");
  BYSANS_RETURN_IF_ERROR(NotWhenCleared(*alarm, "clear"));
  if (!IsAcknowledged(*alarm)) BYSANS_RETURN_IF_ERROR(Acknowledge(alarm, by, at, comment));
  alarm->state = AlarmState::kCleared;
  alarm->cleared_ms = at;
  alarm->cleared_by = by;
  Log(alarm, at, "cleared", std::move(by), std::move(comment));
  return Status::Ok();
}

Status AutoClear(Alarm* alarm, TimeMs at) {
  BYSANS_RETURN_IF_ERROR(NotWhenCleared(*alarm, "clear"));
  alarm->state = AlarmState::kCleared;
  alarm->cleared_ms = at;
  alarm->cleared_by.reset();
  Log(alarm, at, "cleared", "", "condition cleared");
  return Status::Ok();
}

Status AddComment(Alarm* alarm, std::string by, TimeMs at, std::string text) {
  if (by.empty()) return InvalidArgument("comment: author is required");
  if (text.empty()) return InvalidArgument("comment: text must not be empty");
  if (text.size() > kMaxCommentBytes) return InvalidArgument("comment is too long");
  alarm->comments.push_back(AlarmComment{by, at, text});
  Log(alarm, at, "comment", std::move(by), std::move(text));
  return Status::Ok();
}

Status ChangeSeverity(Alarm* alarm, Severity severity, std::string by, TimeMs at) {
  BYSANS_RETURN_IF_ERROR(NotWhenCleared(*alarm, "change the severity of"));
  if (alarm->severity == severity) return Status::Ok();
  std::string detail = std::string(SeverityName(alarm->severity)) + " -> " + SeverityName(severity);
  alarm->severity = severity;
  Log(alarm, at, "severity", std::move(by), std::move(detail));
  return Status::Ok();
}

Status RecordReminder(Alarm* alarm, TimeMs at) {
  BYSANS_RETURN_IF_ERROR(NotWhenCleared(*alarm, "remind about"));
  alarm->last_reminder_ms = at;
  Log(alarm, at, "reminded", "", "");
  return Status::Ok();
}

Status ApplyEvent(Alarm* alarm, const AlarmEvent& event) {
  if (event.rule_id != alarm->rule_id || event.device_id != alarm->device_id ||
      event.gateway_id != alarm->gateway_id) {
    return InvalidArgument("event belongs to another (rule, device or gateway)");
  }
  switch (event.kind) {
    case AlarmEventKind::kClear:
      return AutoClear(alarm, event.ts);
    case AlarmEventKind::kRemind:
      return RecordReminder(alarm, event.ts);
    case AlarmEventKind::kRaise:
      break;
  }
  return InvalidArgument("a raise event starts a new alarm (AlarmFromRaise)");
}

}  // namespace bysans::rules
