#include "rules/dry_run.h"

#include <gtest/gtest.h>

#include <vector>

namespace bysans::rules {
namespace {

constexpr TimeMs kStart = 1'700'000'000'000;
constexpr TimeMs kMin = 60'000;

Reading At(TimeMs offset_min, const char* key, double v) {
  Reading r;
  r.device_id = 1;
  r.key = key;
  r.ts = kStart + offset_min * kMin;
  r.value = v;
  return r;
}

Rule Co2Rule() {
  Rule r;
  r.id = 1;
  r.org_id = 7;
  r.name = "co2";
  r.scope = {ScopeKind::kApplication, 99, "", ""};  // ignored by the dry run
  r.expression = "co2 > 1000";
  r.clear_expression = "co2 < 900";
  return r;
}

DeviceInfo Dev() {
  DeviceInfo d;
  d.id = 1;
  d.org_id = 7;
  d.app_id = 10;
  d.in_maintenance = true;  // ignored by the dry run
  return d;
}

TEST(DryRun, CountsRaisesAndClears) {
  std::vector<Reading> h;
  double values[] = {800, 1001, 1100, 950, 899, 1001, 1200, 850, 700, 1300};
  for (int i = 0; i < 10; ++i) h.push_back(At(i * 10, "co2", values[i]));
  auto res = DryRun(Co2Rule(), Dev(), h, kStart + 100 * kMin);
  ASSERT_TRUE(res.ok()) << res.status().message();
  EXPECT_EQ(res->raises, 3);
  EXPECT_EQ(res->clears, 2);
  EXPECT_EQ(res->raise_ts,
            (std::vector<TimeMs>{kStart + 10 * kMin, kStart + 50 * kMin, kStart + 90 * kMin}));
  EXPECT_EQ(res->clear_ts, (std::vector<TimeMs>{kStart + 40 * kMin, kStart + 70 * kMin}));
  EXPECT_TRUE(res->active_at_end);
  EXPECT_EQ(res->readings_used, 10u);
}

// Issue 14, finding 1: a dry run replays only a device of the rule's organisation.
TEST(DryRun, RefusesADeviceOfAnotherOrganisation) {
  DeviceInfo other = Dev();
  other.org_id = 8;
  std::vector<Reading> h = {At(0, "co2", 1100)};
  EXPECT_EQ(DryRun(Co2Rule(), other, h, kStart + kMin).status().code(), Code::kNotFound);
  EXPECT_TRUE(DryRun(Co2Rule(), Dev(), h, kStart + kMin).ok());
}

TEST(DryRun, ForDurationRaisesAtExactTime) {
  Rule r = Co2Rule();
  r.for_ms = 15 * kMin;
  std::vector<Reading> h = {At(0, "co2", 1100), At(10, "co2", 1100), At(12, "co2", 800),
                            At(20, "co2", 1100), At(60, "co2", 800)};
  auto res = DryRun(r, Dev(), h, kStart + 120 * kMin);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->raises, 1);
  EXPECT_EQ(res->raise_ts, std::vector<TimeMs>{kStart + 35 * kMin});
  EXPECT_EQ(res->clear_ts, std::vector<TimeMs>{kStart + 60 * kMin});
}

TEST(DryRun, SilenceGapsInHistory) {
  Rule r;
  r.id = 2;
  r.org_id = 7;
  r.name = "silent";
  r.kind = ConditionKind::kSilence;
  r.silence.fixed_ms = 60 * kMin;
  std::vector<Reading> h = {At(0, "x", 1), At(30, "x", 1), At(200, "x", 1), At(230, "x", 1)};
  auto res = DryRun(r, Dev(), h, kStart + 400 * kMin);
  ASSERT_TRUE(res.ok()) << res.status().message();
  EXPECT_EQ(res->raise_ts, (std::vector<TimeMs>{kStart + 90 * kMin, kStart + 290 * kMin}));
  EXPECT_EQ(res->clear_ts, std::vector<TimeMs>{kStart + 200 * kMin});
}

TEST(DryRun, RejectsUnsortedHistoryAndBadRule) {
  std::vector<Reading> h = {At(10, "co2", 1), At(0, "co2", 1)};
  EXPECT_EQ(DryRun(Co2Rule(), Dev(), h, kStart).status().code(), Code::kInvalidArgument);
  Rule bad = Co2Rule();
  bad.expression = "co2 >";
  EXPECT_EQ(DryRun(bad, Dev(), {}, kStart).status().code(), Code::kInvalidArgument);
  auto empty = DryRun(Co2Rule(), Dev(), {}, kStart);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->raises, 0);
}

TEST(DryRun, IgnoresReadingsAfterEnd) {
  std::vector<Reading> h = {At(0, "co2", 1100), At(100, "co2", 800)};
  auto res = DryRun(Co2Rule(), Dev(), h, kStart + 50 * kMin);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->raises, 1);
  EXPECT_EQ(res->clears, 0);
  EXPECT_EQ(res->readings_used, 1u);
}

}  // namespace
}  // namespace bysans::rules
