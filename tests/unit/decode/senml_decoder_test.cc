#include "decode/senml_decoder.h"

#include <gtest/gtest.h>

#include "unit/decode/test_util.h"

namespace bysans::decode {
namespace {

TEST(SenmlDecoder, DecodesPack) {
  DecodeInput in;
  in.bytes =
      R"([{"bn":"urn:dev:ow:10e2073a01080063:","bt":1.320067464e+09,"bu":"Cel","n":"temp","v":23.1},
                {"n":"hum","u":"%RH","v":41}])";
  in.recv_time = 1764065732712;
  auto r = DecodeSenmlToResult(in, 9);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  ASSERT_EQ(r.readings.size(), 2u);
  EXPECT_EQ(r.readings[0].device_id, 9);
  EXPECT_EQ(r.readings[0].ts, 1320067464000);
  EXPECT_EQ(r.readings[0].unit, "Cel");
  EXPECT_EQ(std::get<double>(r.readings[0].value), 23.1);
}

TEST(SenmlDecoder, ClearError) {
  DecodeInput in;
  in.bytes = R"({"n":"x","v":1})";
  auto r = DecodeSenmlToResult(in, 9);
  EXPECT_FALSE(r.status.ok());
  EXPECT_FALSE(r.status.message().empty());
}

}  // namespace
}  // namespace bysans::decode
