#include "rules/engine.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bysans::rules {
namespace {

constexpr TimeMs kStart = 1'700'000'000'000;
constexpr TimeMs kSec = 1000;
constexpr TimeMs kMin = 60 * kSec;
constexpr TimeMs kHour = 60 * kMin;

Rule ExprRule(Id id, std::string expr, std::string clear = "") {
  Rule r;
  r.id = id;
  r.org_id = 7;
  r.name = "rule" + std::to_string(id);
  r.scope = {ScopeKind::kApplication, 10, "", ""};
  r.severity = Severity::kCritical;
  r.kind = ConditionKind::kExpression;
  r.expression = std::move(expr);
  r.clear_expression = std::move(clear);
  return r;
}

Rule SilenceRule(Id id, TimeMs fixed_ms, double multiple = 0) {
  Rule r;
  r.id = id;
  r.org_id = 7;
  r.name = "silent";
  r.scope = {ScopeKind::kApplication, 10, "", ""};
  r.kind = ConditionKind::kSilence;
  r.silence.fixed_ms = fixed_ms;
  r.silence.interval_multiple = multiple;
  return r;
}

Reading MakeReading(Id device, std::string key, Value v, TimeMs ts) {
  Reading r;
  r.device_id = device;
  r.key = std::move(key);
  r.ts = ts;
  r.value = std::move(v);
  return r;
}

DeviceInfo Dev(Id id) {
  DeviceInfo d;
  d.id = id;
  d.org_id = 7;
  d.app_id = 10;
  d.model_id = 20;
  d.tags = {"classroom"};
  return d;
}

class EngineTest : public ::testing::Test {
 protected:
  // Sends one message with one numeric reading at the current time.
  void Send(const DeviceInfo& dev, const std::string& key, Value v) {
    Reading r = MakeReading(dev.id, key, std::move(v), clock_.NowMs());
    engine_.OnReadings(dev, std::span<const Reading>(&r, 1), &events_);
  }
  void Tick() { engine_.OnTick(&events_); }
  void Advance(TimeMs d) {
    clock_.Advance(d);
    Tick();
  }
  // Returns and forgets the events so far, as "kind@offset_s" strings.
  std::vector<std::string> Take() {
    std::vector<std::string> out;
    for (const auto& e : events_) {
      out.push_back(std::string(AlarmEventKindName(e.kind)) + "@" +
                    std::to_string((e.ts - kStart) / kSec));
    }
    events_.clear();
    return out;
  }
  using V = std::vector<std::string>;

  ManualClock clock_{kStart};
  RuleEngine engine_{clock_};
  std::vector<AlarmEvent> events_;
};

TEST_F(EngineTest, FiresOncePerRuleAndDeviceAndClearsWithHysteresis) {
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(1, "co2 > 1000", "co2 < 900"), &events_).ok());
  auto dev = Dev(1);
  Send(dev, "co2", 1001.0);
  ASSERT_EQ(events_.size(), 1u);
  const AlarmEvent& e = events_[0];
  EXPECT_EQ(e.kind, AlarmEventKind::kRaise);
  EXPECT_EQ(e.rule_id, 1);
  EXPECT_EQ(e.org_id, 7);
  EXPECT_EQ(e.device_id, 1);
  EXPECT_EQ(e.severity, Severity::kCritical);
  EXPECT_TRUE(e.require_acknowledge);  // critical: by default (issue 21)
  EXPECT_EQ(e.message, "rule1: co2 > 1000");
  ASSERT_EQ(e.values.size(), 1u);
  EXPECT_EQ(e.values[0].first, "co2");
  EXPECT_EQ(std::get<double>(e.values[0].second), 1001.0);
  Take();
  Send(dev, "co2", 1500.0);
  Send(dev, "co2", 1001.0);
  EXPECT_EQ(Take(), V{});  // no duplicates while active
  Send(dev, "co2", 950.0);
  EXPECT_EQ(Take(), V{});  // below the condition, above the clear level
  EXPECT_TRUE(engine_.IsActive(1, 1));
  clock_.Advance(kMin);
  Send(dev, "co2", 899.0);
  EXPECT_EQ(Take(), V{"clear@60"});
  EXPECT_FALSE(engine_.IsActive(1, 1));
  Send(dev, "co2", 950.0);
  EXPECT_EQ(Take(), V{});
  clock_.Advance(kMin);
  Send(dev, "co2", 1001.0);
  EXPECT_EQ(Take(), V{"raise@120"});
}

TEST_F(EngineTest, OneAlarmPerDevice) {
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(1, "co2 > 1000"), &events_).ok());
  Send(Dev(1), "co2", 1001.0);
  Send(Dev(2), "co2", 1001.0);
  Send(Dev(1), "co2", 1002.0);
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(events_[0].device_id, 1);
  EXPECT_EQ(events_[1].device_id, 2);
}

