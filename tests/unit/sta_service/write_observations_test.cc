// Parsing of SensorThings Observation writes (sta/write_observations.h): CreateObservations
// bodies, single Observation bodies and the Datastream's value type. Pure: no store.
#include "sta/write_observations.h"

#include <gtest/gtest.h>

namespace bysans::sta {
namespace {

using json = nlohmann::json;

constexpr TimeMs kNow = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

json Element(const json& rows, const json& components = {"phenomenonTime", "result"}) {
  return {{"Datastream", {{"@iot.id", 5}}}, {"components", components}, {"dataArray", rows}};
}

TEST(WriteObservationsTest, CreateObservationsRowsInBodyOrder) {
  json rows = json::array();
  rows.push_back(json::array({"2026-01-01T00:00:01Z", 1.5}));
  rows.push_back(json::array({nullptr, true}));           // no time: now
  rows.push_back(json::array({"2026-01-01T00:00:02Z"}));  // too short
  rows.push_back(json::array({"yesterday", 1}));
  rows.push_back(json::array({"2026-01-01T00:00:00Z/2026-01-01T01:00:00Z", 1}));
  rows.push_back(json::array({"2026-01-01T00:00:03Z", json::object()}));
  rows.push_back(json::array({"2026-01-01T00:00:04Z", "text"}));
  auto got = ParseCreateObservations(json::array({Element(rows)}), kNow);
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->size(), 1u);
  const ObservationGroup& g = (*got)[0];
  EXPECT_EQ(g.datastream_id, 5);
  ASSERT_EQ(g.rows.size(), 7u);
  ASSERT_TRUE(g.rows[0].obs);
  EXPECT_EQ(g.rows[0].obs->ts, kNow + 1000);
  EXPECT_EQ(std::get<double>(g.rows[0].obs->value), 1.5);
  ASSERT_TRUE(g.rows[1].obs);
  EXPECT_EQ(g.rows[1].obs->ts, kNow);
  EXPECT_TRUE(std::get<bool>(g.rows[1].obs->value));
  EXPECT_NE(g.rows[2].error.find("2 values"), std::string::npos) << g.rows[2].error;
  EXPECT_NE(g.rows[3].error.find("RFC 3339"), std::string::npos) << g.rows[3].error;
  EXPECT_NE(g.rows[4].error.find("interval"), std::string::npos) << g.rows[4].error;
  EXPECT_NE(g.rows[5].error.find("result"), std::string::npos) << g.rows[5].error;
  ASSERT_TRUE(g.rows[6].obs);
  EXPECT_EQ(std::get<std::string>(g.rows[6].obs->value), "text");
}

TEST(WriteObservationsTest, CreateObservationsStructureErrorsNameTheField) {
  auto msg = [](const json& body) {
    auto got = ParseCreateObservations(body, kNow);
    EXPECT_FALSE(got.ok()) << body.dump();
    return got.ok() ? std::string() : got.status().message();
  };
  EXPECT_NE(msg(json::object()).find("array"), std::string::npos);
  EXPECT_NE(msg(json::array({1})).find("element 0 must be an object"), std::string::npos);
  json e = Element(json::array());
  e["extra"] = 1;
  EXPECT_NE(msg(json::array({e})).find("'extra'"), std::string::npos);
  e = Element(json::array());
  e["Datastream"] = {{"@iot.id", "5"}};
  EXPECT_NE(msg(json::array({e})).find("Datastream/@iot.id"), std::string::npos);
  e["Datastream"] = {{"@iot.id", 5}, {"name", "deep insert"}};
  EXPECT_NE(msg(json::array({e})).find("only @iot.id"), std::string::npos);
  EXPECT_NE(msg(json::array({Element(json::array(), {"result", "result"})})).find("twice"),
            std::string::npos);
  EXPECT_NE(msg(json::array({Element(json::array(), json::array())})).find("components"),
            std::string::npos);
  e = Element(json::array());
  e["dataArray@iot.count"] = 3;
  EXPECT_NE(msg(json::array({e})).find("dataArray@iot.count"), std::string::npos);
  json many = json::array();
  for (size_t i = 0; i <= kMaxObservationsPerRequest; ++i) many.push_back(json::array({1}));
  EXPECT_NE(msg(json::array({Element(many, {"result"})})).find("more than"), std::string::npos);
}

TEST(WriteObservationsTest, ObservationPost) {
  auto got = ParseObservationPost({{"result", 3},
                                   {"phenomenonTime", "2026-01-01T00:00:05Z"},
                                   {"resultTime", nullptr},
                                   {"Datastream", {{"@iot.id", 9}}}},
                                  kNow);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->obs.ts, kNow + 5000);
  EXPECT_EQ(std::get<double>(got->obs.value), 3.0);
  EXPECT_EQ(got->datastream_id, 9);
  auto bare = ParseObservationPost({{"result", "x"}}, kNow);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->obs.ts, kNow);
  EXPECT_FALSE(bare->datastream_id);
  for (const json& bad : {json{{"phenomenonTime", "2026-01-01T00:00:05Z"}},
                          json{{"result", 1}, {"resultQuality", "ok"}},
                          json{{"result", 1}, {"FeatureOfInterest", {{"@iot.id", 1}}}},
                          json{{"result", nullptr}}, json::array()})
    EXPECT_FALSE(ParseObservationPost(bad, kNow).ok()) << bad.dump();
}

TEST(WriteObservationsTest, ResultMustHaveTheDatastreamsType) {
  SeriesRef numeric;
  numeric.latest = Reading{1, "t", kNow, 1.0, "", Quality::kOk};
  EXPECT_EQ(ResultTypeError(numeric, Value(2.0)), "");
  EXPECT_NE(ResultTypeError(numeric, Value(true)).find("number"), std::string::npos);
  SeriesRef text = numeric;
  text.latest->value = std::string("open");
  EXPECT_NE(ResultTypeError(text, Value(2.0)).find("string"), std::string::npos);
  SeriesRef flag = numeric;
  flag.latest->value = true;
  EXPECT_NE(ResultTypeError(flag, Value(std::string("x"))).find("boolean"), std::string::npos);
  EXPECT_EQ(ResultTypeError(SeriesRef{}, Value(std::string("x"))), "");  // no reading yet
}

}  // namespace
}  // namespace bysans::sta
