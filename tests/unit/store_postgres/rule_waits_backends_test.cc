// The for-duration waits of the RuleStore on both backends (rules_backend_fixture.h): written
// with the alarms of a wake-up (WriteAlarms), read back per device or all, replaced, removed,
// and gone with their rule (changed or deleted) and their device (also with its application).
#include <optional>
#include <vector>

#include "unit/store_postgres/rules_backend_fixture.h"

namespace bysans::testing {
namespace {

using Waits = std::vector<RuleWaitRecord>;

class RuleWaitsBackendTest : public RulesBackendTest {
 protected:
  void SetUp() override {
    RulesBackendTest::SetUp();
    if (HasFatalFailure()) return;
    org_ = NewOrg();
    app_ = NewApp(org_);
    d1_ = NewDevice(org_, app_);
    d2_ = NewDevice(org_, app_);
    r1_ = NewRule(org_);
    r2_ = NewRule(org_);
  }
  Status Write(const std::vector<RuleWaitChange>& waits) {
    std::vector<RuleStore::AlarmWrite> none;
    return rules().WriteAlarms(none, waits);
  }
  Waits List(const std::optional<std::vector<Id>>& devices = std::nullopt) {
    auto w = rules().ListRuleWaits(devices);
    EXPECT_TRUE(w.ok()) << w.status().message();
    return w.ok() ? *w : Waits{};
  }

  Id org_ = 0, app_ = 0, d1_ = 0, d2_ = 0, r1_ = 0, r2_ = 0;
};

TEST_P(RuleWaitsBackendTest, WaitsAreWrittenReadBackReplacedAndRemoved) {
  EXPECT_EQ(List(), Waits{});
  ASSERT_TRUE(Write({{r2_, d1_, 200}, {r1_, d2_, 300}, {r1_, d1_, 100}}).ok());
  EXPECT_EQ(List(), (Waits{{r1_, d1_, 100}, {r1_, d2_, 300}, {r2_, d1_, 200}}));
  EXPECT_EQ(List(std::vector<Id>{d2_}), (Waits{{r1_, d2_, 300}}));
  EXPECT_EQ(List(std::vector<Id>{d1_, 424242}), (Waits{{r1_, d1_, 100}, {r2_, d1_, 200}}));
  EXPECT_EQ(List(std::vector<Id>{}), Waits{});

  // With an alarm, in one call: a new start replaces the stored one, an end removes it.
  std::vector<RuleStore::AlarmWrite> writes(1);
  writes[0].alarm = {0, org_, r2_, d1_, "active", 5, "{}"};
  ASSERT_TRUE(rules().WriteAlarms(writes, {{r1_, d1_, 150}, {r2_, d1_, std::nullopt}}).ok());
  EXPECT_GT(writes[0].alarm.id, 0);
  EXPECT_TRUE(rules().FindOpenAlarm(r2_, d1_).ok());
  EXPECT_EQ(List(), (Waits{{r1_, d1_, 150}, {r1_, d2_, 300}}));

  // Applied in order: the last change of a (rule, device) counts.
  ASSERT_TRUE(
      Write({{r1_, d2_, std::nullopt}, {r1_, d2_, 400}, {r1_, d1_, 500}, {r1_, d1_, std::nullopt}})
          .ok());
  EXPECT_EQ(List(), (Waits{{r1_, d2_, 400}}));
  // An end of a wait not stored is no error; a wait of a rule or device that does not exist is
  // skipped, and the rest of the batch is written.
  ASSERT_TRUE(
      Write({{r2_, d2_, std::nullopt}, {424242, d1_, 1}, {r1_, 424242, 1}, {r2_, d2_, 600}}).ok());
  EXPECT_EQ(List(), (Waits{{r1_, d2_, 400}, {r2_, d2_, 600}}));
  // Nothing to write: nothing happens.
  std::vector<RuleStore::AlarmWrite> none;
  EXPECT_TRUE(rules().WriteAlarms(none, {}).ok());
  EXPECT_EQ(List().size(), 2u);
}

TEST_P(RuleWaitsBackendTest, WaitsGoWithTheirRuleAndTheirDevice) {
  const Id other_app = NewApp(org_);
  const Id d3 = NewDevice(org_, other_app);
  ASSERT_TRUE(
      Write(
          {{r1_, d1_, 1}, {r1_, d2_, 2}, {r1_, d3, 3}, {r2_, d1_, 4}, {r2_, d2_, 5}, {r2_, d3, 6}})
          .ok());
  ASSERT_EQ(List().size(), 6u);
  // A changed rule starts afresh in the engine: its waits are removed.
  auto rule = rules().GetRule(r1_);
  ASSERT_TRUE(rule.ok());
  rule->definition = R"({"changed":true})";
  ASSERT_TRUE(rules().UpdateRule(*rule).ok());
  EXPECT_EQ(List(), (Waits{{r2_, d1_, 4}, {r2_, d2_, 5}, {r2_, d3, 6}}));
  ASSERT_TRUE(Write({{r1_, d1_, 7}}).ok());
  ASSERT_TRUE(meta().DeleteDevice(d2_).ok());
  EXPECT_EQ(List(), (Waits{{r1_, d1_, 7}, {r2_, d1_, 4}, {r2_, d3, 6}}));
  ASSERT_TRUE(meta().DeleteApplication(other_app).ok());  // and its device d3
  EXPECT_EQ(List(), (Waits{{r1_, d1_, 7}, {r2_, d1_, 4}}));
  ASSERT_TRUE(rules().DeleteRule(r2_).ok());
  EXPECT_EQ(List(), (Waits{{r1_, d1_, 7}}));
}

BYSANS_ON_BOTH_BACKENDS(RuleWaitsBackendTest);

}  // namespace
}  // namespace bysans::testing