TEST_F(EngineTest, DefaultClearIsNotConditionAndUnknownNeverFires) {
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(1, "co2 > 1000 and temperature > 24"), &events_).ok());
  auto dev = Dev(1);
  Send(dev, "co2", 1500.0);
  EXPECT_EQ(Take(), V{});  // temperature unknown
  Send(dev, "temperature", 25.0);
  EXPECT_EQ(Take(), V{"raise@0"});
  Send(dev, "humidity", 50.0);  // unrelated key
  EXPECT_EQ(Take(), V{});
  Send(dev, "temperature", 24.0);
  EXPECT_EQ(Take(), V{"clear@0"});
}

TEST_F(EngineTest, StringAndBoolConditions) {
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(1, "door == \"open\" and armed"), &events_).ok());
  auto dev = Dev(1);
  Reading rs[2] = {MakeReading(1, "door", std::string("open"), kStart),
                   MakeReading(1, "armed", true, kStart)};
  engine_.OnReadings(dev, rs, &events_);
  EXPECT_EQ(Take(), V{"raise@0"});  // one batch, one evaluation
  Send(dev, "door", std::string("closed"));
  EXPECT_EQ(Take(), V{"clear@0"});
}

TEST_F(EngineTest, ForDurationRaisesAfterFifteenMinutes) {
  Rule r = ExprRule(1, "co2 > 1000", "co2 < 900");
  r.for_ms = 15 * kMin;
  ASSERT_TRUE(engine_.UpsertRule(r, &events_).ok());
  auto dev = Dev(1);
  Send(dev, "co2", 1100.0);
  EXPECT_EQ(Take(), V{});
  Advance(10 * kMin);
  Send(dev, "co2", 1200.0);  // still true: the wait is not restarted
  Advance(4 * kMin);
  EXPECT_EQ(Take(), V{});
  EXPECT_EQ(engine_.NextDueMs(), kStart + 15 * kMin);
  Advance(kMin);
  EXPECT_EQ(Take(), V{"raise@900"});
  Advance(30 * kMin);
  EXPECT_EQ(Take(), V{});
}

TEST_F(EngineTest, ForDurationInterruptedResets) {
  Rule r = ExprRule(1, "co2 > 1000");
  r.for_ms = 15 * kMin;
  ASSERT_TRUE(engine_.UpsertRule(r, &events_).ok());
  auto dev = Dev(1);
  Send(dev, "co2", 1100.0);
  Advance(10 * kMin);
  Send(dev, "co2", 990.0);  // interrupted
  Advance(kMin);
  Send(dev, "co2", 1100.0);  // t = 11 min: the wait starts again
  Advance(10 * kMin);
  EXPECT_EQ(Take(), V{});  // 21 min: the first wait would have fired at 15
  Advance(5 * kMin);
  EXPECT_EQ(Take(), V{"raise@1560"});  // 11 + 15 = 26 min
}

TEST_F(EngineTest, SilenceAfterIntervalAndClearOnMessage) {
  ASSERT_TRUE(engine_.UpsertRule(SilenceRule(5, kHour), &events_).ok());
  auto dev = Dev(1);
  Send(dev, "co2", 400.0);
  Advance(59 * kMin);
  EXPECT_EQ(Take(), V{});
  Advance(kMin);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].message, "silent: no message for 3600 s");
  EXPECT_EQ(events_[0].values[0].first, "last_seen_ms");
  EXPECT_EQ(Take(), V{"raise@3600"});
  Advance(2 * kHour);
  EXPECT_EQ(Take(), V{});  // no duplicates
  Send(dev, "anything", 1.0);
  EXPECT_EQ(Take(), V{"clear@10800"});
  Advance(kHour);
  EXPECT_EQ(Take(), V{"raise@14400"});  // silent again
}

TEST_F(EngineTest, SilenceWatchesRegisteredDevicesAndMessagesPostponeIt) {
  ASSERT_TRUE(engine_.UpsertRule(SilenceRule(5, kHour), &events_).ok());
  engine_.UpsertDevice(Dev(1), kStart - 30 * kMin, &events_);  // seen half an hour ago
  DeviceInfo other = Dev(2);
  other.app_id = 11;  // out of scope
  engine_.UpsertDevice(other, kStart - 30 * kMin, &events_);
  Advance(20 * kMin);
  Send(Dev(1), "x", 1.0);  // t = 20 min
  Advance(59 * kMin);
  EXPECT_EQ(Take(), V{});
  Advance(kMin);
  EXPECT_EQ(Take(), V{"raise@4800"});
  EXPECT_FALSE(engine_.IsActive(5, 2));
}

TEST_F(EngineTest, SilenceUsesMultipleOfExpectedInterval) {
  ASSERT_TRUE(engine_.UpsertRule(SilenceRule(5, 0, 3), &events_).ok());
  DeviceInfo dev = Dev(1);
  dev.expected_interval_s = 600;  // 3 × 10 min = 30 min
  DeviceInfo unknown = Dev(2);    // no expected interval: not watched
  Send(dev, "x", 1.0);
  Send(unknown, "x", 1.0);
  Advance(29 * kMin);
  EXPECT_EQ(Take(), V{});
  Advance(kMin);
  EXPECT_EQ(Take(), V{"raise@1800"});
  Advance(10 * kHour);
  EXPECT_EQ(Take(), V{});
  EXPECT_FALSE(engine_.IsActive(5, 2));
}

