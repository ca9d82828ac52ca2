// Public dashboards against the real server (issue 21 §4): an admin makes a dashboard public only
// when every value it reads is in a published open dataset of the organisation (a key outside the
// dataset, an alarm list, a map and a device of a dataset that is not published are refused with
// a 400 naming the widget); without any cookie or key the public layout and data answer 200 with
// the name, the device names and the values (latest and bucket averages), cacheable; after the
// dataset is unpublished the data leaves the device out; an unpublished dashboard is 404.
#include <chrono>

#include "backend_fixture.h"

namespace bysans::testing {
namespace {

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

class PublicDashboardTest : public BackendServerTest {
 protected:
  void SetUp() override {
    BackendServerTest::SetUp();
    a_ = CreateHttpDevice("Aarhus Kommune");
    auto dev2 = admin_->PostJson(AppPath() + "/devices", {{"name", "Lokale 2"}});
    ASSERT_EQ(dev2.status, 201) << dev2.body;
    dev2_ = dev2.Json()["id"];
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const int64_t t0 = (now - 75 * 60) / 900 * 900;  // on a quarter hour, 75 to 90 minutes ago
    const std::string senml = "[{\"bt\":" + std::to_string(t0) +
                              ",\"n\":\"co2\",\"u\":\"ppm\",\"v\":600},"
                              R"({"n":"co2","u":"ppm","v":800,"t":60},)"
                              R"({"n":"co2","u":"ppm","v":900,"t":1800},)"
                              R"({"n":"occupants","v":3,"t":1800}])";
    ASSERT_EQ(Ingest(a_.ingest_key, senml, "application/senml+json").status, 204);
    dataset_ = Dataset({a_.device_id}, true);
  }

  std::string OrgPath() const { return "/api/v1/organizations/" + std::to_string(a_.org_id); }
  std::string AppPath() const { return "/api/v1/applications/" + std::to_string(a_.app_id); }
  static std::string DashboardPath(int64_t id) {
    return "/api/v1/dashboards/" + std::to_string(id);
  }
  static std::string PublicPath(int64_t id) {
    return "/api/v1/public/dashboards/" + std::to_string(id);
  }
  HttpResult Put(const std::string& path, const json& body) {
    return admin_->Request("PUT", path, body.dump(), {"Content-Type: application/json"});
  }

  // A dataset of `devices`, key co2 only, published or not.
  int64_t Dataset(const std::vector<int64_t>& devices, bool published) {
    auto r = admin_->PostJson(OrgPath() + "/open-data/datasets",
                              {{"title", "Indeklima"},
                               {"deviceIds", devices},
                               {"keys", {"co2"}},
                               {"license", "https://creativecommons.org/licenses/by/4.0/"},
                               {"contactName", "IoT"},
                               {"contactEmail", "iot@aarhus.dk"}});
    EXPECT_EQ(r.status, 201) << r.body;
    const int64_t id = r.Json().value("id", int64_t{0});
    if (published) {
      EXPECT_EQ(
          Put("/api/v1/open-data/datasets/" + std::to_string(id), {{"published", true}}).status,
          200);
    }
    return id;
  }

