#include "rules/gateway_engine.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rules/json.h"

namespace bysans::rules {
namespace {

constexpr TimeMs kHour = 3'600'000;
constexpr TimeMs kStart = 1'700'000'000'000 / kHour * kHour;  // a UTC hour boundary
constexpr TimeMs kSec = 1000;
constexpr Id kOrg = 7;
constexpr const char* kGw = "0016c001f0001234";

Rule OfflineRule(Id id, TimeMs offline_ms, std::string gateway = kGw) {
  Rule r;
  r.id = id;
  r.org_id = kOrg;
  r.name = "gw offline";
  r.scope.kind = ScopeKind::kGateway;
  r.scope.gateway_id = std::move(gateway);
  r.kind = ConditionKind::kGatewayOffline;
  r.gateway.offline_ms = offline_ms;
  return r;
}

Rule PacketsRule(Id id, std::optional<double> min, std::optional<double> max) {
  Rule r;
  r.id = id;
  r.org_id = kOrg;
  r.name = "gw packets";
  r.scope.kind = ScopeKind::kGateway;
  r.kind = ConditionKind::kGatewayPackets;
  r.gateway.min = min;
  r.gateway.max = max;
  return r;
}

GatewaySnapshot Gw(std::optional<bool> online, TimeMs state_ms, TimeMs last_seen_ms,
                   std::string id = kGw) {
  GatewaySnapshot g;
  g.gateway_id = std::move(id);
  g.online = online;
  g.state_ms = state_ms;
  g.last_seen_ms = last_seen_ms;
  return g;
}

std::vector<AlarmEvent> Eval(GatewayRuleEngine& e, const std::vector<GatewaySnapshot>& gws,
                             Id org = kOrg) {
  std::vector<AlarmEvent> ev;
  e.Evaluate(org, gws, &ev);
  return ev;
}

TEST(GatewayEngine, OfflineLongerThanTheDurationRaisesOnceAndOnlineClears) {
  ManualClock clock(kStart);
  GatewayRuleEngine e(clock);
  ASSERT_TRUE(e.UpsertRule(OfflineRule(1, 120 * kSec), nullptr).ok());
  // OFFLINE at kStart: not yet for 2 minutes.
  EXPECT_TRUE(Eval(e, {Gw(false, kStart, kStart)}).empty());
  clock.Advance(119 * kSec);
  EXPECT_TRUE(Eval(e, {Gw(false, kStart, kStart)}).empty());
  clock.Advance(1 * kSec);
  auto ev = Eval(e, {Gw(false, kStart, kStart)});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlarmEventKind::kRaise);
  EXPECT_EQ(ev[0].rule_id, 1);
  EXPECT_EQ(ev[0].org_id, kOrg);
  EXPECT_EQ(ev[0].device_id, 0);
  EXPECT_EQ(ev[0].gateway_id, kGw);
  EXPECT_EQ(ev[0].ts, kStart + 120 * kSec);
  EXPECT_NE(ev[0].message.find("gw offline: gateway 0016c001f0001234 offline since"),
            std::string::npos)
      << ev[0].message;
  EXPECT_TRUE(e.IsActive(1, kGw));
  // Still offline: no duplicate.
  for (int i = 0; i < 5; ++i) {
    clock.Advance(10 * kSec);
    EXPECT_TRUE(Eval(e, {Gw(false, kStart, kStart)}).empty());
  }
  // ONLINE again: cleared once.
  const TimeMs back = clock.NowMs();
  ev = Eval(e, {Gw(true, back, back)});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlarmEventKind::kClear);
  EXPECT_EQ(ev[0].gateway_id, kGw);
  EXPECT_FALSE(e.IsActive(1, kGw));
  EXPECT_TRUE(Eval(e, {Gw(true, back, back)}).empty());
}