TEST_F(EngineTest, SilenceNotWhileDeviceSilencedThenRaisesWhenSilenceEnds) {
  ASSERT_TRUE(engine_.UpsertRule(SilenceRule(5, kHour), &events_).ok());
  auto dev = Dev(1);
  Send(dev, "x", 1.0);
  engine_.SilenceDevice(7, 1, kStart + 3 * kHour);
  Advance(kHour);
  Advance(kHour);
  EXPECT_EQ(Take(), V{});
  EXPECT_FALSE(engine_.IsActive(5, 1));
  Advance(kHour);  // silence ends while the device is still silent
  EXPECT_EQ(Take(), V{"raise@10800"});
}

TEST_F(EngineTest, NothingRaisedIfConditionEndsDuringSilence) {
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(1, "co2 > 1000"), &events_).ok());
  auto dev = Dev(1);
  engine_.SilenceDevice(7, 1, kStart + kHour);
  Send(dev, "co2", 1500.0);
  Advance(30 * kMin);
  Send(dev, "co2", 500.0);
  Advance(2 * kHour);
  EXPECT_EQ(Take(), V{});
}

TEST_F(EngineTest, RuleSilenceAndLiftingItEarly) {
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(1, "co2 > 1000"), &events_).ok());
  ASSERT_TRUE(engine_.SilenceRule(7, 1, kStart + 10 * kHour).ok());
  EXPECT_EQ(engine_.SilenceRule(7, 99, kStart).code(), Code::kNotFound);
  Send(Dev(1), "co2", 1500.0);
  Advance(kHour);
  EXPECT_EQ(Take(), V{});
  ASSERT_TRUE(engine_.SilenceRule(7, 1, 0).ok());  // lift
  Tick();
  EXPECT_EQ(Take(), V{"raise@3600"});
}

TEST_F(EngineTest, MaintenanceSuppressesRaiseUntilItEnds) {
  ASSERT_TRUE(engine_.UpsertRule(SilenceRule(5, kHour), &events_).ok());
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(1, "battery < 20"), &events_).ok());
  DeviceInfo dev = Dev(1);
  dev.in_maintenance = true;
  Send(dev, "battery", 10.0);
  Advance(3 * kHour);
  EXPECT_EQ(Take(), V{});
  dev.in_maintenance = false;
  engine_.UpsertDevice(dev, std::nullopt, &events_);
  auto got = Take();
  EXPECT_EQ(got.size(), 2u);  // both held alarms are raised now
  EXPECT_TRUE(engine_.IsActive(5, 1));
  EXPECT_TRUE(engine_.IsActive(1, 1));
}

TEST_F(EngineTest, RaiseCarriesTheRulesAcknowledgementRequirement) {
  Rule warning = ExprRule(1, "co2 > 1000");
  warning.severity = Severity::kWarning;
  Rule asked = ExprRule(2, "co2 > 1000");
  asked.severity = Severity::kInfo;
  asked.require_acknowledge = true;
  ASSERT_TRUE(engine_.UpsertRule(warning, &events_).ok());
  ASSERT_TRUE(engine_.UpsertRule(asked, &events_).ok());
  Send(Dev(1), "co2", 1001.0);
  ASSERT_EQ(events_.size(), 2u);
  for (const AlarmEvent& e : events_) EXPECT_EQ(e.require_acknowledge, e.rule_id == 2);
}

TEST_F(EngineTest, ClearStillEmittedWhileSilenced) {
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(1, "co2 > 1000"), &events_).ok());
  Send(Dev(1), "co2", 1500.0);
  EXPECT_EQ(Take(), V{"raise@0"});
  engine_.SilenceDevice(7, 1, kStart + kHour);
  Send(Dev(1), "co2", 500.0);
  EXPECT_EQ(Take(), V{"clear@0"});
}

TEST_F(EngineTest, RemindersWhileActive) {
  Rule r = ExprRule(1, "co2 > 1000");
  r.remind_every_ms = 10 * kMin;
  ASSERT_TRUE(engine_.UpsertRule(r, &events_).ok());
  Send(Dev(1), "co2", 1500.0);
  Advance(9 * kMin);
  Advance(kMin);
  Advance(10 * kMin);
  ASSERT_EQ(events_.size(), 3u);
  EXPECT_EQ(events_[1].message, "rule1: still active: co2 > 1000");
  EXPECT_EQ(Take(), (V{"raise@0", "remind@600", "remind@1200"}));
  engine_.SilenceDevice(7, 1, kStart + 45 * kMin);
  Advance(10 * kMin);
  Advance(10 * kMin);
  EXPECT_EQ(Take(), V{});  // silenced
  Advance(10 * kMin);
  EXPECT_EQ(Take(), V{"remind@3000"});
  Send(Dev(1), "co2", 900.0);
  Advance(kHour);
  EXPECT_EQ(Take(), V{"clear@3000"});
}

