// lwm2m/observe.h: which paths are observed for a registration, and a notification's readings
// in each Content-Format.
#include "lwm2m/observe.h"

#include <gtest/gtest.h>

#include "bytes.h"
#include "lwm2m/readings.h"
#include "lwm2m/tlv.h"

namespace bysans::lwm2m {
namespace {

TEST(Lwm2mObserve, ObservesSensorInstancesAndTheBattery) {
  EXPECT_EQ(ObservedPaths("/1/0,/3/0,/3303/0,/3303/1,/3304/0,/5/0,/3428,/3424/2"),
            (std::vector<std::string>{"/3/0/9", "/3303/0", "/3303/1", "/3304/0", "/3424/2"}));
  EXPECT_TRUE(ObservedPaths("").empty());
  EXPECT_TRUE(ObservedPaths("/1/0,/5/0,garbage,/3303").empty());
}

TEST(Lwm2mObserve, SenmlCborAndJsonAsASend) {
  auto r =
      ParseNotification(kSenmlJson, R"([{"bn":"/3303/0/","n":"5700","v":21.5},{"n":"5601","v":3}])",
                        "/3303/0", 7, 1000);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].key, "temperature");
  EXPECT_EQ((*r)[0].unit, "Cel");
  EXPECT_EQ((*r)[0].device_id, 7);
  EXPECT_DOUBLE_EQ(std::get<double>((*r)[0].value), 21.5);
  EXPECT_EQ((*r)[1].key, "3303/0/5601");
  // Truncated CBOR: an error, nothing half-read.
  EXPECT_FALSE(ParseNotification(kSenmlCbor, Bytes({0x81, 0xA2, 0x21}), "/3303/0", 7, 1).ok());
}

TEST(Lwm2mObserve, PlainTextForASingleResource) {
  auto r = ParseNotification(kTextPlain, "87", "/3/0/9", 7, 5);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].key, "batteryLevel");
  EXPECT_EQ((*r)[0].unit, "%");
  EXPECT_DOUBLE_EQ(std::get<double>((*r)[0].value), 87);
  EXPECT_EQ((*r)[0].ts, 5);
  auto text = ParseNotification(kTextPlain, "ok", "/3303/0/5701", 7, 5);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(std::get<std::string>((*text)[0].value), "ok");
  EXPECT_FALSE(ParseNotification(kTextPlain, "21", "/3303/0", 7, 5).ok());
}

TEST(Lwm2mObserve, TlvOfAnInstanceAndOfAResource) {
  // /3303/0: resource 5700 = 21.5 (float), 5701 "Cel" (unknown type: skipped).
  std::string inst = Bytes({0xE4, 0x16, 0x44, 0x41, 0xAC, 0x00, 0x00, 0xE3, 0x16, 0x45}) + "Cel";
  auto r = ParseNotification(kTlv, inst, "/3303/0", 9, 1);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].key, "temperature");
  EXPECT_DOUBLE_EQ(std::get<double>((*r)[0].value), 21.5);
  // Wrapped in its object instance (id 2) under the object path.
  std::string wrapped = Bytes({0x08, 0x02, 0x07}) + inst.substr(0, 7);
  auto w = ParseNotification(kTlv, wrapped, "/3303", 9, 1);
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_EQ(w->size(), 1u);
  EXPECT_EQ((*w)[0].key, "temperature.2");
  // /3/0/9 battery as a 1-byte integer; /3200/0/5500 a boolean.
  auto b = ParseNotification(kTlv, Bytes({0xC1, 0x09, 0x57}), "/3/0/9", 9, 1);
  ASSERT_TRUE(b.ok());
  EXPECT_DOUBLE_EQ(std::get<double>((*b)[0].value), 87);
  auto d = ParseNotification(kTlv, Bytes({0xE1, 0x15, 0x7C, 0x01}), "/3200/0", 9, 1);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(std::get<bool>((*d)[0].value), true);
  // Truncated TLV and a wrong-sized float are errors.
  EXPECT_FALSE(ParseNotification(kTlv, inst.substr(0, 5), "/3303/0", 9, 1).ok());
  EXPECT_FALSE(ParseNotification(kTlv, Bytes({0xE3, 0x16, 0x44, 0, 0, 0}), "/3303/0", 9, 1).ok());
}

TEST(Lwm2mObserve, OtherFormatsAreUnsupported) {
  auto r = ParseNotification(11543, "{}", "/3303/0", 1, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnsupportedMedia);
}

}  // namespace
}  // namespace bysans::lwm2m