TEST(GatewayEngine, NothingSeenForTheDurationRaisesAndASeenMessageClears) {
  ManualClock clock(kStart);
  GatewayRuleEngine e(clock);
  ASSERT_TRUE(e.UpsertRule(OfflineRule(1, 60 * kSec), nullptr).ok());
  // Its state says ONLINE, but neither uplinks nor events for a minute: gone.
  clock.Advance(59 * kSec);
  EXPECT_TRUE(Eval(e, {Gw(true, kStart, kStart)}).empty());
  clock.Advance(kSec);
  auto ev = Eval(e, {Gw(true, kStart, kStart)});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlarmEventKind::kRaise);
  EXPECT_NE(ev[0].message.find("nothing from gateway"), std::string::npos) << ev[0].message;
  // A stats message (seen now): cleared.
  ev = Eval(e, {Gw(true, kStart, clock.NowMs())});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlarmEventKind::kClear);
  // A gateway never seen is not judged.
  clock.Advance(kHour);
  EXPECT_TRUE(Eval(e, {Gw(std::nullopt, 0, 0)}).empty());
}

TEST(GatewayEngine, ScopeOneGatewayOrAllAndOnlyTheRulesOrganisation) {
  ManualClock clock(kStart);
  GatewayRuleEngine e(clock);
  ASSERT_TRUE(e.UpsertRule(OfflineRule(1, 10 * kSec), nullptr).ok());
  ASSERT_TRUE(e.UpsertRule(OfflineRule(2, 10 * kSec, ""), nullptr).ok());  // all gateways
  clock.Advance(20 * kSec);
  std::vector<GatewaySnapshot> gws = {Gw(false, kStart, kStart),
                                      Gw(false, kStart, kStart, "00000000000000bb")};
  // Another organisation's evaluation (the same gateway ids there are other gateways).
  EXPECT_TRUE(Eval(e, gws, kOrg + 1).empty());
  auto ev = Eval(e, gws);
  ASSERT_EQ(ev.size(), 3u);  // rule 1 on kGw; rule 2 on both
  EXPECT_TRUE(e.IsActive(1, kGw));
  EXPECT_FALSE(e.IsActive(1, "00000000000000bb"));
  EXPECT_TRUE(e.IsActive(2, kGw));
  EXPECT_TRUE(e.IsActive(2, "00000000000000bb"));
  EXPECT_EQ(e.Organizations(), std::vector<Id>{kOrg});
  EXPECT_FALSE(e.NeedsStats(kOrg));
}

TEST(GatewayEngine, PacketsBandOnTheLastCompleteHour) {
  ManualClock clock(kStart + kHour + 2 * 60 * kSec);  // judges [kStart, kStart + 1 h)
  EXPECT_EQ(GatewayRuleEngine::PacketsHourStart(clock.NowMs()), kStart);
  // Within the first minute of an hour the hour before last is still judged (late stats).
  EXPECT_EQ(GatewayRuleEngine::PacketsHourStart(kStart + kHour + 30 * kSec), kStart - kHour);
  GatewayRuleEngine e(clock);
  ASSERT_TRUE(e.UpsertRule(PacketsRule(1, 10, 100), nullptr).ok());
  EXPECT_TRUE(e.NeedsStats(kOrg));
  GatewaySnapshot g = Gw(true, kStart - kHour, clock.NowMs());
  g.last_hour = GatewayHourCounters{50, 40, 0, 0};
  EXPECT_TRUE(Eval(e, {g}).empty());  // 40 received ok: inside
  g.last_hour->rx_received_ok = 5;
  auto ev = Eval(e, {g});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlarmEventKind::kRaise);
  EXPECT_NE(ev[0].message.find("rx_received_ok 5"), std::string::npos) << ev[0].message;
  bool has_count = false;
  for (const auto& [k, v] : ev[0].values) {
    if (k == "rx_received_ok") has_count = std::get<double>(v) == 5;
  }
  EXPECT_TRUE(has_count);
  EXPECT_TRUE(Eval(e, {g}).empty());  // no duplicate
  g.last_hour->rx_received_ok = 100;  // the bound is inside
  ev = Eval(e, {g});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlarmEventKind::kClear);
  g.last_hour->rx_received_ok = 101;
  ev = Eval(e, {g});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlarmEventKind::kRaise);
}