TEST_F(EngineTest, RateOfChange) {
  Rule r;
  r.id = 3;
  r.org_id = 7;
  r.name = "filling fast";
  r.scope = {ScopeKind::kDevice, 1, "", ""};
  r.kind = ConditionKind::kRateOfChange;
  r.rate = {"level", 10 * kMin, 20, Direction::kRise};
  ASSERT_TRUE(engine_.UpsertRule(r, &events_).ok());
  auto dev = Dev(1);
  Send(dev, "level", 50.0);
  clock_.Advance(5 * kMin);
  Send(dev, "level", 60.0);
  clock_.Advance(3 * kMin);
  Send(dev, "level", 40.0);  // falling: not a rise
  EXPECT_EQ(Take(), V{});
  clock_.Advance(kMin);
  Send(dev, "level", 75.0);  // 75 - 50 = 25 within 9 min
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].message, "filling fast: level changed by 25 within 600 s");
  EXPECT_EQ(Take(), V{"raise@540"});
  clock_.Advance(20 * kMin);
  Send(dev, "level", 76.0);  // the window now holds one sample
  EXPECT_EQ(Take(), V{"clear@1740"});
  Send(Dev(2), "level", 0.0);  // another device is out of scope
  clock_.Advance(kMin);
  Send(Dev(2), "level", 100.0);
  EXPECT_EQ(Take(), V{});
}

TEST_F(EngineTest, RateOfChangeUsesReadingTimestampsInOneBatch) {
  Rule r;
  r.id = 3;
  r.org_id = 7;
  r.name = "drop";
  r.scope = {ScopeKind::kDevice, 1, "", ""};
  r.kind = ConditionKind::kRateOfChange;
  r.rate = {"t", kMin, 5, Direction::kFall};
  ASSERT_TRUE(engine_.UpsertRule(r, &events_).ok());
  std::vector<Reading> batch;
  double vals[] = {20, 18, 14};
  for (int i = 0; i < 3; ++i) batch.push_back(MakeReading(1, "t", vals[i], kStart + i * 20 * kSec));
  engine_.OnReadings(Dev(1), batch, &events_);
  EXPECT_EQ(Take(), V{"raise@0"});
}

TEST_F(EngineTest, BatteryThresholdByTag) {
  Rule r = ExprRule(4, "battery < 20");
  r.scope = {ScopeKind::kTag, 0, "classroom", ""};
  ASSERT_TRUE(engine_.UpsertRule(r, &events_).ok());
  DeviceInfo untagged = Dev(2);
  untagged.tags.clear();
  Send(untagged, "battery", 5.0);
  EXPECT_EQ(Take(), V{});
  Send(Dev(1), "battery", 19.5);
  EXPECT_EQ(Take(), V{"raise@0"});
  Send(Dev(1), "battery", 100.0);
  EXPECT_EQ(Take(), V{"clear@0"});
}

// Issue 14, finding 1: organisation B's rule on a tag (or naming A's application, model or
// device) never sees A's devices, however the scope is written; B's own device is seen.
TEST_F(EngineTest, ARuleSeesOnlyDevicesOfItsOrganisation) {
  const Id kOrgA = 7, kOrgB = 8;
  Rule tag = ExprRule(1, "co2 > 1000");
  tag.org_id = kOrgB;
  tag.scope = {ScopeKind::kTag, 0, "classroom", ""};
  ASSERT_TRUE(engine_.UpsertRule(tag, &events_).ok());
  ScopeKind kinds[] = {ScopeKind::kApplication, ScopeKind::kDeviceModel, ScopeKind::kDevice};
  Id ids[] = {10, 20, 1};  // A's application, model and device
  for (int i = 0; i < 3; ++i) {
    Rule r = ExprRule(2 + i, "co2 > 1000");
    r.org_id = kOrgB;
    r.scope = {kinds[i], ids[i], "", ""};
    ASSERT_TRUE(engine_.UpsertRule(r, &events_).ok());
  }
  DeviceInfo a = Dev(1);  // organisation A (7), tag "classroom", application 10, model 20
  ASSERT_EQ(a.org_id, kOrgA);
  DeviceInfo b = Dev(2);
  b.org_id = kOrgB;
  b.app_id = 30;
  b.model_id.reset();
  Send(a, "co2", 1500.0);
  EXPECT_EQ(Take(), V{});
  for (Id rule = 1; rule <= 4; ++rule) EXPECT_FALSE(engine_.IsActive(rule, 1)) << rule;
  Send(b, "co2", 1500.0);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].rule_id, 1);
  EXPECT_EQ(events_[0].device_id, 2);
  EXPECT_EQ(events_[0].org_id, kOrgB);
  Take();
  // An alarm restored from the store for A's device under B's rule is refused.
  EXPECT_EQ(engine_.RestoreActive(1, a, kStart).code(), Code::kNotFound);
  EXPECT_FALSE(engine_.IsActive(1, 1));
}

