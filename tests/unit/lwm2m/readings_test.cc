// lwm2m/readings.h: Send payloads (SenML JSON and CBOR) → readings named like decoders name
// the same quantities; unknown resources keep their path.
#include "lwm2m/readings.h"

#include <gtest/gtest.h>

namespace bysans::lwm2m {
namespace {

TEST(Lwm2mReadings, KnownResourcesGetTheirNamesAndUnits) {
  std::string unit;
  EXPECT_EQ(ReadingKey("/3303/0/5700", &unit), "temperature");
  EXPECT_EQ(unit, "Cel");
  EXPECT_EQ(ReadingKey("/3304/0/5700", &unit), "humidity");
  EXPECT_EQ(unit, "%RH");
  EXPECT_EQ(ReadingKey("/3303/2/5700", &unit), "temperature.2");
  EXPECT_EQ(ReadingKey("/3301/0/5700", nullptr), "illuminance");
  EXPECT_EQ(ReadingKey("/3428/0/3", nullptr), "pm25");
  EXPECT_EQ(ReadingKey("/3428/0/17", nullptr), "co2");
  EXPECT_EQ(ReadingKey("/3200/0/5500", nullptr), "digital_input");
  EXPECT_EQ(ReadingKey("/3424/0/1", &unit), "volume");
  EXPECT_EQ(unit, "m3");
  // Unknown: the path without its slash, nothing lost.
  unit.clear();
  EXPECT_EQ(ReadingKey("/3303/0/5601", &unit), "3303/0/5601");
  EXPECT_EQ(unit, "");
  EXPECT_EQ(ReadingKey("/3303/0/5700/1", nullptr), "3303/0/5700/1");
  EXPECT_EQ(ReadingKey("/33a/0/5700", nullptr), "33a/0/5700");
  EXPECT_EQ(ReadingKey("free-name", nullptr), "free-name");
}

TEST(Lwm2mReadings, SenmlJsonSendWithBaseName) {
  auto r = ParseSend(
      kSenmlJson,
      R"([{"bn":"/3303/0/","n":"5700","v":21.5},{"n":"5601","v":18},)"
      R"({"bn":"/3304/0/","n":"5700","v":40,"u":"%"},{"bn":"/3424/0/","n":"9","vb":true}])",
      7, 1'000'000);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].key, "temperature");
  EXPECT_EQ((*r)[0].unit, "Cel");
  EXPECT_EQ(std::get<double>((*r)[0].value), 21.5);
  EXPECT_EQ((*r)[0].device_id, 7);
  EXPECT_EQ((*r)[1].key, "3303/0/5601");
  EXPECT_EQ((*r)[2].key, "humidity");
  EXPECT_EQ((*r)[2].unit, "%") << "the device's own unit wins";
  EXPECT_EQ((*r)[3].key, "leak_suspected");
  EXPECT_EQ(std::get<bool>((*r)[3].value), true);
}

TEST(Lwm2mReadings, SenmlCborSendAndErrors) {
  // [{0: "/3303/0/5700", 2: 21.5}] — n (0) and v (2) labels, RFC 8428 §6.
  std::string cbor = std::string("\x81\xa2\x00\x6c", 4) + "/3303/0/5700" +
                     std::string("\x02\xfb\x40\x35\x80\x00\x00\x00\x00\x00", 10);
  auto r = ParseSend(kSenmlCbor, cbor, 1, 5);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].key, "temperature");
  auto truncated = ParseSend(kSenmlCbor, cbor.substr(0, 10), 1, 5);
  EXPECT_EQ(truncated.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseSend(50, "{}", 1, 5).status().code(), Code::kUnsupportedMedia);
  EXPECT_EQ(ParseSend(kSenmlJson, "[{\"n\":", 1, 5).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace bysans::lwm2m
