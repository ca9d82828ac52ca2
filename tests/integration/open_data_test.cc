// Open Data DK against the real server (issue 16): the public DCAT catalogue lists only
// published datasets with the Project Open Data v1.1 / DCAT-AP-DK fields; the latest and
// history distributions (JSON, CSV, paged) give the dataset's readings with units and quality;
// unpublished, deleted, unknown and other organisations' datasets are one 404; an application
// holding personal data cannot be published.
#include <chrono>
#include <set>

#include "backend_fixture.h"
#include "core/time_format.h"

namespace bysans::testing {
namespace {

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

// Seconds: two hours ago on a whole minute (older readings would be flagged late).
int64_t StartSeconds() {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  return (now - 7200) / 60 * 60;
}

// RFC 3339 of t0 + `s` seconds, as the API writes it.
std::string At(int64_t t0, int64_t s) { return FormatRfc3339((t0 + s) * 1000); }

class OpenDataTest : public BackendServerTest {
 protected:
  void SetUp() override {
    BackendServerTest::SetUp();
    t0_ = StartSeconds();
    a_ = CreateHttpDevice("Aarhus Kommune");
    // A device model whose range flags co2 above 5000 as out_of_range.
    auto model = admin_->PostJson(
        OrgPath() + "/device-models",
        {{"modelName", "CO2 sensor"},
         {"controlledProperty", {"co2"}},
         {"x-bysans-ranges", {{"co2", {{"min", 0}, {"max", 5000}, {"unit", "ppm"}}}}}});
    ASSERT_EQ(model.status, 201) << model.body;
    auto patch = admin_->Request("PATCH", "/api/v1/devices/" + std::to_string(a_.device_id),
                                 json{{"deviceModelId", model.Json()["id"]}}.dump(),
                                 {"Content-Type: application/json"});
    ASSERT_EQ(patch.status, 200) << patch.body;
    auto dev2 = admin_->PostJson(AppPath() + "/devices", {{"name", "Lokale 2"}});
    ASSERT_EQ(dev2.status, 201) << dev2.body;
    dev2_ = dev2.Json()["id"];
    dev2_key_ = dev2.Json()["apiKey"];
    // Device 1: five co2 readings (the third out of range) and a key the dataset leaves out.
    std::string senml = "[{\"bt\":" + std::to_string(t0_) +
                        ",\"n\":\"co2\",\"u\":\"ppm\",\"v\":600},"
                        R"({"n":"co2","u":"ppm","v":700,"t":60},)"
                        R"({"n":"co2","u":"ppm","v":9000,"t":120},)"
                        R"({"n":"co2","u":"ppm","v":800,"t":180},)"
                        R"({"n":"co2","u":"ppm","v":900,"t":240},)"
                        R"({"n":"occupants","v":3,"t":240}])";
    ASSERT_EQ(Ingest(a_.ingest_key, senml, "application/senml+json").status, 204);
    std::string senml2 = "[{\"bt\":" + std::to_string(t0_) +
                         ",\"n\":\"co2\",\"u\":\"ppm\",\"v\":500},"
                         R"({"n":"co2","u":"ppm","v":510,"t":60},)"
                         R"({"n":"co2","u":"ppm","v":520,"t":120}])";
    ASSERT_EQ(Ingest(dev2_key_, senml2, "application/senml+json").status, 204);
  }

  std::string OrgPath() const { return "/api/v1/organizations/" + std::to_string(a_.org_id); }
  std::string AppPath() const { return "/api/v1/applications/" + std::to_string(a_.app_id); }
  std::string Public(int64_t org) const {
    return "/api/v1/open-data-dk-sharing/" + std::to_string(org);
  }
  std::string PublicDataset(int64_t org, int64_t id) const {
    return Public(org) + "/datasets/" + std::to_string(id);
  }

  json Metadata() const {
    return {{"title", "Indeklima i skoler"},
            {"description", "CO2 i klasselokaler"},
            {"keywords", {"indeklima", "co2"}},
            {"themes", {"ENVI", "EDUC"}},
            {"license", "https://creativecommons.org/licenses/by/4.0/"},
            {"accrualPeriodicity", "R/PT1H"},
            {"contactName", "Teknik og Miljø"},
            {"contactEmail", "tm@aarhus.dk"},
            {"documentationUrl", "https://aarhus.dk/indeklima"}};
  }