// Issue 14, finding 3: a silence keyed by another organisation than the rule's or the
// device's is ignored.
TEST_F(EngineTest, AnotherOrganisationCannotSilence) {
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(1, "co2 > 1000"), &events_).ok());  // organisation 7
  EXPECT_EQ(engine_.SilenceRule(8, 1, kStart + 100 * kHour).code(), Code::kNotFound);
  engine_.SilenceDevice(8, 1, kStart + 100 * kHour);
  engine_.SilenceDevice(8, 2, kStart + 100 * kHour);  // not seen yet
  Send(Dev(1), "co2", 1500.0);
  Send(Dev(2), "co2", 1500.0);
  EXPECT_EQ(Take(), (V{"raise@0", "raise@0"}));
  // Both organisations silence a device not seen yet: only its own organisation's counts.
  engine_.SilenceDevice(8, 3, kStart + 100 * kHour);
  engine_.SilenceDevice(7, 3, kStart + kHour);
  Send(Dev(3), "co2", 1500.0);
  EXPECT_EQ(Take(), V{});
  Advance(kHour);
  EXPECT_EQ(Take(), V{"raise@3600"});
}

TEST_F(EngineTest, ScopesByDeviceAndModel) {
  Rule by_dev = ExprRule(1, "rssi < -120");
  by_dev.scope = {ScopeKind::kDevice, 2, "", ""};
  Rule by_model = ExprRule(2, "decode_errors_in_row >= 3");
  by_model.scope = {ScopeKind::kDeviceModel, 20, "", ""};
  ASSERT_TRUE(engine_.UpsertRule(by_dev, &events_).ok());
  ASSERT_TRUE(engine_.UpsertRule(by_model, &events_).ok());
  Send(Dev(1), "rssi", -130.0);
  EXPECT_EQ(Take(), V{});
  Send(Dev(2), "rssi", -130.0);
  EXPECT_EQ(Take(), V{"raise@0"});
  DeviceInfo other_model = Dev(3);
  other_model.model_id = 21;
  Send(other_model, "decode_errors_in_row", 5.0);
  EXPECT_EQ(Take(), V{});
  Send(Dev(1), "decode_errors_in_row", 3.0);
  EXPECT_EQ(Take(), V{"raise@0"});
  EXPECT_TRUE(engine_.IsActive(2, 1));
}

TEST_F(EngineTest, QualityFlagCondition) {
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(1, "quality == \"stuck\""), &events_).ok());
  Send(Dev(1), "quality", std::string("ok"));
  Send(Dev(1), "quality", std::string("stuck"));
  EXPECT_EQ(Take(), V{"raise@0"});
}

TEST_F(EngineTest, UpdateAndRemoveRuleClearActiveAlarms) {
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(1, "co2 > 1000"), &events_).ok());
  Send(Dev(1), "co2", 1500.0);
  EXPECT_EQ(Take(), V{"raise@0"});
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(1, "co2 > 2000"), &events_).ok());
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].message, "rule1: cleared (rule changed)");
  Take();
  Send(Dev(1), "co2", 1500.0);
  EXPECT_EQ(Take(), V{});  // the new condition is not met
  Send(Dev(1), "co2", 2500.0);
  EXPECT_EQ(Take(), V{"raise@0"});
  ASSERT_TRUE(engine_.RemoveRule(1, &events_).ok());
  EXPECT_EQ(Take(), V{"clear@0"});
  EXPECT_EQ(engine_.RemoveRule(1, &events_).code(), Code::kNotFound);
  Send(Dev(1), "co2", 3000.0);
  EXPECT_EQ(Take(), V{});
  EXPECT_EQ(engine_.rule_count(), 0u);
}

TEST_F(EngineTest, DisabledRuleNeverFires) {
  Rule r = ExprRule(1, "co2 > 1000");
  r.enabled = false;
  ASSERT_TRUE(engine_.UpsertRule(r, &events_).ok());
  Send(Dev(1), "co2", 1500.0);
  EXPECT_EQ(Take(), V{});
  r.enabled = true;
  ASSERT_TRUE(engine_.UpsertRule(r, &events_).ok());
  Send(Dev(1), "co2", 1500.0);
  EXPECT_EQ(Take(), V{"raise@0"});
}

TEST_F(EngineTest, InvalidRuleIsRejectedWithPosition) {
  Status s = engine_.UpsertRule(ExprRule(1, "co2 >"), &events_);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "expression: at 6: expected a number after '>', got end of input");
  RuleError err;
  EXPECT_FALSE(ValidateRule(ExprRule(1, "a > 1", "b >"), &err).ok());
  EXPECT_EQ(err.field, "clear_expression");
  ASSERT_TRUE(err.parse.has_value());
  EXPECT_EQ(err.parse->offset, 3u);
  Rule bad = SilenceRule(2, 0, 0);
  EXPECT_EQ(ValidateRule(bad).message(), "silence: set fixed_ms or interval_multiple");
  EXPECT_EQ(engine_.rule_count(), 0u);
}

