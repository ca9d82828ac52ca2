#include "model/retention.h"

#include <gtest/gtest.h>

namespace bysans {
namespace {

Application App(DataClass c, RetentionDays own = {}) {
  Application a;
  a.data_class = c;
  a.retention = own;
  return a;
}

TEST(RetentionTest, ServerDefaultsFollowTheDataClass) {
  const RetentionDefaults d = RetentionDefaults::Builtin();
  EXPECT_EQ(EffectiveRetention(App(DataClass::kSensitive), d), (RetentionDays{30, 90, 3650}));
  EXPECT_EQ(EffectiveRetention(App(DataClass::kPersonal), d), (RetentionDays{90, 365, 3650}));
  EXPECT_EQ(EffectiveRetention(App(DataClass::kPseudonymous), d),
            (RetentionDays{std::nullopt, std::nullopt, std::nullopt}));
  EXPECT_EQ(EffectiveRetention(App(DataClass::kNone), d),
            (RetentionDays{std::nullopt, std::nullopt, std::nullopt}));
}

TEST(RetentionTest, TheApplicationsOwnSettingsWinEachOnItsOwn) {
  const RetentionDefaults d = RetentionDefaults::Builtin();
  EXPECT_EQ(EffectiveRetention(App(DataClass::kSensitive, {7, std::nullopt, 400}), d),
            (RetentionDays{7, 90, 400}));
  EXPECT_EQ(EffectiveRetention(App(DataClass::kNone, {std::nullopt, 30, std::nullopt}), d),
            (RetentionDays{std::nullopt, 30, 3650}));
}

TEST(RetentionTest, AggregatesNeverGoBeforeTheReadings) {
  RetentionDefaults d;
  d.by_class[DataClass::kNone] = {std::nullopt, 500, 100};
  EXPECT_EQ(EffectiveRetention(App(DataClass::kNone), d), (RetentionDays{std::nullopt, 500, 500}));
  // Readings kept for ever keep their aggregates for ever too.
  EXPECT_EQ(EffectiveRetention(App(DataClass::kPseudonymous), RetentionDefaults::Builtin()),
            (RetentionDays{std::nullopt, std::nullopt, std::nullopt}));
  // A class without defaults keeps everything.
  EXPECT_EQ(EffectiveRetention(App(DataClass::kSensitive), RetentionDefaults{}), RetentionDays{});
}

TEST(RetentionTest, ValidationNamesTheField) {
  EXPECT_TRUE(ValidateRetention({1, 36500, 36500}, "").ok());
  EXPECT_TRUE(ValidateRetention({}, "").ok());
  EXPECT_TRUE(ValidateRetention({std::nullopt, 400, std::nullopt}, "").ok());
  Status zero = ValidateRetention({0, std::nullopt, std::nullopt}, "retention.");
  EXPECT_EQ(zero.code(), Code::kInvalidArgument);
  EXPECT_NE(zero.message().find("retention.rawMessagesDays"), std::string::npos);
  EXPECT_FALSE(ValidateRetention({std::nullopt, std::nullopt, 36501}, "").ok());
  Status order = ValidateRetention({std::nullopt, 400, 300}, "");
  EXPECT_EQ(order.code(), Code::kInvalidArgument);
  EXPECT_NE(order.message().find("readingsDays"), std::string::npos);
}

TEST(RetentionTest, CutoffsAreWholeDaysAndRetentionIsAMaximum) {
  constexpr TimeMs kDay = 86'400'000;
  constexpr TimeMs kMidnight = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
  const RetentionDays days{30, 7, std::nullopt};
  for (TimeMs now : {kMidnight, kMidnight + 1, kMidnight + kDay / 2, kMidnight + kDay - 1}) {
    const RetentionCutoffs c = RetentionCutoffsAt(days, now);
    // The day ending at the next midnight minus the retention goes: nothing older than the
    // retention stays, nothing younger than one day less goes.
    EXPECT_EQ(c.raw_before, kMidnight + kDay - 30 * kDay) << now;
    EXPECT_EQ(c.readings_before, kMidnight + kDay - 7 * kDay) << now;
    EXPECT_LE(now - *c.readings_before, 7 * kDay);
    EXPECT_GE(now - *c.readings_before, 6 * kDay);
    EXPECT_EQ(c.aggregates_before, std::nullopt);
  }
  // The next day moves every cutoff by one day.
  EXPECT_EQ(*RetentionCutoffsAt(days, kMidnight + kDay).readings_before,
            *RetentionCutoffsAt(days, kMidnight).readings_before + kDay);
  // Before 1970 too (negative times round down).
  EXPECT_EQ(RetentionCutoffsAt(RetentionDays{1, 1, 1}, -1).readings_before, TimeMs{-kDay});
}

TEST(RetentionTest, DataClassNamesRoundTrip) {
  for (DataClass c :
       {DataClass::kNone, DataClass::kPseudonymous, DataClass::kPersonal, DataClass::kSensitive}) {
    EXPECT_EQ(ParseDataClass(DataClassName(c)), c);
  }
  EXPECT_FALSE(ParseDataClass("Sensitive"));
  EXPECT_FALSE(HoldsPersonalData(DataClass::kNone));
  EXPECT_TRUE(HoldsPersonalData(DataClass::kPseudonymous));
}

}  // namespace
}  // namespace bysans
