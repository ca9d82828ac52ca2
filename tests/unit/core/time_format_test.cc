#include "core/time_format.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <vector>

namespace bysans {

TEST(TimeFormat, RoundTripsRfc3339) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(1764082538123), "2025-11-25T14:55:38.123Z");
  EXPECT_EQ(ParseTime("2025-11-25T14:55:38.123Z"), 1764082538123);
}

// The arithmetic formatter agrees with the C library's calendar everywhere it is used.
TEST(TimeFormat, FormatAgreesWithGmtime) {
  std::vector<TimeMs> times = {-1,
                               -999,
                               -1000,
                               -86'400'000,
                               951'782'400'000 /* 2000-02-29 */,
                               253'402'300'799'999 /* 9999-12-31T23:59:59.999 */};
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    times.push_back(static_cast<TimeMs>(x % 253'402'300'800'000ULL) - 62'135'596'800'000LL / 2);
  }
  for (TimeMs t : times) {
    int64_t secs = t >= 0 ? t / 1000 : (t - 999) / 1000;
    auto tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(t - secs * 1000));
    ASSERT_EQ(FormatRfc3339(t), buf) << t;
    if (t >= 0) {
      EXPECT_EQ(ParseTime(buf), t) << buf;
    }
  }
  std::string out = "x";
  AppendRfc3339(out, 0);
  EXPECT_EQ(out, "x1970-01-01T00:00:00.000Z");
}

TEST(TimeFormat, ParsesOffsetsDatesAndMillis) {
  EXPECT_EQ(ParseTime("2025-11-25T15:55:38+01:00"), 1764082538000);
  EXPECT_EQ(ParseTime("2025-11-25"), 1764028800000);
  EXPECT_EQ(ParseTime("1764082538123"), 1764082538123);
}

TEST(TimeFormat, RejectsGarbage) {
  EXPECT_FALSE(ParseTime("").has_value());
  EXPECT_FALSE(ParseTime("yesterday").has_value());
  EXPECT_FALSE(ParseTime("2025-13-01").has_value());
  EXPECT_FALSE(ParseTime("2025-11-25T25:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("2025-11-25T10:00:00Zjunk").has_value());
}

TEST(TimeFormat, ParsesDurations) {
  EXPECT_EQ(ParseDurationMs("500ms"), 500);
  EXPECT_EQ(ParseDurationMs("15m"), 900000);
  EXPECT_EQ(ParseDurationMs("1h"), 3600000);
  EXPECT_EQ(ParseDurationMs("7d"), 604800000);
  EXPECT_FALSE(ParseDurationMs("fast").has_value());
  EXPECT_FALSE(ParseDurationMs("3 parsecs").has_value());
}

}  // namespace bysans