TEST_F(EngineTest, RestoreActivePreventsDuplicateRaise) {
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(1, "co2 > 1000"), &events_).ok());
  ASSERT_TRUE(engine_.RestoreActive(1, Dev(1), kStart - kHour).ok());
  Send(Dev(1), "co2", 1500.0);
  EXPECT_EQ(Take(), V{});
  Send(Dev(1), "co2", 500.0);
  EXPECT_EQ(Take(), V{"clear@0"});
}

TEST_F(EngineTest, OlderReadingDoesNotReplaceLatest) {
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(1, "co2 > 1000"), &events_).ok());
  Send(Dev(1), "co2", 1500.0);
  Reading old = MakeReading(1, "co2", 400.0, kStart - kHour);
  engine_.OnReadings(Dev(1), std::span<const Reading>(&old, 1), &events_);
  EXPECT_EQ(Take(), V{"raise@0"});
}

// After a takeover or a restart the runtime puts the stored latest values back: a rule naming
// two keys evaluates the next reading of one with the other's stored value.
TEST_F(EngineTest, RestoredLatestValuesCountForTheNextReading) {
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(1, "co2 > 1000 and temperature > 25"), &events_).ok());
  engine_.UpsertDevice(Dev(1), std::nullopt, &events_);
  const std::vector<Reading> stored = {MakeReading(1, "temperature", 28.0, kStart - kHour),
                                       MakeReading(2, "temperature", 10.0, kStart),  // not dev 1
                                       MakeReading(1, "unnamed", 1.0, kStart)};
  engine_.RestoreLatest(Dev(1), stored);
  EXPECT_EQ(Take(), V{}) << "restoring evaluates nothing";
  Send(Dev(1), "co2", 1500.0);
  EXPECT_EQ(Take(), V{"raise@0"});
  // Without the restore the same reading raises nothing (temperature unknown).
  RuleEngine fresh(clock_);
  ASSERT_TRUE(fresh.UpsertRule(ExprRule(1, "co2 > 1000 and temperature > 25"), &events_).ok());
  Reading co2 = MakeReading(1, "co2", 1500.0, clock_.NowMs());
  fresh.OnReadings(Dev(1), std::span<const Reading>(&co2, 1), &events_);
  EXPECT_EQ(Take(), V{});
}

TEST_F(EngineTest, ARestoredValueNeverReplacesOneAsNewOrNewer) {
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(1, "co2 > 1000 and temperature > 25"), &events_).ok());
  Send(Dev(1), "temperature", 20.0);  // at kStart
  const std::vector<Reading> stored = {MakeReading(1, "temperature", 28.0, kStart - kHour),
                                       MakeReading(1, "temperature", 29.0, kStart)};
  engine_.RestoreLatest(Dev(1), stored);
  Send(Dev(1), "co2", 1500.0);
  EXPECT_EQ(Take(), V{}) << "the value the engine had (20) still counts";
}

TEST_F(EngineTest, RulesAddedAfterDevicesAreSeenApply) {
  Send(Dev(1), "co2", 1500.0);  // known device, no rules yet
  Rule by_tag = ExprRule(2, "co2 > 1000");
  by_tag.scope = {ScopeKind::kTag, 0, "classroom", ""};  // a tag no rule used before
  ASSERT_TRUE(engine_.UpsertRule(by_tag, &events_).ok());
  ASSERT_TRUE(engine_.UpsertRule(SilenceRule(5, kHour), &events_).ok());
  EXPECT_EQ(Take(), V{});  // expression rules wait for the next reading
  Send(Dev(1), "co2", 1500.0);
  EXPECT_EQ(Take(), V{"raise@0"});
  Advance(kHour);
  EXPECT_EQ(Take(), V{"raise@3600"});  // the silence rule watched the known device
  // Moving the device out of the tag: the rule no longer touches it.
  DeviceInfo moved = Dev(1);
  moved.tags = {"office"};
  Send(moved, "co2", 1500.0);
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(events_[0].rule_id, 2);
  EXPECT_EQ(events_[0].message, "rule2: cleared (device left the rule's scope)");
  EXPECT_EQ(events_[1].rule_id, 5);  // the silence alarm clears on the message
  EXPECT_EQ(Take(), (V{"clear@3600", "clear@3600"}));
  EXPECT_FALSE(engine_.IsActive(2, 1));
  Send(moved, "co2", 1600.0);
  EXPECT_EQ(Take(), V{});
}

TEST_F(EngineTest, RemoveDeviceForgetsState) {
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(1, "co2 > 1000"), &events_).ok());
  Send(Dev(1), "co2", 1500.0);
  EXPECT_EQ(Take(), V{"raise@0"});
  engine_.RemoveDevice(1);
  EXPECT_EQ(engine_.device_count(), 0u);
  EXPECT_FALSE(engine_.IsActive(1, 1));
  Send(Dev(1), "co2", 1500.0);
  EXPECT_EQ(Take(), V{"raise@0"});
}