  HttpResult Put(const std::string& path, const json& body) {
    return admin_->Request("PUT", path, body.dump(), {"Content-Type: application/json"});
  }

  // A published dataset of both devices, key co2 only.
  int64_t PublishedDataset() {
    json body = Metadata();
    body["deviceIds"] = {a_.device_id, dev2_};
    body["keys"] = {"co2"};
    auto r = admin_->PostJson(OrgPath() + "/open-data/datasets", body);
    EXPECT_EQ(r.status, 201) << r.body;
    int64_t id = r.Json().value("id", int64_t{0});
    auto pub = Put("/api/v1/open-data/datasets/" + std::to_string(id), {{"published", true}});
    EXPECT_EQ(pub.status, 200) << pub.body;
    EXPECT_TRUE(pub.Json()["issuedAt"].is_string()) << pub.body;
    return id;
  }

  // Follows the JSON history's `next` links from `first`; every item.
  std::vector<json> HistoryJson(HttpClient& anon, const std::string& first, int* pages) {
    std::vector<json> items;
    std::string path = first;
    for (*pages = 0; !path.empty() && *pages < 50; ++*pages) {
      auto r = anon.Get(path);
      EXPECT_EQ(r.status, 200) << path << " " << r.body;
      if (r.status != 200) break;
      const json body = r.Json();
      for (const json& i : body["items"]) items.push_back(i);
      const json& next = body["next"];
      path = next.is_string() ? next.get<std::string>().substr(server_->url().size()) : "";
    }
    return items;
  }

