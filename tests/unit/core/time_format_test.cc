#include "core/time_format.h"

#include <gtest/gtest.h>

namespace bysans {

TEST(TimeFormat, RoundTripsRfc3339) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(1764082538123), "2025-11-25T14:55:38.123Z");
  EXPECT_EQ(ParseTime("2025-11-25T14:55:38.123Z"), 1764082538123);
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