TEST_F(EngineTest, ManyRulesOnOneKeyEachFireOnce) {
  for (int i = 1; i <= 50; ++i) {
    std::string expr = "co2 > ";
    expr += std::to_string(i * 10);
    Rule r = ExprRule(i, expr);
    r.scope =
        i % 2 ? Scope{ScopeKind::kDevice, 1, "", ""} : Scope{ScopeKind::kDeviceModel, 20, "", ""};
    ASSERT_TRUE(engine_.UpsertRule(r, &events_).ok());
  }
  Send(Dev(1), "co2", 255.0);
  EXPECT_EQ(events_.size(), 25u);  // rules 1..25
  Take();
  Send(Dev(1), "co2", 256.0);
  EXPECT_EQ(Take(), V{});
}

// Issue 19: the for-duration waits are reported to the caller (TakeWaitChanges) so that the next
// evaluator of a device goes on waiting (RestorePending): a start, and an end when the condition
// stops holding, the alarm is raised, the rule changes or the device leaves the rule's scope.
// Nothing for rules without for_ms, for silence rules, or for RemoveDevice.
TEST_F(EngineTest, ForDurationWaitChangesAreReported) {
  using W = std::vector<WaitChange>;
  Rule r = ExprRule(1, "co2 > 1000");
  r.for_ms = 15 * kMin;
  ASSERT_TRUE(engine_.UpsertRule(r, &events_).ok());
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(2, "co2 > 1000"), &events_).ok());  // no for_ms
  Rule silent = SilenceRule(3, 30 * kMin);
  silent.for_ms = kMin;
  ASSERT_TRUE(engine_.UpsertRule(silent, &events_).ok());
  auto dev = Dev(1);
  Send(dev, "co2", 1100.0);
  EXPECT_EQ(Take(), V{"raise@0"});  // rule 2
  EXPECT_EQ(engine_.TakeWaitChanges(), (W{{1, 1, kStart}}));
  EXPECT_EQ(engine_.TakeWaitChanges(), W{});  // taken
  Advance(5 * kMin);
  Send(dev, "co2", 1200.0);  // still holding: no change
  EXPECT_EQ(engine_.TakeWaitChanges(), W{});
  Send(dev, "co2", 990.0);  // stopped holding
  EXPECT_EQ(Take(), V{"clear@300"});
  EXPECT_EQ(engine_.TakeWaitChanges(), (W{{1, 1, std::nullopt}}));
  Advance(kMin);
  Send(dev, "co2", 1100.0);
  Send(dev, "co2", 900.0);
  Send(dev, "co2", 1100.0);  // several changes between two takes: the latest counts
  EXPECT_EQ(engine_.TakeWaitChanges(), (W{{1, 1, kStart + 6 * kMin}}));
  Take();
  Advance(15 * kMin);  // the alarm raised: the wait is over
  EXPECT_EQ(Take(), V{"raise@1260"});
  EXPECT_EQ(engine_.TakeWaitChanges(), (W{{1, 1, std::nullopt}}));
  Advance(20 * kMin);  // the silence rule raised (a minute after its 30 min): no wait reported
  EXPECT_EQ(Take(), V{"raise@2460"});
  EXPECT_EQ(engine_.TakeWaitChanges(), W{});
  Send(dev, "co2", 500.0);  // clears
  Take();
  EXPECT_EQ(engine_.TakeWaitChanges(), W{});

  Send(dev, "co2", 1100.0);
  Send(Dev(2), "co2", 1100.0);
  Take();
  EXPECT_EQ(engine_.TakeWaitChanges(), (W{{1, 1, clock_.NowMs()}, {1, 2, clock_.NowMs()}}));
  engine_.RemoveDevice(2);  // forgotten here (another node goes on): no end
  EXPECT_EQ(engine_.TakeWaitChanges(), W{});
  DeviceInfo moved = dev;
  moved.app_id = 11;
  moved.model_id.reset();
  moved.tags.clear();
  Send(moved, "co2", 1100.0);  // left the rule's scope
  EXPECT_EQ(engine_.TakeWaitChanges(), (W{{1, 1, std::nullopt}}));
  Send(dev, "co2", 1100.0);
  Take();
  EXPECT_EQ(engine_.TakeWaitChanges(), (W{{1, 1, clock_.NowMs()}}));
  r.expression = "co2 > 1050";
  ASSERT_TRUE(engine_.UpsertRule(r, &events_).ok());  // the rule changed: its waits are over
  EXPECT_EQ(engine_.TakeWaitChanges(), (W{{1, 1, std::nullopt}}));
  Send(dev, "co2", 1100.0);
  Take();
  EXPECT_EQ(engine_.TakeWaitChanges(), (W{{1, 1, clock_.NowMs()}}));
  ASSERT_TRUE(engine_.RemoveRule(1, &events_).ok());
  EXPECT_EQ(engine_.TakeWaitChanges(), (W{{1, 1, std::nullopt}}));
}