  json Tile(int64_t device, const std::string& key) const {
    return {{"type", "latest"}, {"deviceId", device}, {"key", key}};
  }
  json Covered() const {
    return {{"widgets",
             {Tile(a_.device_id, "co2"),
              {{"type", "timeseries"},
               {"period", "24h"},
               {"series", {{{"deviceId", a_.device_id}, {"key", "co2"}}}}}}}};
  }
  int64_t CreateDashboard(const json& layout) {
    auto r =
        admin_->PostJson(OrgPath() + "/dashboards", {{"name", "Skolens luft"}, {"layout", layout}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("id", int64_t{0});
  }

  DeviceHandle a_;
  int64_t dev2_ = 0;
  int64_t dataset_ = 0;
};

BYSANS_ON_BOTH_STORES(PublicDashboardTest);

TEST_P(PublicDashboardTest, PublishingIsRefusedForWhatNoPublishedDatasetCovers) {
  const int64_t id = CreateDashboard(Covered());
  Dataset({dev2_}, false);  // dev2's co2 is in a dataset, but that one is not published
  const json app_map = {{"type", "map"}, {"applicationId", a_.app_id}};
  const std::pair<json, std::string> refused[] = {
      {Tile(a_.device_id, "occupants"), "key 'occupants'"},
      {{{"type", "alarms"}}, "alarms widget"},
      {app_map, "map widget"},
      {Tile(dev2_, "co2"), "deviceId " + std::to_string(dev2_)},
      {{{"type", "table"}, {"deviceIds", {a_.device_id, dev2_}}, {"keys", {"co2"}}},
       "deviceId " + std::to_string(dev2_)}};
  for (const auto& [widget, named] : refused) {
    json layout = Covered();
    layout["widgets"].push_back(widget);
    auto r = Put(DashboardPath(id), {{"public", true}, {"layout", layout}});
    EXPECT_EQ(r.status, 400) << widget.dump() << " " << r.body;
    const std::string message = r.Json()["error"].value("message", "");
    EXPECT_NE(message.find("widget 3"), std::string::npos) << message;
    EXPECT_NE(message.find(named), std::string::npos) << message;
  }
  auto get = admin_->Get(DashboardPath(id));
  EXPECT_EQ(get.Json()["public"], false) << get.body;
  HttpClient anon(server_->url());
  EXPECT_EQ(anon.Get(PublicPath(id)).status, 404);
  // Covered: accepted, listed and read with "public", and audited.
  auto ok = Put(DashboardPath(id), {{"public", true}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Json()["public"], true);
  EXPECT_EQ(admin_->Get(DashboardPath(id)).Json()["public"], true);
  EXPECT_EQ(admin_->Get(OrgPath() + "/dashboards").Json()["items"][0]["public"], true);
  auto audit = admin_->Get("/api/v1/audit?limit=1000&orgId=" + std::to_string(a_.org_id));
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_NE(audit.body.find("\"publish\""), std::string::npos) << audit.body;
}

TEST_P(PublicDashboardTest, AnyoneReadsAPublicDashboardUntilItsDataOrItIsUnpublished) {
  json layout = Covered();
  layout["widgets"].push_back(
      {{"type", "gauge"}, {"deviceId", a_.device_id}, {"key", "co2"}, {"min", 0}, {"max", 2000}});
  const int64_t id = CreateDashboard(layout);
  ASSERT_EQ(Put(DashboardPath(id), {{"public", true}}).status, 200);

  HttpClient anon(server_->url());  // no cookie, no key
  auto page = anon.Get(PublicPath(id));
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.Json()["name"], "Skolens luft");
  EXPECT_EQ(page.Json()["layout"]["widgets"].size(), 3u);
  EXPECT_EQ(page.Json()["devices"], json::array({{{"id", a_.device_id}, {"name", "Lokale 1"}}}));
  EXPECT_FALSE(page.Json().contains("orgId")) << page.body;
  EXPECT_EQ(page.headers["cache-control"], "public, max-age=60");

  auto data = anon.Get(PublicPath(id) + "/data");
  ASSERT_EQ(data.status, 200) << data.body;
  const json d = data.Json();
  const json& latest = d["latest"][std::to_string(a_.device_id)];
  EXPECT_EQ(latest["co2"]["value"], 900) << data.body;
  EXPECT_EQ(latest["co2"]["unit"], "ppm");
  EXPECT_FALSE(latest.contains("occupants")) << data.body;  // not read by a widget, not published
  ASSERT_EQ(d["series"].size(), 1u) << data.body;
  EXPECT_EQ(d["series"][0]["widget"], 1);
  EXPECT_EQ(d["series"][0]["bucket"], "15m");
  // 600 and 800 in the first quarter hour, 900 half an hour later.
  ASSERT_EQ(d["series"][0]["items"].size(), 2u) << data.body;
  EXPECT_EQ(d["series"][0]["items"][0]["avg"], 700);
  EXPECT_EQ(d["series"][0]["items"][1]["avg"], 900);
  ASSERT_FALSE(data.headers["etag"].empty());
  EXPECT_EQ(anon.Get(PublicPath(id) + "/data", {"If-None-Match: " + data.headers["etag"]}).status,
            304);

  // The dataset is unpublished: the device's values and name are left out at once.
  ASSERT_EQ(
      Put("/api/v1/open-data/datasets/" + std::to_string(dataset_), {{"published", false}}).status,
      200);
  data = anon.Get(PublicPath(id) + "/data");
  ASSERT_EQ(data.status, 200) << data.body;
  EXPECT_EQ(data.Json()["latest"], json::object()) << data.body;
  EXPECT_EQ(data.Json()["series"], json::array()) << data.body;
  EXPECT_EQ(anon.Get(PublicPath(id)).Json()["devices"], json::array());

  // Unpublishing the dashboard (nothing to cover): the same 404 as an unknown id.
  ASSERT_EQ(Put(DashboardPath(id), {{"public", false}}).status, 200);
  auto gone = anon.Get(PublicPath(id));
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(anon.Get(PublicPath(id) + "/data").status, 404);
  auto unknown = anon.Get(PublicPath(id + 1000));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(gone.Json()["error"]["code"], unknown.Json()["error"]["code"]);
}

}  // namespace
}  // namespace bysans::testing
