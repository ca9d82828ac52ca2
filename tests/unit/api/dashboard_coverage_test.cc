// What a public dashboard may read (api/dashboard_coverage.h): the (device, key) pairs of each
// widget type, coverage by key or by every key, and the check naming the first widget that is
// not covered, or that can never be public (alarms, map).
#include "api/dashboard_coverage.h"

#include <gtest/gtest.h>

namespace bysans::api {
namespace {

using json = nlohmann::json;

TEST(DashboardCoverageTest, WidgetReadsEachPairOnce) {
  using Pairs = std::vector<std::pair<Id, std::string>>;
  EXPECT_EQ(WidgetReads({{"type", "latest"}, {"deviceId", 3}, {"key", "co2"}}),
            (Pairs{{3, "co2"}}));
  EXPECT_EQ(
      WidgetReads({{"type", "timeseries"},
                   {"series", {{{"deviceId", 1}, {"key", "a"}}, {{"deviceId", 2}, {"key", "b"}}}}}),
      (Pairs{{1, "a"}, {2, "b"}}));
  EXPECT_EQ(WidgetReads({{"type", "table"}, {"deviceIds", {1, 2}}, {"keys", {"a", "b"}}}),
            (Pairs{{1, "a"}, {1, "b"}, {2, "a"}, {2, "b"}}));
  EXPECT_TRUE(WidgetReads({{"type", "alarms"}}).empty());
}

TEST(DashboardCoverageTest, ChecksEveryWidgetAgainstTheCoverage) {
  OpenCoverage c;
  c.keys[1] = std::set<std::string>{"co2"};
  c.keys[2] = std::nullopt;  // every key
  EXPECT_TRUE(c.Covers(1, "co2"));
  EXPECT_FALSE(c.Covers(1, "temp"));
  EXPECT_TRUE(c.Covers(2, "anything"));
  EXPECT_FALSE(c.Covers(3, "co2"));
  const json tile = {{"type", "latest"}, {"deviceId", 1}, {"key", "co2"}};
  const json table = {{"type", "table"}, {"deviceIds", {1, 2}}, {"keys", {"co2"}}};
  EXPECT_TRUE(CheckPublicLayout({{"widgets", {tile, table}}}, c).ok());
  auto uncovered = CheckPublicLayout(
      {{"widgets", {tile, {{"type", "gauge"}, {"deviceId", 1}, {"key", "temp"}}}}}, c);
  EXPECT_EQ(uncovered.code(), Code::kInvalidArgument);
  EXPECT_NE(uncovered.message().find("widget 2"), std::string::npos) << uncovered.message();
  EXPECT_NE(uncovered.message().find("'temp'"), std::string::npos) << uncovered.message();
  for (const char* type : {"alarms", "map"}) {
    auto never = CheckPublicLayout({{"widgets", {{{"type", type}, {"applicationId", 1}}}}}, c);
    EXPECT_EQ(never.code(), Code::kInvalidArgument) << type;
    EXPECT_NE(never.message().find("widget 1"), std::string::npos) << never.message();
  }
}

}  // namespace
}  // namespace bysans::api
