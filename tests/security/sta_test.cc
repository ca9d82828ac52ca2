// SensorThings API (issue 17): organisation B (the attacker) must not see anything of
// organisation A through any resource path, $expand, $filter, $count or $ref, and malformed
// query options are refused with 400 while the server keeps serving.
#include <set>

#include "integration/sta_fixture.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

class StaSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    // A: a located device with a device model, a secret key and positive results.
    auto model = admin_->PostJson(a_.OrgPath() + "/device-models",
                                  {{"name", "Secret model A"}, {"controlledProperty", {"x"}}});
    ASSERT_EQ(model.status, 201) << model.body;
    model_a_ = model.Json()["id"].get<int64_t>();
    auto patch = Send(*a_.admin.client, "PATCH", a_.DevicePath(),
                      {{"location", {{"lat", 56.1}, {"lon", 10.2}}}, {"deviceModelId", model_a_}});
    ASSERT_EQ(patch.status, 200) << patch.body;
    for (int i = 0; i < 3; ++i) {
      json body = {{"ts", kStaT0 + i * kStaStep}, {"temperature", 50 + i}, {"secret_a", 100 + i}};
      ASSERT_EQ(Ingest(a_.device.ingest_key, body.dump()).status, 204);
    }
    // B: negative temperatures only, no model, no location.
    for (int i = 0; i < 2; ++i) {
      json body = {{"ts", kStaT0 + i * kStaStep}, {"temperature", -5 - i}};
      ASSERT_EQ(Ingest(b_.device.ingest_key, body.dump()).status, 204);
    }
    ds_a_ = DatastreamId(*a_.viewer.client, a_.device.device_id, "temperature");
    secret_ds_a_ = DatastreamId(*a_.viewer.client, a_.device.device_id, "secret_a");
    ds_b_ = DatastreamId(*b_.viewer.client, b_.device.device_id, "temperature");
  }

  // Every entity found anywhere in the JSON (also inside expansions), by its selfLink's path.
  static void Ids(const json& j, std::set<std::string>& out) {
    if (j.is_object()) {
      for (auto& [k, v] : j.items()) {
        if (k == "@iot.selfLink")
          out.insert(v.get<std::string>().substr(v.get<std::string>().find("/sta/")));
        Ids(v, out);
      }
    } else if (j.is_array()) {
      for (const json& v : j) Ids(v, out);
    }
  }

  int64_t model_a_ = 0, ds_a_ = 0, secret_ds_a_ = 0, ds_b_ = 0;
};

TEST_F(StaSecurityTest, OtherOrganisationsEntitiesAre404OnEveryPath) {
  const std::string thing_a = "Things(" + std::to_string(a_.device.device_id) + ")";
  const std::string dev_a = std::to_string(a_.device.device_id);
  const std::string obs_a = "Observations('" + ObservationId(ds_a_, kStaT0) + "')";
  // A's Location (an entry of its device's location history: ids of their own).
  json locations_a = StaGet(*a_.viewer.client, thing_a + "/Locations").second["value"];
  ASSERT_EQ(locations_a.size(), 1u);
  const std::string loc_a = std::to_string(locations_a[0]["@iot.id"].get<int64_t>());
  const std::vector<std::string> paths = {
      thing_a,
      thing_a + "/Datastreams",
      thing_a + "/name/$value",
      "Datastreams(" + std::to_string(ds_a_) + ")",
      "Datastreams(" + std::to_string(ds_a_) + ")/Observations",
      "Datastreams(" + std::to_string(secret_ds_a_) + ")/Thing",
      obs_a,
      obs_a + "/result/$value",
      obs_a + "/FeatureOfInterest",
      "Locations(" + loc_a + ")",
      "HistoricalLocations(" + loc_a + ")",
      "Locations(" + loc_a + ")/Things",
      "FeaturesOfInterest(" + dev_a + ")/Observations",
      "Sensors(" + std::to_string(model_a_) + ")",
      "ObservedProperties('secret_a')",
      "ObservedProperties('secret_a')/Datastreams",
      thing_a + "/Datastreams/$ref",
  };
  for (const std::string& path : paths) {
    auto [status, body] = StaGet(*b_.viewer.client, path);
    EXPECT_EQ(status, 404) << "B read " << path << ": " << body.dump();
    // The legitimate use works: A's viewer reads the same path.
    EXPECT_EQ(StaGet(*a_.viewer.client, path).first, 200) << "A cannot read " << path;
  }
  // A's Datastream under B's Thing: 404 for B (and for A, who cannot see B's Thing).
  EXPECT_EQ(StaGet(*b_.viewer.client, "Things(" + std::to_string(b_.device.device_id) +
                                          ")/Datastreams(" + std::to_string(ds_a_) + ")")
                .first,
            404);
}

