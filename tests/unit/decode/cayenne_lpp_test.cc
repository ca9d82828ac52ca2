#include "decode/cayenne_lpp.h"

#include <gtest/gtest.h>

#include "unit/decode/test_util.h"

namespace bysans::decode {
namespace {

using testing::Find;
using testing::HexToBytes;
using testing::Number;

TEST(CayenneLpp, SpecExamples) {
  // Examples from the Cayenne LPP documentation.
  auto r = DecodeCayenneLpp(HexToBytes("03670110056700ff"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, R"({"temperature_3":27.2,"temperature_5":25.5})");
  r = DecodeCayenneLpp(HexToBytes("067104d2fb2e0000"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, R"({"accelerometer_6":{"x":1.234,"y":-1.234,"z":0}})");
  r = DecodeCayenneLpp(HexToBytes("018806765ff2960a0003e8"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, R"({"gps_1":{"latitude":42.3519,"longitude":-87.9094,"altitude":10}})");
}

TEST(CayenneLpp, AllStandardTypes) {
  std::string hex =
      "0100"
      "01"  // digital input 1
      "0201"
      "00"  // digital output 0
      "0302"
      "ff9c"  // analog input -1.00
      "0403"
      "0064"  // analog output 1.00
      "0565"
      "0190"  // illuminance 400
      "0666"
      "01"  // presence 1
      "0767"
      "ff38"  // temperature -20.0
      "0868"
      "61"  // humidity 48.5
      "0973"
      "2710"  // barometer 1000.0
      "0a86"
      "0064ff9c0000";  // gyrometer 1, -1, 0
  auto res = DecodeCayenneLppToResult(DecodeInput{HexToBytes(hex), 1, 1000, "", "", {}}, 5);
  ASSERT_TRUE(res.status.ok()) << res.status.message();
  EXPECT_EQ(Number(res.readings, "digital_input_1"), 1.0);
  EXPECT_EQ(Number(res.readings, "digital_output_2"), 0.0);
  EXPECT_EQ(Number(res.readings, "analog_input_3"), -1.0);
  EXPECT_EQ(Number(res.readings, "analog_output_4"), 1.0);
  EXPECT_EQ(Number(res.readings, "illuminance_5"), 400.0);
  EXPECT_EQ(Number(res.readings, "presence_6"), 1.0);
  EXPECT_EQ(Number(res.readings, "temperature_7"), -20.0);
  EXPECT_EQ(Number(res.readings, "humidity_8"), 48.5);
  EXPECT_EQ(Number(res.readings, "barometer_9"), 1000.0);
  EXPECT_EQ(Number(res.readings, "gyrometer_10.x"), 1.0);
  EXPECT_EQ(Number(res.readings, "gyrometer_10.y"), -1.0);
  EXPECT_EQ(Find(res.readings, "temperature_7")->unit, "Cel");
  EXPECT_EQ(Find(res.readings, "humidity_8")->unit, "%");
  EXPECT_EQ(Find(res.readings, "temperature_7")->device_id, 5);
  EXPECT_EQ(Find(res.readings, "temperature_7")->ts, 1000);
}

TEST(CayenneLpp, ClearErrors) {
  auto r = DecodeCayenneLpp(HexToBytes("036701"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("truncated temperature"), std::string::npos)
      << r.status().message();
  r = DecodeCayenneLpp(HexToBytes("03"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("truncated frame header"), std::string::npos);
  r = DecodeCayenneLpp(HexToBytes("03fe00"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown data type 254"), std::string::npos);
  r = DecodeCayenneLpp("");
  ASSERT_FALSE(r.ok());
}

}  // namespace
}  // namespace bysans::decode
