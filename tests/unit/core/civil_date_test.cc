// core/civil_date.h: known dates both ways, leap days, before 1970, and every day of 1,000 years
// round-tripping.
#include "core/civil_date.h"

#include <gtest/gtest.h>

namespace bysans {
namespace {

TEST(CivilDate, KnownDates) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(2000, 2, 29), 11016);                          // 2000 is a leap year
  EXPECT_EQ(DaysFromCivil(1900, 3, 1) - DaysFromCivil(1900, 2, 28), 1);  // 1900 is not
  const CivilDate c = CivilFromDays(20'792);                             // 2026-12-05
  EXPECT_EQ(c.year, 2026);
  EXPECT_EQ(c.month, 12);
  EXPECT_EQ(c.day, 5);
  const CivilDate b = CivilFromDays(-719'468);  // 0000-03-01
  EXPECT_EQ(b.year, 0);
  EXPECT_EQ(b.month, 3);
  EXPECT_EQ(b.day, 1);
}

TEST(CivilDate, EveryDayRoundTrips) {
  for (int64_t days = DaysFromCivil(1600, 1, 1); days <= DaysFromCivil(2600, 12, 31); ++days) {
    const CivilDate c = CivilFromDays(days);
    ASSERT_EQ(DaysFromCivil(c.year, c.month, c.day), days) << days;
    ASSERT_GE(c.day, 1);
    ASSERT_LE(c.day, 31);
  }
}

}  // namespace
}  // namespace bysans