  int64_t t0_ = 0;
  DeviceHandle a_;
  int64_t dev2_ = 0;
  std::string dev2_key_;
};

BYSANS_ON_BOTH_STORES(OpenDataTest);

TEST_P(OpenDataTest, CatalogueListsOnlyPublishedDatasetsWithoutLogin) {
  HttpClient anon(server_->url());
  EXPECT_EQ(anon.Get(Public(a_.org_id)).status, 404);  // nothing published yet

  int64_t published = PublishedDataset();
  json draft = Metadata();
  draft["title"] = "Kladde";
  draft["applicationId"] = a_.app_id;
  auto d = admin_->PostJson(OrgPath() + "/open-data/datasets", draft);
  ASSERT_EQ(d.status, 201) << d.body;
  EXPECT_EQ(d.Json()["published"], false);

  auto r = anon.Get(Public(a_.org_id));
  ASSERT_EQ(r.status, 200) << r.body;
  json c = r.Json();
  EXPECT_EQ(c["@context"], "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld");
  EXPECT_EQ(c["@type"], "dcat:Catalog");
  EXPECT_EQ(c["conformsTo"], "https://project-open-data.cio.gov/v1.1/schema");
  EXPECT_EQ(c["describedBy"], "https://project-open-data.cio.gov/v1.1/schema/catalog.json");
  ASSERT_EQ(c["dataset"].size(), 1u) << r.body;
  const json& ds = c["dataset"][0];
  EXPECT_EQ(ds["@type"], "dcat:Dataset");
  EXPECT_EQ(ds["title"], "Indeklima i skoler");
  EXPECT_EQ(ds["description"], "CO2 i klasselokaler");
  EXPECT_EQ(ds["keyword"], json::array({"indeklima", "co2"}));
  EXPECT_EQ(ds["theme"], json::array({"ENVI", "EDUC"}));
  EXPECT_EQ(ds["accrualPeriodicity"], "R/PT1H");
  EXPECT_EQ(ds["license"], "https://creativecommons.org/licenses/by/4.0/");
  EXPECT_EQ(ds["landingPage"], "https://aarhus.dk/indeklima");
  EXPECT_EQ(ds["accessLevel"], "public");
  EXPECT_EQ(ds["publisher"]["name"], "Aarhus Kommune");
  EXPECT_EQ(ds["contactPoint"]["fn"], "Teknik og Miljø");
  EXPECT_EQ(ds["contactPoint"]["hasEmail"], "mailto:tm@aarhus.dk");
  EXPECT_TRUE(ds["issued"].is_string());
  EXPECT_TRUE(ds["modified"].is_string());
  EXPECT_EQ(ds["identifier"], server_->url() + PublicDataset(a_.org_id, published));
  ASSERT_EQ(ds["distribution"].size(), 3u);
  std::set<std::string> media;
  for (const json& dist : ds["distribution"]) {
    media.insert(dist["mediaType"].get<std::string>());
    EXPECT_EQ(dist["accessURL"], dist["downloadURL"]);
    // Every link works without login.
    std::string url = dist["downloadURL"];
    ASSERT_EQ(url.rfind(server_->url(), 0), 0u) << url;
    EXPECT_EQ(anon.Get(url.substr(server_->url().size())).status, 200) << url;
  }
  EXPECT_EQ(media, (std::set<std::string>{"application/json", "text/csv"}));

  // Cacheable: a short Cache-Control and an ETag that answers 304.
  EXPECT_EQ(r.headers["cache-control"], "public, max-age=60");
  ASSERT_FALSE(r.headers["etag"].empty());
  auto again = anon.Get(Public(a_.org_id), {"If-None-Match: " + r.headers["etag"]});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  // One dataset alone.
  auto one = anon.Get(PublicDataset(a_.org_id, published));
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.Json()["title"], "Indeklima i skoler");
}

TEST_P(OpenDataTest, LatestValuesShowTheDatasetsDevicesAndKeysWithUnitsAndQuality) {
  int64_t id = PublishedDataset();
  HttpClient anon(server_->url());
  auto r = anon.Get(PublicDataset(a_.org_id, id) + "/latest");
  ASSERT_EQ(r.status, 200) << r.body;
  json items = r.Json()["items"];
  ASSERT_EQ(items.size(), 2u) << r.body;
  EXPECT_EQ(items[0]["deviceId"], a_.device_id);
  EXPECT_EQ(items[0]["deviceName"], "Lokale 1");
  const json& co2 = items[0]["readings"]["co2"];
  EXPECT_EQ(co2["value"], 900);
  EXPECT_EQ(co2["unit"], "ppm");
  EXPECT_EQ(co2["quality"], "ok");
  EXPECT_EQ(co2["ts"], At(t0_, 240));
  EXPECT_FALSE(items[0]["readings"].contains("occupants")) << r.body;  // key not published
  EXPECT_EQ(items[1]["readings"]["co2"]["value"], 520);
  EXPECT_FALSE(r.headers["etag"].empty());
}

TEST_P(OpenDataTest, HistoryPagesAsJsonAndCsvWithUnitsAndQuality) {
  int64_t id = PublishedDataset();
  HttpClient anon(server_->url());
  const std::string range =
      "?from=" + std::to_string(t0_ * 1000) + "&to=" + std::to_string((t0_ + 3600) * 1000);
  int pages = 0;
  std::vector<json> items = HistoryJson(
      anon, PublicDataset(a_.org_id, id) + "/history.json" + range + "&limit=3", &pages);
  ASSERT_EQ(items.size(), 8u);  // 5 + 3 co2 readings, no occupants
  EXPECT_GE(pages, 3);
  std::set<std::pair<int64_t, std::string>> seen;
  int out_of_range = 0;
  for (const json& i : items) {
    EXPECT_EQ(i["key"], "co2");
    EXPECT_EQ(i["unit"], "ppm");
    seen.emplace(i["deviceId"].get<int64_t>(), i["ts"].get<std::string>());
    if (i["quality"] == "out_of_range") {
      ++out_of_range;
      EXPECT_EQ(i["value"], 9000);
    }
  }
  EXPECT_EQ(seen.size(), 8u);  // none twice
  EXPECT_EQ(out_of_range, 1);
  EXPECT_EQ(items[0]["value"], 900);  // newest first
  EXPECT_EQ(items[0]["ts"], At(t0_, 240));

  // A narrower range.
  auto narrow = anon.Get(PublicDataset(a_.org_id, id) +
                         "/history.json?from=" + std::to_string((t0_ + 60) * 1000) +
                         "&to=" + std::to_string((t0_ + 120) * 1000));
  ASSERT_EQ(narrow.status, 200) << narrow.body;
  EXPECT_EQ(narrow.Json()["items"].size(), 4u) << narrow.body;
  EXPECT_TRUE(narrow.Json()["next"].is_null());

  // CSV: the same rows, paged through Link rel="next".
  std::string path = PublicDataset(a_.org_id, id) + "/history.csv" + range + "&limit=5";
  std::string all;
  for (pages = 0; !path.empty() && pages < 20; ++pages) {
    auto csv = anon.Get(path);
    ASSERT_EQ(csv.status, 200) << csv.body;
    EXPECT_EQ(csv.headers["content-type"], "text/csv; charset=utf-8");
    EXPECT_EQ(csv.body.rfind("device_id,device_name,key,ts,value,unit,quality\r\n", 0), 0u);
    all += csv.body;
    const std::string link = csv.headers["link"];
    path.clear();
    if (!link.empty()) {
      ASSERT_EQ(link.front(), '<') << link;
      path = link.substr(1, link.find('>') - 1).substr(server_->url().size());
    }
  }
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(std::count(all.begin(), all.end(), '\n'), 8 + 2);  // rows + a header per page
  EXPECT_NE(all.find(",co2," + At(t0_, 120) + ",9000,ppm,out_of_range\r\n"), std::string::npos)
      << all;
  EXPECT_EQ(all.find("occupants"), std::string::npos);

  // The page size is capped and checked.
  EXPECT_EQ(anon.Get(PublicDataset(a_.org_id, id) + "/history.json?limit=100000").status, 400);
  EXPECT_EQ(anon.Get(PublicDataset(a_.org_id, id) + "/history.json?limit=0").status, 400);
  EXPECT_EQ(anon.Get(PublicDataset(a_.org_id, id) + "/history.json?cursor=zzz").status, 400);
  EXPECT_EQ(anon.Get(PublicDataset(a_.org_id, id) + "/history.json?from=5&to=4").status, 400);
}

TEST_P(OpenDataTest, UnpublishedDeletedUnknownAndOtherOrganisationsDatasetsAreOne404) {
  int64_t id = PublishedDataset();
  DeviceHandle other = CreateHttpDevice("Odense Kommune");
  HttpClient anon(server_->url());
  const std::vector<std::string> tails = {"", "/latest", "/history.csv", "/history.json"};
  auto all_404 = [&](int64_t org, int64_t ds, const std::string& why) {
    for (const std::string& tail : tails) {
      auto r = anon.Get(PublicDataset(org, ds) + tail);
      EXPECT_EQ(r.status, 404) << why << " " << tail << " " << r.body;
      EXPECT_EQ(r.Json()["error"]["code"], "not_found") << r.body;
    }
  };
  for (const std::string& tail : tails) {
    EXPECT_EQ(anon.Get(PublicDataset(a_.org_id, id) + tail).status, 200) << tail;
  }
  all_404(other.org_id, id, "another organisation's path");
  all_404(a_.org_id, id + 1000, "unknown id");
  all_404(999999, id, "unknown organisation");
  EXPECT_EQ(anon.Get(Public(999999)).status, 404);
  EXPECT_EQ(anon.Get(Public(other.org_id)).status, 404);  // nothing published there

  ASSERT_EQ(Put("/api/v1/open-data/datasets/" + std::to_string(id), {{"published", false}}).status,
            200);
  all_404(a_.org_id, id, "unpublished");
  EXPECT_EQ(anon.Get(Public(a_.org_id)).status, 404);

  ASSERT_EQ(Put("/api/v1/open-data/datasets/" + std::to_string(id), {{"published", true}}).status,
            200);
  EXPECT_EQ(anon.Get(PublicDataset(a_.org_id, id)).status, 200);
  ASSERT_EQ(admin_->Request("DELETE", "/api/v1/open-data/datasets/" + std::to_string(id)).status,
            204);
  all_404(a_.org_id, id, "deleted");
  EXPECT_EQ(admin_->Get("/api/v1/open-data/datasets/" + std::to_string(id)).status, 404);
}

TEST_P(OpenDataTest, PersonalDataApplicationsCannotBePublished) {
  auto flag = admin_->Request("PATCH", AppPath(), json{{"personalData", true}}.dump(),
                              {"Content-Type: application/json"});
  ASSERT_EQ(flag.status, 200) << flag.body;
  EXPECT_EQ(flag.Json()["personalData"], true);

  json by_app = Metadata();
  by_app["applicationId"] = a_.app_id;
  by_app["published"] = true;
  auto r = admin_->PostJson(OrgPath() + "/open-data/datasets", by_app);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.Json()["error"]["message"].get<std::string>().find("personal data"),
            std::string::npos)
      << r.body;
  json by_device = Metadata();
  by_device["deviceIds"] = {a_.device_id};
  r = admin_->PostJson(OrgPath() + "/open-data/datasets", by_device);
  EXPECT_EQ(r.status, 400) << r.body;
  HttpClient anon(server_->url());
  EXPECT_EQ(anon.Get(Public(a_.org_id)).status, 404);

