#include "ingest/senml.h"

#include <gtest/gtest.h>

namespace bysans::ingest {
namespace {

constexpr TimeMs kNow = 1'767'323'045'000;  // 2026-01-02T03:04:05Z

std::vector<Reading> Parse(std::string_view json) {
  auto r = ParseSenml(json, 3, kNow);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r.value() : std::vector<Reading>{};
}

Status Error(std::string_view json) {
  auto r = ParseSenml(json, 3, kNow);
  EXPECT_FALSE(r.ok());
  return r.status();
}

TEST(SenmlTest, SingleDatapointRfcExample) {
  // RFC 8428 section 5.1.1.
  auto rs = Parse(R"([{"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}])");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].key, "urn:dev:ow:10e2073a01080063");
  EXPECT_EQ(rs[0].unit, "Cel");
  EXPECT_EQ(std::get<double>(rs[0].value), 23.1);
  EXPECT_EQ(rs[0].ts, kNow);
  EXPECT_EQ(rs[0].device_id, 3);
}

TEST(SenmlTest, BaseNameTimeUnitRfcExample) {
  // RFC 8428 section 5.1.2 (multiple datapoints).
  auto rs = Parse(R"([
     {"bn":"urn:dev:ow:10e2073a01080063:","n":"voltage","u":"V","v":120.1},
     {"n":"current","u":"A","v":1.2}])");
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].key, "urn:dev:ow:10e2073a01080063:voltage");
  EXPECT_EQ(rs[1].key, "urn:dev:ow:10e2073a01080063:current");
  EXPECT_EQ(rs[1].unit, "A");

  rs = Parse(R"([
     {"bn":"urn:dev:ow:10e2073a0108006:","bt":1.276020076001e+09,"bu":"A","bver":5,
      "n":"voltage","u":"V","v":120.1},
     {"n":"current","t":-5,"v":1.2},
     {"n":"current","t":-4,"v":1.3}])");
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(rs[0].ts, 1276020076001);
  EXPECT_EQ(rs[0].unit, "V");
  EXPECT_EQ(rs[1].ts, 1276020071001);
  EXPECT_EQ(rs[1].unit, "A");  // bu
  EXPECT_EQ(rs[2].ts, 1276020072001);
}

TEST(SenmlTest, RelativeTimeAndBaseValue) {
  auto rs = Parse(R"([{"bn":"dev/","bv":100,"n":"a","v":1,"t":-60},{"n":"b","v":-1.5,"t":30}])");
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].key, "dev/a");
  EXPECT_EQ(std::get<double>(rs[0].value), 101.0);
  EXPECT_EQ(rs[0].ts, kNow - 60'000);
  EXPECT_EQ(std::get<double>(rs[1].value), 98.5);
  EXPECT_EQ(rs[1].ts, kNow + 30'000);
}

TEST(SenmlTest, StringBooleanDataAndSum) {
  auto rs = Parse(R"([{"n":"door","vs":"open"},{"n":"alarm","vb":true},
                      {"n":"blob","vd":"aGk"},{"n":"energy","s":42,"u":"J"},
                      {"n":"flow","v":2,"s":10}])");
  ASSERT_EQ(rs.size(), 6u);
  EXPECT_EQ(std::get<std::string>(rs[0].value), "open");
  EXPECT_EQ(std::get<bool>(rs[1].value), true);
  EXPECT_EQ(std::get<std::string>(rs[2].value), "aGk");
  EXPECT_EQ(rs[3].key, "energy");
  EXPECT_EQ(std::get<double>(rs[3].value), 42.0);
  EXPECT_EQ(rs[4].key, "flow");
  EXPECT_EQ(rs[5].key, "flow.sum");
  EXPECT_EQ(std::get<double>(rs[5].value), 10.0);
}

TEST(SenmlTest, BaseOnlyRecordsAndIgnoredFields) {
  auto rs = Parse(R"([{"bn":"x:"},{"n":"y","v":1,"ut":60,"extra":"ignored"}])");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].key, "x:y");
  EXPECT_TRUE(Parse("[]").empty());
}

TEST(SenmlTest, Errors) {
  EXPECT_NE(Error(R"({"n":"a","v":1})").message().find("array"), std::string::npos);
  EXPECT_NE(Error(R"([{"n":"a"}])").message().find("no value"), std::string::npos);
  EXPECT_NE(Error(R"([{"bver":11,"n":"a","v":1}])").message().find("bver"), std::string::npos);
  EXPECT_NE(Error(R"([{"n":"a","v":1e999}])").message().find("finite"), std::string::npos);
  EXPECT_NE(Error(R"([{"n":"a","v":"1"}])").message().find("'v'"), std::string::npos);
  EXPECT_NE(Error(R"([{"v":1}])").message().find("no name"), std::string::npos);
  EXPECT_NE(Error(R"([1])").message().find("not a JSON object"), std::string::npos);
  EXPECT_NE(Error(R"([{"n":"a","v":1,"vs":"x"}])").message().find("more than one"),
            std::string::npos);
  EXPECT_NE(Error(R"([{"n":"a","v":1,"foo_":1}])").message().find("must-understand"),
            std::string::npos);
  EXPECT_NE(Error(R"([{"n":"a","v":1,"t":1e300}])").message().find("time"), std::string::npos);
  EXPECT_NE(Error(R"([{"n":"a","v":1},)").message().find("at byte"), std::string::npos);
  Status st = Error(R"([{"n":"a","v":1},{"n":"b"}])");
  EXPECT_NE(st.message().find("record 1"), std::string::npos) << st.message();
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace bysans::ingest
