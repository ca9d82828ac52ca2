// SenML CBOR (RFC 8428 §6) → SenML JSON: labels, value kinds, limits and refusals.
#include "ingest/senml_cbor.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ingest/senml.h"

namespace bysans::ingest {
namespace {

using json = nlohmann::json;

std::string B(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s += static_cast<char>(b);
  return s;
}

TEST(SenmlCbor, LabelsBecomeSenmlJsonNames) {
  // [{-2: "wm/", 0: "flow", 1: "m3", 2: 21.5}]
  std::string cbor = B({0x81, 0xa4, 0x21, 0x63}) + "wm/" + B({0x00, 0x64}) + "flow" +
                     B({0x01, 0x62}) + "m3" + B({0x02, 0xfb, 0x40, 0x35, 0x80, 0, 0, 0, 0, 0});
  auto j = SenmlCborToJson(cbor);
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ(json::parse(*j), json::parse(R"([{"bn":"wm/","n":"flow","u":"m3","v":21.5}])"));
  auto readings = ParseSenml(*j, 7, 1'700'000'000'000);
  ASSERT_TRUE(readings.ok());
  ASSERT_EQ(readings->size(), 1u);
  EXPECT_EQ((*readings)[0].key, "wm/flow");
}

TEST(SenmlCbor, ValueKindsHalfFloatNegativeAndBytes) {
  // [{0: "a", 2: half(-1.5)}, {0: "b", 4: true}, {0: "c", 3: "x"}, {0: "d", 8: h'0102'},
  //  {0: "e", 6: -10}]
  std::string cbor = B({0x85, 0xa2, 0x00, 0x61, 'a', 0x02, 0xf9, 0xbe, 0x00}) +
                     B({0xa2, 0x00, 0x61, 'b', 0x04, 0xf5}) +
                     B({0xa2, 0x00, 0x61, 'c', 0x03, 0x61, 'x'}) +
                     B({0xa2, 0x00, 0x61, 'd', 0x08, 0x42, 0x01, 0x02}) +
                     B({0xa3, 0x00, 0x61, 'e', 0x06, 0x29, 0x02, 0xf6});
  auto j = SenmlCborToJson(cbor);
  ASSERT_TRUE(j.ok()) << j.status().message();
  json doc = json::parse(*j);
  EXPECT_DOUBLE_EQ(doc[0]["v"].get<double>(), -1.5);
  EXPECT_EQ(doc[1]["vb"], true);
  EXPECT_EQ(doc[2]["vs"], "x");
  EXPECT_EQ(doc[3]["vd"], "AQI=");
  EXPECT_EQ(doc[4]["t"], -10);
  EXPECT_TRUE(doc[4]["v"].is_null());
}

TEST(SenmlCbor, RefusesTruncatedIndefiniteTrailingAndNonFinite) {
  auto err = [](const std::string& cbor) {
    auto j = SenmlCborToJson(cbor);
    EXPECT_FALSE(j.ok()) << *j;
    return j.ok() ? std::string() : j.status().message();
  };
  EXPECT_NE(err(B({0x81, 0xa4, 0x21, 0x63, 'w', 'm'})).find("truncated"), std::string::npos);
  EXPECT_NE(err(B({0x9f, 0xff})).find("indefinite"), std::string::npos);
  EXPECT_NE(err(B({0x80, 0x00})).find("after the document"), std::string::npos);
  EXPECT_NE(err(B({0xf9, 0x7c, 0x00})).find("non-finite"), std::string::npos);  // +inf half
  EXPECT_NE(err(B({0xf7})).find("simple value"), std::string::npos);            // undefined
  EXPECT_NE(err(B({0xa1, 0x80, 0x00})).find("neither"), std::string::npos);     // array key
  EXPECT_NE(err(B({0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})).find("truncated"),
            std::string::npos);  // a huge count does not allocate
  EXPECT_NE(err("").find("empty"), std::string::npos);
  // Found by the fuzz replay: a text string that is not UTF-8 is an error, not an exception.
  EXPECT_NE(err(B({0x81, 0x61, 0xa8})).find("UTF-8"), std::string::npos);
}

TEST(SenmlCbor, DepthItemAndSizeLimits) {
  CborLimits limits;
  limits.max_depth = 4;
  EXPECT_TRUE(SenmlCborToJson(B({0x81, 0x81, 0x81, 0x80}), limits).ok());
  auto deep = SenmlCborToJson(B({0x81, 0x81, 0x81, 0x81, 0x80}), limits);
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("nesting"), std::string::npos);

  limits = {};
  limits.max_items = 3;
  auto many = SenmlCborToJson(B({0x84, 0x01, 0x02, 0x03, 0x04}), limits);
  ASSERT_FALSE(many.ok());
  EXPECT_NE(many.status().message().find("data items"), std::string::npos);

  limits = {};
  limits.max_bytes = 4;
  auto big = SenmlCborToJson(B({0x84, 0x01, 0x02, 0x03, 0x04}), limits);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), Code::kTooLarge);
}

}  // namespace
}  // namespace bysans::ingest