// A wait restored on a fresh engine (the next holder of the device, or a restart) raises at the
// ORIGINAL start + for_ms, also while readings keep the condition true, and only once.
TEST_F(EngineTest, RestoredWaitRaisesAtTheOriginalDeadline) {
  Rule r = ExprRule(1, "co2 > 1000");
  r.for_ms = 15 * kMin;
  ASSERT_TRUE(engine_.UpsertRule(r, &events_).ok());
  clock_.Advance(9 * kMin);  // the previous evaluator saw the condition start at kStart
  ASSERT_TRUE(engine_.RestorePending(1, Dev(1), kStart).ok());
  EXPECT_EQ(engine_.TakeWaitChanges(), std::vector<WaitChange>{});  // stored already
  EXPECT_EQ(engine_.NextDueMs(), kStart + 15 * kMin);
  Advance(kMin);
  Send(Dev(1), "co2", 1200.0);  // still holding: the wait goes on
  Advance(5 * kMin - kSec);
  EXPECT_EQ(Take(), V{});
  Advance(kSec);
  EXPECT_EQ(Take(), V{"raise@900"});
  EXPECT_EQ(engine_.TakeWaitChanges(), (std::vector<WaitChange>{{1, 1, std::nullopt}}));
  Advance(30 * kMin);
  Send(Dev(1), "co2", 1300.0);
  EXPECT_EQ(Take(), V{});
}

TEST_F(EngineTest, RestoredWaitEndsWhenAReadingMakesTheConditionFalse) {
  Rule r = ExprRule(1, "co2 > 1000");
  r.for_ms = 15 * kMin;
  ASSERT_TRUE(engine_.UpsertRule(r, &events_).ok());
  clock_.Advance(9 * kMin);
  ASSERT_TRUE(engine_.RestorePending(1, Dev(1), kStart).ok());
  Advance(kMin);
  Send(Dev(1), "co2", 900.0);
  EXPECT_EQ(engine_.TakeWaitChanges(), (std::vector<WaitChange>{{1, 1, std::nullopt}}));
  Advance(10 * kMin);  // past the restored deadline
  EXPECT_EQ(Take(), V{});
  Send(Dev(1), "co2", 1100.0);  // a new wait from now (20 min)
  Advance(15 * kMin - kSec);
  EXPECT_EQ(Take(), V{});
  Advance(kSec);
  EXPECT_EQ(Take(), V{"raise@2100"});
}

TEST_F(EngineTest, RestorePendingIsRefusedOutsideTheRulesOrganisationAndScope) {
  Rule r = ExprRule(1, "co2 > 1000");
  r.for_ms = 15 * kMin;
  ASSERT_TRUE(engine_.UpsertRule(r, &events_).ok());
  ASSERT_TRUE(engine_.UpsertRule(ExprRule(2, "co2 > 1000"), &events_).ok());
  Rule silent = SilenceRule(3, 10 * kMin);
  silent.for_ms = kMin;
  ASSERT_TRUE(engine_.UpsertRule(silent, &events_).ok());
  Rule off = r;
  off.id = 4;
  off.enabled = false;
  ASSERT_TRUE(engine_.UpsertRule(off, &events_).ok());
  DeviceInfo other_org = Dev(1);
  other_org.org_id = 8;
  EXPECT_EQ(engine_.RestorePending(1, other_org, kStart).code(), Code::kNotFound);
  DeviceInfo out_of_scope = Dev(2);
  out_of_scope.app_id = 11;
  out_of_scope.model_id.reset();
  out_of_scope.tags.clear();
  EXPECT_EQ(engine_.RestorePending(1, out_of_scope, kStart).code(), Code::kNotFound);
  EXPECT_EQ(engine_.RestorePending(9, Dev(1), kStart).code(), Code::kNotFound);
  EXPECT_EQ(engine_.RestorePending(4, Dev(1), kStart).code(), Code::kNotFound);
  EXPECT_EQ(engine_.RestorePending(2, Dev(1), kStart).code(), Code::kInvalidArgument);
  EXPECT_EQ(engine_.RestorePending(3, Dev(1), kStart).code(), Code::kInvalidArgument);
  Advance(kHour);
  EXPECT_EQ(Take(), V{});
  EXPECT_FALSE(engine_.IsActive(1, 1));
  EXPECT_FALSE(engine_.IsActive(1, 2));
  // An alarm already active (restored first) is not raised again by a restored wait.
  ASSERT_TRUE(engine_.RestoreActive(1, Dev(3), kStart).ok());
  ASSERT_TRUE(engine_.RestorePending(1, Dev(3), kStart).ok());
  Advance(kHour);
  for (const AlarmEvent& e : events_) EXPECT_NE(e.rule_id, 1) << AlarmEventKindName(e.kind);
  EXPECT_TRUE(engine_.IsActive(1, 3));
}

}  // namespace
}  // namespace bysans::rules