TEST(GatewayEngine, AnHourWithoutStatsCountsAsZeroOnlyWhenOnlineTheWholeHour) {
  ManualClock clock(kStart + kHour + 2 * 60 * kSec);
  GatewayRuleEngine e(clock);
  ASSERT_TRUE(e.UpsertRule(PacketsRule(1, 1, std::nullopt), nullptr).ok());
  // OFFLINE: the gap is unknown, nothing raised.
  EXPECT_TRUE(Eval(e, {Gw(false, kStart - kHour, kStart - kHour)}).empty());
  // ONLINE only since the middle of the hour: unknown too.
  EXPECT_TRUE(Eval(e, {Gw(true, kStart + kHour / 2, clock.NowMs())}).empty());
  // No state at all (seen in uplinks only): unknown.
  EXPECT_TRUE(Eval(e, {Gw(std::nullopt, 0, clock.NowMs())}).empty());
  // ONLINE since before the hour and no stats: 0 received, below 1.
  auto ev = Eval(e, {Gw(true, kStart - 1, clock.NowMs())});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlarmEventKind::kRaise);
  // Going OFFLINE makes the hour unknown: the alarm keeps its state (no clear).
  EXPECT_TRUE(Eval(e, {Gw(false, clock.NowMs(), clock.NowMs())}).empty());
  EXPECT_TRUE(e.IsActive(1, kGw));
  // The next hour has stats inside the band: cleared.
  clock.Advance(kHour);
  GatewaySnapshot g = Gw(true, clock.NowMs(), clock.NowMs());
  g.last_hour = GatewayHourCounters{3, 3, 0, 0};
  ev = Eval(e, {g});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlarmEventKind::kClear);
}

TEST(GatewayEngine, SilencedRuleRaisesNothingUntilTheSilenceEnds) {
  ManualClock clock(kStart);
  GatewayRuleEngine e(clock);
  ASSERT_TRUE(e.UpsertRule(OfflineRule(1, 10 * kSec), nullptr).ok());
  EXPECT_EQ(e.SilenceRule(kOrg + 1, 1, kStart + kHour).code(), Code::kNotFound);  // not theirs
  ASSERT_TRUE(e.SilenceRule(kOrg, 1, kStart + 60 * kSec).ok());
  clock.Advance(30 * kSec);
  EXPECT_TRUE(Eval(e, {Gw(false, kStart, kStart)}).empty());
  EXPECT_FALSE(e.IsActive(1, kGw));
  clock.Advance(30 * kSec);  // the silence ends; still offline
  auto ev = Eval(e, {Gw(false, kStart, kStart)});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlarmEventKind::kRaise);
  // Silenced while active: no reminder, but the clear still comes.
  ASSERT_TRUE(e.SilenceRule(kOrg, 1, clock.NowMs() + kHour).ok());
  ev = Eval(e, {Gw(true, clock.NowMs(), clock.NowMs())});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlarmEventKind::kClear);
}

TEST(GatewayEngine, RemindersWhileActive) {
  ManualClock clock(kStart);
  GatewayRuleEngine e(clock);
  Rule r = OfflineRule(1, 10 * kSec);
  r.remind_every_ms = 60 * kSec;
  ASSERT_TRUE(e.UpsertRule(r, nullptr).ok());
  clock.Advance(10 * kSec);
  ASSERT_EQ(Eval(e, {Gw(false, kStart, kStart)}).size(), 1u);
  clock.Advance(59 * kSec);
  EXPECT_TRUE(Eval(e, {Gw(false, kStart, kStart)}).empty());
  clock.Advance(kSec);
  auto ev = Eval(e, {Gw(false, kStart, kStart)});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlarmEventKind::kRemind);
  EXPECT_EQ(ev[0].gateway_id, kGw);
}

