#include "rules/alarm.h"

#include <gtest/gtest.h>

namespace bysans::rules {
namespace {

AlarmEvent Raise() {
  AlarmEvent e;
  e.kind = AlarmEventKind::kRaise;
  e.rule_id = 1;
  e.org_id = 7;
  e.device_id = 2;
  e.ts = 1000;
  e.severity = Severity::kWarning;
  e.message = "co2: co2 > 1000";
  e.values = {{"co2", Value(1001.0)}};
  return e;
}

Alarm NewAlarm() {
  auto a = AlarmFromRaise(Raise());
  EXPECT_TRUE(a.ok());
  return std::move(a).value();
}

TEST(AlarmLifecycle, RaiseAcknowledgeClear) {
  Alarm a = NewAlarm();
  EXPECT_EQ(a.state, AlarmState::kActive);
  EXPECT_EQ(a.raised_ms, 1000);
  EXPECT_EQ(a.org_id, 7);
  ASSERT_EQ(a.history.size(), 1u);
  EXPECT_EQ(a.history[0].action, "raised");

  ASSERT_TRUE(Acknowledge(&a, "user:5", 2000, "on my way").ok());
  EXPECT_EQ(a.state, AlarmState::kAcknowledged);
  EXPECT_EQ(a.acknowledged_by, "user:5");
  EXPECT_EQ(a.acknowledged_ms, 2000);
  EXPECT_EQ(a.acknowledge_comment, "on my way");

  ASSERT_TRUE(AutoClear(&a, 3000).ok());
  EXPECT_EQ(a.state, AlarmState::kCleared);
  EXPECT_EQ(a.cleared_ms, 3000);
  EXPECT_FALSE(a.cleared_by.has_value());
  ASSERT_EQ(a.history.size(), 3u);
  EXPECT_EQ(a.history[1].action, "acknowledged");
  EXPECT_EQ(a.history[1].by, "user:5");
  EXPECT_EQ(a.history[2].action, "cleared");
}

TEST(AlarmLifecycle, ClearByHandFromActive) {
  Alarm a = NewAlarm();
  ASSERT_TRUE(ClearByHand(&a, "user:9", 1500, "sensor replaced").ok());
  EXPECT_EQ(a.state, AlarmState::kCleared);
  EXPECT_EQ(a.cleared_by, "user:9");
  EXPECT_EQ(a.history.back().detail, "sensor replaced");
}

TEST(AlarmLifecycle, InvalidTransitionsAreFailedPrecondition) {
  Alarm a = NewAlarm();
  ASSERT_TRUE(Acknowledge(&a, "u", 1, "").ok());
  Status twice = Acknowledge(&a, "v", 2, "");
  EXPECT_EQ(twice.code(), Code::kFailedPrecondition);
  EXPECT_EQ(twice.message(), "alarm is already acknowledged by u");
  ASSERT_TRUE(ClearByHand(&a, "u", 3, "").ok());
  size_t history = a.history.size();
  EXPECT_EQ(Acknowledge(&a, "u", 4, "").code(), Code::kFailedPrecondition);
  EXPECT_EQ(ClearByHand(&a, "u", 4, "").code(), Code::kFailedPrecondition);
  EXPECT_EQ(AutoClear(&a, 4).code(), Code::kFailedPrecondition);
  EXPECT_EQ(ChangeSeverity(&a, Severity::kCritical, "u", 4).code(), Code::kFailedPrecondition);
  EXPECT_EQ(RecordReminder(&a, 4).code(), Code::kFailedPrecondition);
  EXPECT_EQ(a.history.size(), history);  // unchanged
  EXPECT_EQ(a.state, AlarmState::kCleared);
}

TEST(AlarmLifecycle, CommentsSeverityAndValidation) {
  Alarm a = NewAlarm();
  ASSERT_TRUE(AddComment(&a, "u", 10, "looking").ok());
  ASSERT_TRUE(ChangeSeverity(&a, Severity::kCritical, "u", 11).ok());
  EXPECT_EQ(a.severity, Severity::kCritical);
  EXPECT_EQ(a.history.back().detail, "warning -> critical");
  ASSERT_TRUE(AutoClear(&a, 12).ok());
  ASSERT_TRUE(AddComment(&a, "u", 13, "after the fact").ok());  // allowed when cleared
  EXPECT_EQ(a.comments.size(), 2u);
  EXPECT_EQ(AddComment(&a, "u", 14, "").code(), Code::kInvalidArgument);
  EXPECT_EQ(AddComment(&a, "", 14, "x").code(), Code::kInvalidArgument);
  EXPECT_EQ(AddComment(&a, "u", 14, std::string(5000, 'x')).code(), Code::kInvalidArgument);
  Alarm b = NewAlarm();
  EXPECT_EQ(Acknowledge(&b, "", 1, "").code(), Code::kInvalidArgument);
}

TEST(AlarmLifecycle, EngineEventsApply) {
  Alarm a = NewAlarm();
  AlarmEvent remind = Raise();
  remind.kind = AlarmEventKind::kRemind;
  remind.ts = 5000;
  ASSERT_TRUE(ApplyEvent(&a, remind).ok());
  EXPECT_EQ(a.last_reminder_ms, 5000);
  AlarmEvent other = remind;
  other.device_id = 99;
  EXPECT_EQ(ApplyEvent(&a, other).code(), Code::kInvalidArgument);
  EXPECT_EQ(ApplyEvent(&a, Raise()).code(), Code::kInvalidArgument);
  AlarmEvent clear = Raise();
  clear.kind = AlarmEventKind::kClear;
  clear.ts = 6000;
  ASSERT_TRUE(ApplyEvent(&a, clear).ok());
  EXPECT_EQ(a.state, AlarmState::kCleared);
  EXPECT_EQ(AlarmFromRaise(clear).status().code(), Code::kInvalidArgument);
}

// Issue 21: ThingsBoard's four states. A critical alarm (require_acknowledge) that clears by
// itself is "cleared, not acknowledged" and stays open until a person acknowledges it.
TEST(AlarmLifecycle, ClearedNotAcknowledgedStaysOpenUntilAcknowledged) {
  AlarmEvent raise = Raise();
  raise.severity = Severity::kCritical;
  raise.require_acknowledge = true;
  auto made = AlarmFromRaise(raise);
  ASSERT_TRUE(made.ok());
  Alarm a = std::move(made).value();
  EXPECT_TRUE(a.require_acknowledge);
  EXPECT_TRUE(IsOpen(a));
  EXPECT_STREQ(AlarmStatusName(a), "active_unacknowledged");

  ASSERT_TRUE(AutoClear(&a, 2000).ok());
  EXPECT_EQ(a.state, AlarmState::kCleared);
  EXPECT_FALSE(IsAcknowledged(a));
  EXPECT_TRUE(IsAwaitingAcknowledge(a));
  EXPECT_TRUE(IsOpen(a));
  EXPECT_STREQ(AlarmStatusName(a), "cleared_unacknowledged");

  ASSERT_TRUE(Acknowledge(&a, "care@example.dk", 3000, "besøgt, ok").ok());
  EXPECT_EQ(a.state, AlarmState::kCleared);  // stays cleared
  EXPECT_TRUE(IsAcknowledged(a));
  EXPECT_FALSE(IsAwaitingAcknowledge(a));
  EXPECT_FALSE(IsOpen(a));
  EXPECT_STREQ(AlarmStatusName(a), "cleared_acknowledged");
  EXPECT_EQ(a.acknowledged_by, "care@example.dk");
  EXPECT_EQ(a.acknowledged_ms, 3000);
  EXPECT_EQ(a.acknowledge_comment, "besøgt, ok");
  ASSERT_EQ(a.history.size(), 3u);
  EXPECT_EQ(a.history[1].action, "cleared");
  EXPECT_EQ(a.history[1].by, "");
  EXPECT_EQ(a.history[2].action, "acknowledged");
  EXPECT_EQ(a.history[2].by, "care@example.dk");
  EXPECT_EQ(a.history[2].detail, "besøgt, ok");
  EXPECT_EQ(Acknowledge(&a, "other", 4000, "").code(), Code::kFailedPrecondition);
}

TEST(AlarmLifecycle, WithoutRequiredAcknowledgementAClearedAlarmIsNotOpen) {
  Alarm a = NewAlarm();  // warning, not required
  EXPECT_FALSE(a.require_acknowledge);
  ASSERT_TRUE(AutoClear(&a, 2000).ok());
  EXPECT_FALSE(IsOpen(a));
  EXPECT_FALSE(IsAwaitingAcknowledge(a));
  EXPECT_STREQ(AlarmStatusName(a), "cleared_unacknowledged");
  // It may still be acknowledged afterwards (who saw it).
  ASSERT_TRUE(Acknowledge(&a, "u", 2500, "").ok());
  EXPECT_STREQ(AlarmStatusName(a), "cleared_acknowledged");
}

TEST(AlarmLifecycle, ClearingByHandAcknowledgesToo) {
  AlarmEvent raise = Raise();
  raise.require_acknowledge = true;
  Alarm a = std::move(AlarmFromRaise(raise)).value();
  ASSERT_TRUE(ClearByHand(&a, "op@example.dk", 1500, "falsk alarm").ok());
  EXPECT_EQ(a.state, AlarmState::kCleared);
  EXPECT_TRUE(IsAcknowledged(a));
  EXPECT_FALSE(IsOpen(a));
  EXPECT_EQ(a.acknowledged_by, "op@example.dk");
  EXPECT_EQ(a.cleared_by, "op@example.dk");
  ASSERT_EQ(a.history.size(), 3u);
  EXPECT_EQ(a.history[1].action, "acknowledged");
  EXPECT_EQ(a.history[2].action, "cleared");
  EXPECT_EQ(a.history[2].detail, "falsk alarm");
  // An acknowledged alarm cleared by hand keeps its first acknowledgement.
  Alarm b = NewAlarm();
  ASSERT_TRUE(Acknowledge(&b, "first", 1100, "").ok());
  ASSERT_TRUE(ClearByHand(&b, "second", 1200, "").ok());
  EXPECT_EQ(b.acknowledged_by, "first");
  EXPECT_EQ(b.cleared_by, "second");
}

TEST(AlarmLifecycle, RuleRequiresAcknowledgeByDefaultOnlyWhenCritical) {
  Rule r;
  r.severity = Severity::kCritical;
  EXPECT_TRUE(RequiresAcknowledge(r));
  r.severity = Severity::kWarning;
  EXPECT_FALSE(RequiresAcknowledge(r));
  r.require_acknowledge = true;
  EXPECT_TRUE(RequiresAcknowledge(r));
  r.severity = Severity::kCritical;
  r.require_acknowledge = false;
  EXPECT_FALSE(RequiresAcknowledge(r));
}

TEST(AlarmLifecycle, Names) {
  for (auto s : {AlarmState::kActive, AlarmState::kAcknowledged, AlarmState::kCleared}) {
    EXPECT_EQ(ParseAlarmState(AlarmStateName(s)), s);
  }
  EXPECT_FALSE(ParseAlarmState("open").has_value());
  EXPECT_EQ(ParseSeverity("critical"), Severity::kCritical);
  EXPECT_EQ(ParseScopeKind("device_model"), ScopeKind::kDeviceModel);
  EXPECT_EQ(ParseConditionKind("rate_of_change"), ConditionKind::kRateOfChange);
  EXPECT_EQ(ParseDirection("fall"), Direction::kFall);
}

}  // namespace
}  // namespace bysans::rules
