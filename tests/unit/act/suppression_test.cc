// Silences per device and per rule and the device "in maintenance" flag, through the
// rules runtime on a real SQLite file in simulated time (ManualClock): no alarm while
// suppressed, raised after the silence ends if the condition still holds.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <thread>

#include "act/outbox.h"
#include "unit/act/store_fixture.h"

namespace bysans {
namespace {

using namespace std::chrono_literals;
using act_test::WaitFor;

constexpr TimeMs kHour = 3'600'000;

class SuppressionTest : public act_test::StoreFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenStore());
    rule_ = CreateRule(Co2Rule());
    ASSERT_NO_FATAL_FAILURE(StartService());
  }
  void Silence(std::optional<Id> device, std::optional<Id> rule, TimeMs until) {
    SilenceRecord s;
    s.org_id = org_;
    s.device_id = device;
    s.rule_id = rule;
    s.until_ms = until;
    ASSERT_TRUE(store_->rules().CreateSilence(s).ok());
    service_->Drain();  // the runtime has applied it
  }
  // Lets the rules thread run a few ticks at the current simulated time.
  void Settle() {
    std::this_thread::sleep_for(700ms);
    service_->Drain();
  }

  Id rule_ = 0;
};

TEST_F(SuppressionTest, DeviceSilenceHoldsTheRaiseUntilItEnds) {
  TimeMs end = clock_.NowMs() + kHour;
  Silence(device_.id, std::nullopt, end);
  Send(1500);
  clock_.Advance(kHour / 2);
  Send(1600);
  Settle();
  EXPECT_EQ(Count(), 0u) << "raised while the device was silenced";
  clock_.Advance(kHour / 2 + 1000);  // the silence is over, the condition still holds
  ASSERT_TRUE(WaitFor([&] { return Count("active") == 1; }));
  AlarmFilter f;
  f.org_id = org_;
  auto alarms = store_->rules().ListAlarms(f, Page{});
  ASSERT_EQ(alarms->items.size(), 1u);
  EXPECT_GE(alarms->items[0].raised_ms, end);
  EXPECT_EQ(alarms->items[0].rule_id, rule_);
}

TEST_F(SuppressionTest, RuleSilenceRaisesNothingIfTheConditionEndedMeanwhile) {
  Silence(std::nullopt, rule_, clock_.NowMs() + kHour);
  Send(1500);
  clock_.Advance(10 * 60'000);
  Send(600);  // the condition stopped holding during the silence
  clock_.Advance(kHour);
  Settle();
  EXPECT_EQ(Count(), 0u);
  Send(1700);  // after the silence: raised as usual
  ASSERT_TRUE(WaitFor([&] { return Count("active") == 1; }));
}

TEST_F(SuppressionTest, SilenceOfAnotherDeviceOrRuleDoesNotSuppress) {
  Device other = device_;
  other.id = device_.id + 1000;
  Silence(other.id, std::nullopt, clock_.NowMs() + kHour);
  Send(1500);
  ASSERT_TRUE(WaitFor([&] { return Count("active") == 1; }));
}

TEST_F(SuppressionTest, DeviceInMaintenanceRaisesOnlyAfterLeavingIt) {
  device_.in_maintenance = true;
  Send(1500);
  clock_.Advance(kHour);
  Send(1600);
  Settle();
  EXPECT_EQ(Count(), 0u) << "raised while the device was in maintenance";
  device_.in_maintenance = false;
  Send(1550);
  ASSERT_TRUE(WaitFor([&] { return Count("active") == 1; }));
  EXPECT_EQ(Count(), 1u);
}

TEST_F(SuppressionTest, ClearsAreStillRecordedWhileSilenced) {
  Send(1500);
  ASSERT_TRUE(WaitFor([&] { return Count("active") == 1; }));
  Silence(device_.id, std::nullopt, clock_.NowMs() + kHour);
  Send(500);
  ASSERT_TRUE(WaitFor([&] { return Count("cleared") == 1; }));
  Send(1500);  // silenced: no new alarm
  Settle();
  EXPECT_EQ(Count(), 1u);
}

TEST_F(SuppressionTest, DeletedSilenceIsLiftedAtOnce) {
  SilenceRecord s;
  s.org_id = org_;
  s.device_id = device_.id;
  s.until_ms = clock_.NowMs() + kHour;
  auto created = store_->rules().CreateSilence(s);
  ASSERT_TRUE(created.ok());
  service_->Drain();
  Send(1500);
  Settle();
  EXPECT_EQ(Count(), 0u) << "raised while the device was silenced";
  auto got = store_->rules().GetSilence(created->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->device_id, device_.id);
  ASSERT_TRUE(store_->rules().DeleteSilence(created->id).ok());
  EXPECT_EQ(store_->rules().DeleteSilence(created->id).code(), Code::kNotFound);
  EXPECT_EQ(store_->rules().GetSilence(created->id).status().code(), Code::kNotFound);
  EXPECT_TRUE(store_->rules().ListSilences(org_, clock_.NowMs())->empty());
  // Same simulated time: only the deletion can have lifted it; the condition still holds.
  ASSERT_TRUE(WaitFor([&] { return Count("active") == 1; }));
}

TEST(ActionTopics, OnlyAnOrganisationsNamespaceIsAllowed) {
  EXPECT_TRUE(act::CheckActionTopicOf(7, "orgs/7/alarms/x").ok());
  EXPECT_EQ(act::ActionTopicPrefix(7), "orgs/7/");
  // The shape alone (a rule saved before the namespaces still loads): reserved topics and
  // wildcards are refused, other topics are not.
  EXPECT_TRUE(act::CheckActionTopic("kommune/alarms/7").ok());
  for (const char* bad : {"", "devices/7/down", "application/a/device/b/command/down", "$SYS/x",
                          "orgs/7/a/+/b", "orgs/7/#"}) {
    EXPECT_FALSE(act::CheckActionTopic(bad).ok()) << bad;
    EXPECT_FALSE(act::CheckActionTopicOf(7, bad).ok()) << bad;
  }
  for (const char* outside :
       {"kommune/alarms/7", "v1.1/Datastreams(3)/Observations",
        "eu868/gateway/0016c001f153a14c/state/conn", "orgs/7", "orgs/7/", "orgs//x", "orgs/x7/a",
        "/orgs/7/x", "orgs/8/alarms", "orgs/77/alarms"}) {
    EXPECT_FALSE(act::InActionNamespace(7, outside)) << outside;
    EXPECT_FALSE(act::CheckActionTopicOf(7, outside).ok()) << outside;
  }
  EXPECT_FALSE(act::CheckActionTopicOf(7, std::string("orgs/7/a\0b", 10)).ok());
  EXPECT_FALSE(act::CheckActionTopicOf(7, "orgs/7/" + std::string(1020, 'x')).ok());
}

}  // namespace
}  // namespace bysans
