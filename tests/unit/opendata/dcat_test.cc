// The DCAT mapping (opendata/dcat.h): the data.json shape of Project Open Data v1.1 that Open
// Data DK harvests, with the DCAT-AP-DK fields.
#include "opendata/dcat.h"

#include <gtest/gtest.h>

namespace bysans::opendata {
namespace {

using json = nlohmann::json;

OpenDataset Sample() {
  OpenDataset d;
  d.id = 7;
  d.org_id = 3;
  d.published = true;
  d.title = "Luftkvalitet";
  d.description = "NO2 og PM10 fra byens sensorer";
  d.keywords = {"luft", "miljø"};
  d.themes = {"ENVI", "HEAL"};
  d.license = "https://creativecommons.org/licenses/by/4.0/";
  d.accrual_periodicity = "R/PT1H";
  d.contact_name = "Miljøafdelingen";
  d.contact_email = "miljo@kommune.dk";
  d.documentation_url = "https://kommune.dk/luft";
  d.created_ms = 1'700'000'000'000;
  d.updated_ms = 1'700'000'100'000;
  d.issued_ms = 1'700'000'050'000;
  return d;
}

TEST(DcatTest, CatalogHasThePodV11Header) {
  json c = CatalogJson({3, "Aarhus Kommune", 0, 100}, {Sample()}, "https://iot.example.dk");
  EXPECT_EQ(c["@context"], "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld");
  EXPECT_EQ(c["@type"], "dcat:Catalog");
  EXPECT_EQ(c["conformsTo"], "https://project-open-data.cio.gov/v1.1/schema");
  EXPECT_EQ(c["describedBy"], "https://project-open-data.cio.gov/v1.1/schema/catalog.json");
  ASSERT_EQ(c["dataset"].size(), 1u);
}

TEST(DcatTest, DatasetCarriesTheRequiredAndDcatApDkFields) {
  json d = DatasetJson({3, "Aarhus Kommune", 0, 100}, Sample(), "https://iot.example.dk");
  EXPECT_EQ(d["@type"], "dcat:Dataset");
  EXPECT_EQ(d["identifier"], "https://iot.example.dk/api/v1/open-data-dk-sharing/3/datasets/7");
  EXPECT_EQ(d["title"], "Luftkvalitet");
  EXPECT_EQ(d["description"], "NO2 og PM10 fra byens sensorer");
  EXPECT_EQ(d["keyword"], json::array({"luft", "miljø"}));
  EXPECT_EQ(d["issued"], "2023-11-14T22:14:10.000Z");
  EXPECT_EQ(d["modified"], "2023-11-14T22:15:00.000Z");
  EXPECT_EQ(d["publisher"]["name"], "Aarhus Kommune");
  EXPECT_EQ(d["contactPoint"]["@type"], "vcard:Contact");
  EXPECT_EQ(d["contactPoint"]["fn"], "Miljøafdelingen");
  EXPECT_EQ(d["contactPoint"]["hasEmail"], "mailto:miljo@kommune.dk");
  EXPECT_EQ(d["accessLevel"], "public");
  EXPECT_EQ(d["license"], "https://creativecommons.org/licenses/by/4.0/");
  EXPECT_EQ(d["theme"], json::array({"ENVI", "HEAL"}));
  EXPECT_EQ(d["accrualPeriodicity"], "R/PT1H");
  EXPECT_EQ(d["landingPage"], "https://kommune.dk/luft");
  EXPECT_EQ(d["references"], json::array({"https://kommune.dk/luft"}));
  EXPECT_FALSE(d.contains("spatial"));
}

TEST(DcatTest, DistributionsAreLatestAndHistoryWithMediaTypes) {
  json d = DatasetJson({3, "Aarhus Kommune", 0, 100}, Sample(), "https://iot.example.dk");
  const std::string root = "https://iot.example.dk/api/v1/open-data-dk-sharing/3/datasets/7";
  ASSERT_EQ(d["distribution"].size(), 3u);
  const json& latest = d["distribution"][0];
  EXPECT_EQ(latest["@type"], "dcat:Distribution");
  EXPECT_EQ(latest["mediaType"], "application/json");
  EXPECT_EQ(latest["format"], "JSON");
  EXPECT_EQ(latest["accessURL"], root + "/latest");
  EXPECT_EQ(latest["downloadURL"], root + "/latest");
  EXPECT_EQ(latest["license"], "https://creativecommons.org/licenses/by/4.0/");
  EXPECT_EQ(d["distribution"][1]["mediaType"], "text/csv");
  EXPECT_EQ(d["distribution"][1]["downloadURL"], root + "/history.csv");
  EXPECT_EQ(d["distribution"][2]["mediaType"], "application/json");
  EXPECT_EQ(d["distribution"][2]["downloadURL"], root + "/history.json");
  for (const json& dist : d["distribution"]) EXPECT_FALSE(dist["title"].get<std::string>().empty());
}

TEST(DcatTest, IssuedFallsBackToCreationAndEmptyOptionalsAreLeftOut) {
  OpenDataset s = Sample();
  s.issued_ms.reset();
  s.documentation_url.clear();
  s.spatial = "Aarhus";
  json d = DatasetJson({3, "A", 0, 100}, s, "");
  EXPECT_EQ(d["issued"], "2023-11-14T22:13:20.000Z");
  EXPECT_FALSE(d.contains("landingPage"));
  EXPECT_FALSE(d.contains("references"));
  EXPECT_EQ(d["spatial"], "Aarhus");
  EXPECT_EQ(d["identifier"], "/api/v1/open-data-dk-sharing/3/datasets/7");
}

TEST(DcatTest, EmptyCatalogHasAnEmptyDatasetList) {
  json c = CatalogJson({3, "A", 0, 100}, {}, "");
  EXPECT_TRUE(c["dataset"].is_array());
  EXPECT_TRUE(c["dataset"].empty());
}

}  // namespace
}  // namespace bysans::opendata