TEST_F(StaSecurityTest, ListingsCountsAndRefsHoldOnlyTheCallersEntities) {
  for (const char* set : {"Things", "Locations", "HistoricalLocations", "Datastreams", "Sensors",
                          "ObservedProperties", "Observations", "FeaturesOfInterest"}) {
    auto [status, body] = StaGet(*b_.viewer.client, set, {{"$count", "true"}});
    ASSERT_EQ(status, 200) << set << ": " << body.dump();
    std::string text = body.dump();
    EXPECT_EQ(text.find("secret_a"), std::string::npos) << set << ": " << text;
    EXPECT_EQ(text.find("Secret model A"), std::string::npos) << set << ": " << text;
    EXPECT_EQ(text.find("56.1"), std::string::npos) << set << ": " << text;
  }
  EXPECT_EQ(StaGet(*b_.viewer.client, "Things", {{"$count", "true"}}).second["@iot.count"], 1);
  EXPECT_EQ(StaGet(*b_.viewer.client, "Observations", {{"$count", "true"}}).second["@iot.count"],
            2);
  EXPECT_EQ(StaGet(*a_.viewer.client, "Observations", {{"$count", "true"}}).second["@iot.count"],
            6);
  json refs = StaGet(*b_.viewer.client, "Datastreams/$ref").second;
  ASSERT_EQ(refs["value"].size(), 1u);
  EXPECT_NE(refs["value"][0]["@iot.selfLink"].get<std::string>().find("Datastreams(" +
                                                                      std::to_string(ds_b_) + ")"),
            std::string::npos);
}

TEST_F(StaSecurityTest, ExpandNeverReachesAnotherOrganisation) {
  std::set<std::string> ids_a;
  for (const char* set : {"Things", "Locations", "HistoricalLocations", "Sensors",
                          "ObservedProperties", "FeaturesOfInterest"})
    Ids(StaGet(*a_.viewer.client, set).second, ids_a);
  Ids(StaGet(*a_.viewer.client, "Datastreams", {{"$expand", "Observations"}}).second, ids_a);
  ASSERT_GT(ids_a.size(), 8u);
  for (const auto& [path, expand] : std::vector<std::pair<std::string, std::string>>{
           {"Things", "Datastreams/Observations,Locations,HistoricalLocations"},
           {"ObservedProperties('temperature')", "Datastreams($expand=Thing,Observations)"},
           {"Sensors", "Datastreams/Observations/FeatureOfInterest"},
           {"FeaturesOfInterest", "Observations/Datastream/Thing"}}) {
    auto [status, body] = StaGet(*b_.viewer.client, path, {{"$expand", expand}});
    ASSERT_EQ(status, 200) << path << "?$expand=" << expand << ": " << body.dump();
    std::set<std::string> got;
    Ids(body, got);
    EXPECT_FALSE(got.empty()) << path;
    for (const std::string& id : got) {
      // Entities shared by name (the key "temperature", the unknown sensor) are fine.
      if (id == "/sta/v1.1/ObservedProperties('temperature')" || id == "/sta/v1.1/Sensors(0)")
        continue;
      EXPECT_FALSE(ids_a.count(id))
          << "B saw A's " << id << " via " << path << "?$expand=" << expand;
    }
    EXPECT_EQ(body.dump().find("secret_a"), std::string::npos) << body.dump();
  }
}

TEST_F(StaSecurityTest, FilterNavigationStaysInTheCallersOrganisation) {
  // A's results are all positive, B's negative: only A's data could make these match for B.
  auto things = [](HttpClient& c, const std::string& filter) {
    auto [status, body] = StaGet(c, "Things", {{"$filter", filter}});
    EXPECT_EQ(status, 200) << body.dump();
    return body["value"].size();
  };
  EXPECT_EQ(things(*b_.viewer.client, "Datastreams/Observations/result gt 0"), 0u);
  EXPECT_EQ(things(*a_.viewer.client, "Datastreams/Observations/result gt 0"), 1u);
  EXPECT_EQ(things(*b_.viewer.client, "Datastreams/ObservedProperty/name eq 'secret_a'"), 0u);
  EXPECT_EQ(things(*b_.viewer.client, "Datastreams/Sensor/name eq 'Secret model A'"), 0u);
  EXPECT_EQ(things(*b_.viewer.client, "Locations/location ne null"), 0u);
  auto [s1, obs] = StaGet(*b_.viewer.client, "Observations",
                          {{"$filter", "Datastream/@iot.id eq " + std::to_string(ds_a_)}});
  EXPECT_EQ(s1, 200);
  EXPECT_TRUE(obs["value"].empty()) << obs.dump();
  auto [s2, ds] = StaGet(*b_.viewer.client, "Datastreams",
                         {{"$filter", "Thing/@iot.id eq " + std::to_string(a_.device.device_id)}});
  EXPECT_EQ(s2, 200);
  EXPECT_TRUE(ds["value"].empty()) << ds.dump();
}

