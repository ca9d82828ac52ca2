#include "decode/to_readings.h"

#include <gtest/gtest.h>

#include "unit/decode/test_util.h"

namespace bysans::decode {
namespace {

using testing::Find;
using testing::Number;

TEST(ToReadings, FlattensWithDottedKeys) {
  auto r = ToReadings(R"({"air":{"no2":12.5,"ok":true},"name":"x","list":[1,{"a":2}],"n":null})", 3,
                      1000);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Number(r->readings, "air.no2"), 12.5);
  EXPECT_EQ(std::get<bool>(Find(r->readings, "air.ok")->value), true);
  EXPECT_EQ(std::get<std::string>(Find(r->readings, "name")->value), "x");
  EXPECT_EQ(Number(r->readings, "list.0"), 1.0);
  EXPECT_EQ(Number(r->readings, "list.1.a"), 2.0);
  EXPECT_EQ(Find(r->readings, "n"), nullptr);
  EXPECT_EQ(r->readings.size(), 5u);
  EXPECT_EQ(r->readings[0].device_id, 3);
  EXPECT_EQ(r->readings[0].ts, 1000);
}

TEST(ToReadings, ValueWithUnitObjects) {
  auto r = ToReadings(
      R"({"air_temperature":{"displayName":"Air temperature","unit":"°C","value":21.5},
          "other":{"value":1,"extra":2}})",
      0, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Number(r->readings, "air_temperature"), 21.5);
  EXPECT_EQ(Find(r->readings, "air_temperature")->unit, "°C");
  EXPECT_EQ(Number(r->readings, "other.value"), 1.0);  // not a pure value object
  EXPECT_EQ(Number(r->readings, "other.extra"), 2.0);
}

TEST(ToReadings, ScalarRoot) {
  auto r = ToReadings("42", 0, 5);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->readings.size(), 1u);
  EXPECT_EQ(r->readings[0].key, "value");
}

TEST(ToReadings, NgsiLdEntities) {
  auto r = ToReadings(R"([
    {"id":"urn:ngsi-ld:WeatherObserved:1","type":"WeatherObserved",
     "@context":"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
     "temperature":{"type":"Property","value":3.5,"unitCode":"CEL","observedAt":"2026-01-02T03:04:05Z"},
     "wind":{"type":"Property","value":{"speed":4,"dir":180}},
     "location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[10.2,56.1]}},
     "refDevice":{"type":"Relationship","object":"urn:ngsi-ld:Device:9"}},
    {"id":"urn:ngsi-ld:WeatherObserved:2","type":"WeatherObserved",
     "humidity":{"type":"Property","value":80,"unitCode":"P1"}}
  ])",
                      1, 777);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->readings.size(), 4u);
  const Reading* t = Find(r->readings, "temperature");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(std::get<double>(t->value), 3.5);
  EXPECT_EQ(t->unit, "CEL");
  EXPECT_EQ(t->ts, 1767323045000);
  EXPECT_EQ(Number(r->readings, "wind.speed"), 4.0);
  EXPECT_EQ(Find(r->readings, "humidity")->unit, "P1");
  EXPECT_EQ(Find(r->readings, "humidity")->ts, 777);
  EXPECT_EQ(Find(r->readings, "location"), nullptr);
  EXPECT_EQ(Find(r->readings, "refDevice"), nullptr);
  EXPECT_EQ(Find(r->readings, "id"), nullptr);
}

TEST(ToReadings, Limits) {
  std::string big = "[";
  for (int i = 0; i < 1500; ++i) big += (i ? "," : "") + std::to_string(i);
  big += "]";
  auto r = ToReadings(big, 0, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->readings.size(), 1000u);
  EXPECT_FALSE(r->warnings.empty());
  std::string long_key(300, 'k');
  r = ToReadings("{\"" + long_key + "\":1,\"ok\":2}", 0, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->readings.size(), 1u);
  EXPECT_FALSE(r->warnings.empty());
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 100; ++i) deep += "}";
  r = ToReadings(deep, 0, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->readings.empty());
}

TEST(ToReadings, InvalidJson) {
  auto r = ToReadings("{\"a\":", 0, 0);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not valid JSON"), std::string::npos);
}

// JSON.stringify writes integers below 1e21 in full; those beyond 64 bits are stored as doubles
// with a warning instead of failing the whole output.
TEST(ToReadings, IntegersBeyond64BitsBecomeDoubles) {
  auto r = ToReadings(
      R"({"big":100000000000000000000,"neg":-9223372036854775809,"max":18446744073709551615,)"
      R"("s":"12345678901234567890123","f":1.23456789012345678901234,"e":1e300,"n":7,)"
      R"("esc":"a\"99999999999999999999999","arr":[999999999999999999999]})",
      0, 0);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Number(r->readings, "big"), 1e20);
  EXPECT_EQ(Number(r->readings, "neg"), -9223372036854775809.0);
  EXPECT_EQ(Number(r->readings, "max"), 18446744073709551615.0);
  EXPECT_EQ(std::get<std::string>(Find(r->readings, "s")->value), "12345678901234567890123");
  EXPECT_DOUBLE_EQ(Number(r->readings, "f").value_or(0), 1.23456789012345678901234);
  EXPECT_EQ(Number(r->readings, "e"), 1e300);
  EXPECT_EQ(Number(r->readings, "n"), 7.0);
  EXPECT_EQ(std::get<std::string>(Find(r->readings, "esc")->value), "a\"99999999999999999999999");
  EXPECT_EQ(Number(r->readings, "arr.0"), 999999999999999999999.0);
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0],
            "integer 100000000000000000000 and 2 more beyond 64 bits stored as a double (precision "
            "lost)");
  EXPECT_FALSE(ToReadings(R"({"a":1x})", 0, 0).ok());  // other number errors still fail
}

}  // namespace
}  // namespace bysans::decode
