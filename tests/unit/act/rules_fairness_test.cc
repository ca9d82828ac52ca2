// One organisation flooding the rules thread that every organisation shares: its readings of
// devices under many costly rules must not delay another organisation's alarm behind the flood,
// nor push the other's readings out of a full queue (rules/service.h: the queue is taken in turn
// by organisation, by the evaluation time each used; a full queue sheds the largest backlog).
// The rules runtime in-process on a real SQLite file.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "unit/act/store_fixture.h"

namespace bysans {
namespace {

using act_test::WaitFor;

class RulesFairnessTest : public act_test::StoreFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenStore());
    victim_rule_ = CreateRule(Co2Rule());
    hog_org_ = store_->CreateOrganization({0, "Nabo", 0})->id;
    Application app;
    app.org_id = hog_org_;
    app.name = "Flod";
    const Id app_id = store_->CreateApplication(app)->id;
    Device d;
    d.org_id = hog_org_;
    d.app_id = app_id;
    d.name = "Flod";
    hog_device_ = *store_->CreateDevice(d, "hash-hog");
    // Costly and never true: ~1,000 additions in the longest expression a rule may have.
    std::string costly = "x";
    while (costly.size() < 4000) costly += " + x";
    costly += " > 1e300";
    for (int i = 0; i < kCostlyRules; ++i)
      HogRule({{"name", "Dyr " + std::to_string(i)}, {"expression", costly}});
    last_rule_ = HogRule({{"name", "Sidste"}, {"expression", "last == 1"}});
  }

  Id HogRule(json def) {
    def["scope"] = {{"kind", "device"}, {"id", hog_device_.id}};
    return CreateRule(def, hog_org_);
  }

  void Start(rules::RulesServiceOptions opts) {
    service_ = std::make_unique<rules::RulesService>(*store_, clock_, opts, nullptr);
    ASSERT_TRUE(service_->Start().ok());
  }

  // The flood: `n` batches of the hog's device, each evaluated by every costly rule, then one
  // that raises "Sidste" (its alarm marks the end of the flood).
  void Flood(int n) {
    auto device = std::make_shared<const Device>(hog_device_);
    for (int i = 0; i < n; ++i)
      service_->OnCommitted(device,
                            std::make_shared<const std::vector<Reading>>(std::vector<Reading>{
                                {hog_device_.id, "x", clock_.NowMs(), 1.0 * i, "", Quality::kOk}}));
    service_->OnCommitted(device,
                          std::make_shared<const std::vector<Reading>>(std::vector<Reading>{
                              {hog_device_.id, "last", clock_.NowMs(), 1.0, "", Quality::kOk}}));
  }

  // The id of the alarm of `rule`, 0 while there is none.
  Id AlarmOf(Id org, Id rule) {
    AlarmFilter f;
    f.org_id = org;
    Result<Paged<AlarmRecord>> alarms = store_->rules().ListAlarms(f, Page{});
    EXPECT_TRUE(alarms.ok()) << alarms.status().message();
    if (!alarms.ok()) return 0;
    for (const AlarmRecord& a : alarms->items)
      if (a.rule_id == rule) return a.id;
    return 0;
  }

  static constexpr int kCostlyRules = 200;
  Id victim_rule_ = 0, hog_org_ = 0, last_rule_ = 0;
  Device hog_device_;
};

// Half a second or more of the hog's evaluations is queued when the victim's reading comes; the
// victim's alarm is stored before the flood's end (with one queue in arrival order it came after).
TEST_F(RulesFairnessTest, AnotherOrganisationsAlarmDoesNotWaitBehindAFlood) {
  ASSERT_NO_FATAL_FAILURE(Start({}));
  Flood(500);
  Commit(1500);  // the victim's co2 reading
  ASSERT_TRUE(WaitFor([&] { return AlarmOf(org_, victim_rule_) != 0; }));
  ASSERT_TRUE(WaitFor([&] { return AlarmOf(hog_org_, last_rule_) != 0; }));
  EXPECT_LT(AlarmOf(org_, victim_rule_), AlarmOf(hog_org_, last_rule_))
      << "the victim's alarm was stored after the whole flood was evaluated";
  EXPECT_EQ(service_->dropped(), 0u);
}

// A queue of 100 batches, full of the hog's: the victim's reading still gets in (the hog's
// newest goes instead); the batches dropped are the hog's (with one queue in arrival order the
// victim's came to a full queue and was dropped).
TEST_F(RulesFairnessTest, AFullQueueShedsTheFloodingOrganisationsBatchesNotAnothers) {
  rules::RulesServiceOptions opts;
  opts.queue_capacity = 100;
  ASSERT_NO_FATAL_FAILURE(Start(opts));
  Flood(1000);
  Commit(1500);
  service_->Drain();
  EXPECT_NE(AlarmOf(org_, victim_rule_), 0) << "the victim's reading was dropped";
  EXPECT_GE(service_->dropped(), 800u);
}

}  // namespace
}  // namespace bysans
