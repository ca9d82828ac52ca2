#include "ngsild/units.h"

#include <gtest/gtest.h>

#include "ngsild/catalogue.h"

namespace bysans::ngsild {
namespace {

class UnitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Catalogue::Embedded();
    ASSERT_TRUE(c.ok()) << c.status().message();
    catalogue_ = std::make_unique<Catalogue>(std::move(c).value());
  }
  std::string Code(std::string_view symbol) {
    const Unit* u = catalogue_->units().Find(symbol);
    return u ? u->code : "";
  }
  std::unique_ptr<Catalogue> catalogue_;
};

TEST_F(UnitsTest, CommonUnitsHaveTheirCefactCodes) {
  EXPECT_EQ(Code("°C"), "CEL");
  EXPECT_EQ(Code("%"), "P1");
  EXPECT_EQ(Code("ppm"), "59");
  EXPECT_EQ(Code("µg/m³"), "GQ");
  EXPECT_EQ(Code("ug/m3"), "GQ");
  EXPECT_EQ(Code("hPa"), "A97");
  EXPECT_EQ(Code("Pa"), "PAL");
  EXPECT_EQ(Code("m"), "MTR");
  EXPECT_EQ(Code("cm"), "CMT");
  EXPECT_EQ(Code("mm"), "MMT");
  EXPECT_EQ(Code("V"), "VLT");
  EXPECT_EQ(Code("mV"), "2Z");
  EXPECT_EQ(Code("lx"), "LUX");
  EXPECT_EQ(Code("m³"), "MTQ");
  EXPECT_EQ(Code("L"), "LTR");
  EXPECT_EQ(Code("dB"), "2N");
  EXPECT_EQ(Code("s"), "SEC");
  EXPECT_EQ(Code("W"), "WTT");
  EXPECT_EQ(Code("kWh"), "KWH");
  EXPECT_EQ(Code("m/s"), "MTS");
  EXPECT_EQ(Code("km/h"), "KMH");
  EXPECT_EQ(Code("°"), "DD");
  EXPECT_EQ(Code("CEL"), "CEL");  // a code is its own symbol
  EXPECT_EQ(Code("furlong"), "");
}

TEST_F(UnitsTest, ConvertsWithinAQuantityOnly) {
  const UnitTable& u = catalogue_->units();
  EXPECT_DOUBLE_EQ(*UnitTable::Convert(96412, *u.Find("Pa"), *u.Find("hPa")), 964.12);
  EXPECT_DOUBLE_EQ(*UnitTable::Convert(41, *u.Find("%"), *u.Find("1")), 0.41);
  EXPECT_NEAR(*UnitTable::Convert(300, *u.Find("K"), *u.Find("°C")), 26.85, 1e-9);
  EXPECT_NEAR(*UnitTable::Convert(212, *u.Find("°F"), *u.Find("°C")), 100, 1e-9);
  EXPECT_NEAR(*UnitTable::Convert(36, *u.Find("km/h"), *u.Find("m/s")), 10, 1e-9);
  EXPECT_FALSE(UnitTable::Convert(1, *u.Find("Pa"), *u.Find("°C")).has_value());
}

TEST(UnitTableTest, RefusesASymbolGivenTwice) {
  auto t = UnitTable::FromJson(nlohmann::json::parse(
      R"({"units":[{"code":"A","quantity":"q","symbols":["x"]},
                   {"code":"B","quantity":"q","symbols":["x"]}]})"));
  EXPECT_FALSE(t.ok());
}

}  // namespace
}  // namespace bysans::ngsild