TEST_F(StaSecurityTest, CredentialsAreRequiredAndApiKeysAreScoped) {
  HttpClient anonymous(server_->url());
  EXPECT_EQ(anonymous.Get(StaUrl("Things")).status, 401);
  EXPECT_EQ(anonymous.Get(StaUrl("Observations('" + ObservationId(ds_a_, kStaT0) + "')")).status,
            401);
  auto key = Send(*b_.admin.client, "POST", b_.OrgPath() + "/api-keys",
                  {{"name", "sta"}, {"role", "viewer"}});
  ASSERT_EQ(key.status, 201) << key.body;
  std::string secret = key.Json()["key"].get<std::string>();
  auto own = anonymous.Get(StaUrl("Things"), {"X-API-Key: " + secret});
  ASSERT_EQ(own.status, 200);
  ASSERT_EQ(own.Json()["value"].size(), 1u);
  EXPECT_EQ(own.Json()["value"][0]["@iot.id"], b_.device.device_id);
  EXPECT_EQ(anonymous
                .Get(StaUrl("Things(" + std::to_string(a_.device.device_id) + ")"),
                     {"Authorization: Bearer " + secret})
                .status,
            404);
}

TEST_F(StaSecurityTest, MalformedQueriesAre400AndTheServerKeepsServing) {
  HttpClient& c = *b_.viewer.client;
  std::string deep(1000, '(');
  deep += "name eq 'x'" + std::string(1000, ')');
  std::string huge = "name eq '" + std::string(100 * 1024, 'a') + "'";
  std::string long_or = "name eq 'a'";
  while (long_or.size() < 100 * 1024) long_or += " or name eq 'a'";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"$filter", "(name eq 'x'"},
      {"$filter", "name eq 'x')"},
      {"$filter", "nosuchproperty eq 1"},
      {"$filter", "Datastreams/nosuch gt 0"},
      {"$filter", deep},
      {"$filter", huge},
      {"$filter", long_or},
      {"$filter", "substringof('a')"},
      {"$expand", "Datastreams($filter=result gt)"},
      {"$expand", "Datastreams(" + std::string(500, '(')},
      {"$orderby", "name sideways"},
      {"$top", "-1"},
      {"$skip", "x"},
  };
  for (const auto& [option, value] : cases) {
    auto r = c.Get(StaUrl("Things", {{option, value}}));
    EXPECT_EQ(r.status, 400) << option << "=" << value.substr(0, 80) << ": "
                             << r.body.substr(0, 300);
    json err = r.Json();
    EXPECT_TRUE(err.contains("error")) << r.body.substr(0, 300);
  }
  // The largest values are valid: empty pages, no overflow.
  for (const char* set : {"Things", "Observations"}) {
    auto huge =
        c.Get(StaUrl(set, {{"$skip", "9223372036854775807"}, {"$top", "9223372036854775807"}}));
    EXPECT_EQ(huge.status, 200) << set << ": " << huge.body;
    EXPECT_TRUE(huge.Json()["value"].empty()) << set;
  }
  auto unbalanced = c.Get(StaUrl("Things", {{"$filter", "(name eq 'x'"}}));
  EXPECT_NE(unbalanced.body.find("position"), std::string::npos) << unbalanced.body;
  EXPECT_EQ(c.Get("/healthz").status, 200);
  auto still = c.Get(StaUrl("Things"));
  EXPECT_EQ(still.status, 200);
  EXPECT_EQ(still.Json()["value"].size(), 1u);
}