  // Without the flag it publishes; the flag cannot then be set while the dataset covers it.
  ASSERT_EQ(admin_
                ->Request("PATCH", AppPath(), json{{"personalData", false}}.dump(),
                          {"Content-Type: application/json"})
                .status,
            200);
  int64_t id = PublishedDataset();
  auto refused = admin_->Request("PATCH", AppPath(), json{{"personalData", true}}.dump(),
                                 {"Content-Type: application/json"});
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(admin_->Get(AppPath()).Json()["personalData"], false);
  EXPECT_EQ(anon.Get(PublicDataset(a_.org_id, id) + "/latest").status, 200);
  ASSERT_EQ(admin_->Request("DELETE", "/api/v1/open-data/datasets/" + std::to_string(id)).status,
            204);
  EXPECT_EQ(admin_
                ->Request("PATCH", AppPath(), json{{"personalData", true}}.dump(),
                          {"Content-Type: application/json"})
                .status,
            200);
}

TEST_P(OpenDataTest, DefinitionsAreValidated) {
  json bad = Metadata();
  bad["deviceIds"] = {a_.device_id};
  bad["themes"] = {"Miljø"};
  EXPECT_EQ(admin_->PostJson(OrgPath() + "/open-data/datasets", bad).status, 400);
  bad = Metadata();
  EXPECT_EQ(admin_->PostJson(OrgPath() + "/open-data/datasets", bad).status, 400);  // no devices
  bad["deviceIds"] = {a_.device_id};
  bad["applicationId"] = a_.app_id;
  EXPECT_EQ(admin_->PostJson(OrgPath() + "/open-data/datasets", bad).status, 400);  // both
  bad = Metadata();
  bad["deviceIds"] = {a_.device_id};
  bad["surprise"] = 1;
  EXPECT_EQ(admin_->PostJson(OrgPath() + "/open-data/datasets", bad).status, 400);
  auto list = admin_->Get(OrgPath() + "/open-data/datasets");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.Json()["items"].size(), 0u);
}

