// The rules for a dataset's metadata (opendata/metadata.h).
#include "opendata/metadata.h"

#include <gtest/gtest.h>

#include <functional>
#include <utility>
#include <vector>

namespace bysans::opendata {
namespace {

OpenDataset Valid() {
  OpenDataset d;
  d.title = "Parkering";
  d.license = "https://creativecommons.org/licenses/by/4.0/";
  d.accrual_periodicity = "irregular";
  d.contact_name = "Trafik";
  d.contact_email = "trafik@kommune.dk";
  d.themes = {"TRAN"};
  return d;
}

void ExpectInvalid(const OpenDataset& d, const std::string& field) {
  Status s = ValidateMetadata(d);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << field;
  EXPECT_NE(s.message().find(field), std::string::npos) << s.message();
}

TEST(MetadataTest, ThemesAreTheEuCodes) {
  for (const char* t : {"AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST",
                        "OP_DATPRO", "REGI", "SOCI", "TECH", "TRAN"}) {
    EXPECT_TRUE(IsThemeCode(t)) << t;
  }
  EXPECT_FALSE(IsThemeCode("envi"));
  EXPECT_FALSE(IsThemeCode("Environment"));
  EXPECT_FALSE(IsThemeCode(""));
}

TEST(MetadataTest, PeriodicityIsIrregularOrARepeatingDuration) {
  for (const char* p : {"irregular", "R/PT1H", "R/P1D", "R/P1W", "R/P1M", "R/P1Y", "R/P0.5M",
                        "R/PT1S", "R/P3.5D", "R/P1DT12H"}) {
    EXPECT_TRUE(IsAccrualPeriodicity(p)) << p;
  }
  for (const char* p : {"", "hourly", "PT1H", "R/P", "R/PT", "R/P1H", "R/PT1D", "R/P1", "R/P1DT",
                        "R/PTH", "R/P1D;x"}) {
    EXPECT_FALSE(IsAccrualPeriodicity(p)) << p;
  }
}

TEST(MetadataTest, ValidMetadataPasses) { EXPECT_TRUE(ValidateMetadata(Valid()).ok()); }

TEST(MetadataTest, EachRuleNamesItsField) {
  const std::vector<std::pair<std::string, std::function<void(OpenDataset&)>>> cases = {
      {"title", [](OpenDataset& d) { d.title.clear(); }},
      {"title", [](OpenDataset& d) { d.title.assign(201, 'x'); }},
      {"themes", [](OpenDataset& d) { d.themes = {"TRAFFIC"}; }},
      {"license", [](OpenDataset& d) { d.license = "CC-BY"; }},
      {"license", [](OpenDataset& d) { d.license = "javascript:alert(1)"; }},
      {"accrualPeriodicity", [](OpenDataset& d) { d.accrual_periodicity = "sometimes"; }},
      {"contactEmail", [](OpenDataset& d) { d.contact_email = "nobody"; }},
      {"contactName", [](OpenDataset& d) { d.contact_name.clear(); }},
      {"documentationUrl", [](OpenDataset& d) { d.documentation_url = "ftp://x"; }},
      {"keywords", [](OpenDataset& d) { d.keywords = {""}; }},
      {"keys", [](OpenDataset& d) { d.keys.assign(51, "k"); }},
  };
  for (const auto& [field, spoil] : cases) {
    OpenDataset d = Valid();
    spoil(d);
    ExpectInvalid(d, field);
  }
}

}  // namespace
}  // namespace bysans::opendata