// The public root of a published open-data dataset: its devices and keys, nothing else of the
// organisation, no login; an unpublished dataset or another organisation's id is 404.
TEST_F(StaSecurityTest, OpenDataRootShowsOnlyThePublishedDevicesAndKeys) {
  auto other = Send(*a_.admin.client, "POST", a_.AppPath() + "/devices",
                    {{"name", "Not published"}, {"transport", "http"}});
  ASSERT_EQ(other.status, 201) << other.body;
  const int64_t other_dev = other.Json()["id"].get<int64_t>();
  ASSERT_EQ(Ingest(other.Json()["apiKey"].get<std::string>(),
                   json{{"ts", kStaT0}, {"temperature", 7}}.dump())
                .status,
            204);
  json dataset = {
      {"title", "Temperatur"},      {"deviceIds", {a_.device.device_id}},
      {"keys", {"temperature"}},    {"license", "https://creativecommons.org/licenses/by/4.0/"},
      {"contactName", "Kommune A"}, {"contactEmail", "data@a.dk"},
      {"published", true}};
  auto made = Send(*a_.admin.client, "POST", a_.OrgPath() + "/open-data/datasets", dataset);
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string id = std::to_string(made.Json()["id"].get<int64_t>());
  dataset["published"] = false;
  dataset["title"] = "Draft";
  auto draft = Send(*a_.admin.client, "POST", a_.OrgPath() + "/open-data/datasets", dataset);
  ASSERT_EQ(draft.status, 201) << draft.body;
  const std::string draft_id = std::to_string(draft.Json()["id"].get<int64_t>());

  HttpClient anonymous(server_->url());
  const std::string root =
      "/sta/open/" + std::to_string(a_.device.org_id) + "/datasets/" + id + "/v1.1";
  auto get = [&](const std::string& path,
                 const std::vector<std::pair<std::string, std::string>>& q = {}) {
    std::string url = StaUrl(path, q);  // "/sta/v1.1/..." -> the dataset's root
    HttpResult r = anonymous.Get(root + url.substr(std::string("/sta/v1.1").size()));
    return std::pair<long, json>(r.status, r.Json());
  };
  auto [root_status, root_doc] = get("");
  ASSERT_EQ(root_status, 200);
  EXPECT_EQ(root_doc["value"][0]["url"], server_->url() + root + "/Things");
  json things = get("Things").second;
  ASSERT_EQ(things["value"].size(), 1u) << things.dump();
  EXPECT_EQ(things["value"][0]["@iot.id"], a_.device.device_id);
  EXPECT_EQ(things["value"][0]["properties"], json::object());
  EXPECT_EQ(things["value"][0]["@iot.selfLink"],
            server_->url() + root + "/Things(" + std::to_string(a_.device.device_id) + ")");
  json ds = get("Datastreams").second;
  ASSERT_EQ(ds["value"].size(), 1u) << ds.dump();
  EXPECT_EQ(ds["value"][0]["properties"]["key"], "temperature");
  EXPECT_EQ(get("Observations", {{"$count", "true"}}).second["@iot.count"], 3);
  for (const std::string& path : {std::string("ObservedProperties('secret_a')"),
                                  "Datastreams(" + std::to_string(secret_ds_a_) + ")",
                                  "Things(" + std::to_string(other_dev) + ")",
                                  "Things(" + std::to_string(b_.device.device_id) + ")",
                                  "Sensors(" + std::to_string(model_a_) + ")",
                                  "Observations('" + ObservationId(secret_ds_a_, kStaT0) + "')"})
    EXPECT_EQ(get(path).first, 404) << path;
  std::string all =
      get("Things", {{"$expand", "Datastreams/Observations,Datastreams/Sensor"}}).second.dump();
  EXPECT_EQ(all.find("secret_a"), std::string::npos) << all;
  EXPECT_EQ(all.find("Secret model A"), std::string::npos) << all;
  EXPECT_TRUE(get("Things", {{"$filter", "Datastreams/ObservedProperty/name eq 'secret_a'"}})
                  .second["value"]
                  .empty());
  // Unpublished, or named under another organisation: the one 404, root and paths alike.
  for (const std::string& bad :
       {"/sta/open/" + std::to_string(a_.device.org_id) + "/datasets/" + draft_id + "/v1.1",
        "/sta/open/" + std::to_string(b_.device.org_id) + "/datasets/" + id + "/v1.1"}) {
    EXPECT_EQ(anonymous.Get(bad).status, 404) << bad;
    EXPECT_EQ(anonymous.Get(bad + "/Things").status, 404) << bad;
  }
}

}  // namespace
}  // namespace bysans::testing