// With http.public_url the catalogue's links start with it (a proxy in front of bysans).
class OpenDataPublicUrlTest : public OpenDataTest {
 protected:
  void SetUp() override {
    server_env_.push_back("BYSANS_HTTP_PUBLIC_URL=https://data.kommune.dk/");
    OpenDataTest::SetUp();
  }
};

BYSANS_ON_BOTH_STORES(OpenDataPublicUrlTest);

TEST_P(OpenDataPublicUrlTest, LinksUseThePublicUrl) {
  int64_t id = PublishedDataset();
  HttpClient anon(server_->url());
  auto r = anon.Get(Public(a_.org_id), {"Host: evil.example"});
  ASSERT_EQ(r.status, 200) << r.body;
  const json ds = r.Json()["dataset"][0];
  EXPECT_EQ(ds["identifier"], "https://data.kommune.dk/api/v1/open-data-dk-sharing/" +
                                  std::to_string(a_.org_id) + "/datasets/" + std::to_string(id));
  EXPECT_EQ(r.body.find("evil"), std::string::npos) << r.body;
  for (const json& dist : ds["distribution"]) {
    EXPECT_EQ(dist["downloadURL"].get<std::string>().rfind("https://data.kommune.dk/api/v1/", 0),
              0u)
        << dist;
  }
}

}  // namespace
}  // namespace bysans::testing