TEST(GatewayEngine, RestoredAlarmIsNotRaisedAgainAndClearsLater) {
  ManualClock clock(kStart + kHour);
  GatewayRuleEngine e(clock);  // a restart: rules and open alarms loaded from the store
  ASSERT_TRUE(e.UpsertRule(OfflineRule(1, 10 * kSec), nullptr).ok());
  EXPECT_EQ(e.RestoreActive(1, kOrg + 1, kGw, kStart).code(), Code::kNotFound);
  EXPECT_EQ(e.RestoreActive(9, kOrg, kGw, kStart).code(), Code::kNotFound);
  ASSERT_TRUE(e.RestoreActive(1, kOrg, kGw, kStart).ok());
  EXPECT_TRUE(Eval(e, {Gw(false, kStart, kStart)}).empty());
  auto ev = Eval(e, {Gw(true, clock.NowMs(), clock.NowMs())});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlarmEventKind::kClear);
}

TEST(GatewayEngine, ChangedOrRemovedRuleClearsItsAlarms) {
  ManualClock clock(kStart);
  GatewayRuleEngine e(clock);
  ASSERT_TRUE(e.UpsertRule(OfflineRule(1, 10 * kSec), nullptr).ok());
  clock.Advance(10 * kSec);
  ASSERT_EQ(Eval(e, {Gw(false, kStart, kStart)}).size(), 1u);
  std::vector<AlarmEvent> ev;
  Rule disabled = OfflineRule(1, 10 * kSec);
  disabled.enabled = false;
  ASSERT_TRUE(e.UpsertRule(disabled, &ev).ok());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlarmEventKind::kClear);
  EXPECT_TRUE(Eval(e, {Gw(false, kStart, kStart)}).empty());  // disabled: not judged
  EXPECT_TRUE(e.Organizations().empty());
  ASSERT_TRUE(e.UpsertRule(OfflineRule(1, 10 * kSec), nullptr).ok());
  ASSERT_EQ(Eval(e, {Gw(false, kStart, kStart)}).size(), 1u);
  ev.clear();
  ASSERT_TRUE(e.RemoveRule(1, &ev).ok());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlarmEventKind::kClear);
  EXPECT_EQ(e.RemoveRule(1, &ev).code(), Code::kNotFound);
  // Device rules are not the gateway engine's.
  Rule device;
  device.id = 2;
  device.org_id = kOrg;
  device.name = "d";
  device.scope.kind = ScopeKind::kDevice;
  device.scope.id = 1;
  device.expression = "t > 1";
  EXPECT_EQ(e.UpsertRule(device, nullptr).code(), Code::kInvalidArgument);
}

TEST(GatewayRuleValidation, KindsGoWithTheGatewayScopeOnly) {
  RuleError err;
  Rule r = OfflineRule(1, 60 * kSec);
  EXPECT_TRUE(ValidateRule(r, &err).ok());
  r.scope.gateway_id = "";  // all gateways
  EXPECT_TRUE(ValidateRule(r).ok());
  r.scope.gateway_id = "not-hex";
  EXPECT_FALSE(ValidateRule(r, &err).ok());
  EXPECT_EQ(err.field, "scope.gatewayId");
  r = OfflineRule(1, 500);
  EXPECT_FALSE(ValidateRule(r, &err).ok());
  EXPECT_EQ(err.field, "gateway.offline_ms");
  r = OfflineRule(1, 60 * kSec);
  r.kind = ConditionKind::kExpression;
  r.expression = "t > 1";
  EXPECT_FALSE(ValidateRule(r, &err).ok());
  EXPECT_EQ(err.field, "kind");
  r = OfflineRule(1, 60 * kSec);
  r.scope = Scope{ScopeKind::kDevice, 3, "", ""};
  EXPECT_FALSE(ValidateRule(r, &err).ok());
  EXPECT_EQ(err.field, "kind");
  r = OfflineRule(1, 60 * kSec);
  r.for_ms = 1000;
  EXPECT_FALSE(ValidateRule(r, &err).ok());
  EXPECT_EQ(err.field, "for_ms");
  Rule p = PacketsRule(1, std::nullopt, std::nullopt);
  EXPECT_FALSE(ValidateRule(p, &err).ok());
  EXPECT_EQ(err.field, "gateway");
  p = PacketsRule(1, 10, 5);
  EXPECT_FALSE(ValidateRule(p, &err).ok());
  EXPECT_EQ(err.field, "gateway.max");
  EXPECT_TRUE(ValidateRule(PacketsRule(1, std::nullopt, 5)).ok());
}

TEST(GatewayRuleJson, RoundTripAndActionsAGatewayCannotHave) {
  Rule r;
  json actions;
  json body = {{"name", "gw"},
               {"scope", {{"kind", "gateway"}, {"gatewayId", "0016C001F0001234"}}},
               {"kind", "gateway_packets"},
               {"gateway", {{"counter", "rx_received"}, {"min", 5}, {"max", nullptr}}},
               {"actions", json::array({{{"type", "webhook"}, {"url", "http://x.example/h"}}})}};
  ASSERT_TRUE(RuleFromJson(body, &r, &actions).ok());
  EXPECT_EQ(r.scope.kind, ScopeKind::kGateway);
  EXPECT_EQ(r.scope.gateway_id, "0016c001f0001234");  // as ingest stores gateway ids
  EXPECT_EQ(r.kind, ConditionKind::kGatewayPackets);
  EXPECT_EQ(r.gateway.counter, GatewayCounter::kRxReceived);
  EXPECT_EQ(r.gateway.min, 5.0);
  EXPECT_FALSE(r.gateway.max);
  EXPECT_TRUE(CheckActionsForRule(r, actions).ok());
  json out = RuleToJson(r, actions);
  EXPECT_EQ(out["scope"], json({{"kind", "gateway"}, {"gatewayId", "0016c001f0001234"}}));
  EXPECT_EQ(out["gateway"]["counter"], "rx_received");
  Rule back;
  json back_actions;
  ASSERT_TRUE(RuleFromJson(out, &back, &back_actions).ok());
  EXPECT_EQ(back.scope.gateway_id, r.scope.gateway_id);
  EXPECT_EQ(back.gateway.min, 5.0);

  // "*" = all gateways; gatewayId on another scope is refused.
  ASSERT_TRUE(
      RuleFromJson({{"scope", {{"kind", "gateway"}, {"gatewayId", "*"}}}}, &r, &actions).ok());
  EXPECT_TRUE(r.scope.gateway_id.empty());
  EXPECT_FALSE(
      RuleFromJson({{"scope", {{"kind", "device"}, {"id", 1}, {"gatewayId", "aa"}}}}, &r, &actions)
          .ok());

  Rule g = OfflineRule(1, 60 * kSec);
  Status s = CheckActionsForRule(
      g, json::array({{{"type", "webhook"}}, {{"type", "downlink"}, {"fPort", 1}, {"hex", "01"}}}));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("actions[1].type"), std::string::npos) << s.message();
  s = CheckActionsForRule(g, json::array({{{"type", "notify_contacts"}, {"via", "sms"}}}));
  EXPECT_NE(s.message().find("actions[0].type"), std::string::npos) << s.message();
  Rule device = g;
  device.scope = Scope{ScopeKind::kDevice, 1, "", ""};
  EXPECT_TRUE(CheckActionsForRule(device, json::array({{{"type", "downlink"}}})).ok());
}

TEST(GatewayAlarm, RaiseCarriesTheGatewayThroughTheDocument) {
  AlarmEvent raise;
  raise.kind = AlarmEventKind::kRaise;
  raise.rule_id = 4;
  raise.org_id = kOrg;
  raise.gateway_id = kGw;
  raise.ts = kStart;
  raise.message = "gw offline";
  auto a = AlarmFromRaise(raise);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->gateway_id, kGw);
  auto back = AlarmFromDoc(AlarmToDoc(*a).dump());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->gateway_id, kGw);
  EXPECT_EQ(back->device_id, 0);
  AlarmEvent clear = raise;
  clear.kind = AlarmEventKind::kClear;
  clear.gateway_id = "00000000000000bb";  // another gateway's event
  EXPECT_EQ(ApplyEvent(&*back, clear).code(), Code::kInvalidArgument);
  clear.gateway_id = kGw;
  EXPECT_TRUE(ApplyEvent(&*back, clear).ok());
  EXPECT_EQ(back->state, AlarmState::kCleared);
}

}  // namespace
}  // namespace bysans::rules
