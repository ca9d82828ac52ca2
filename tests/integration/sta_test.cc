// SensorThings API 1.1 against the real server: one test per requirement of the conformance
// classes listed in serverSettings.conformance (OGC 18-088 Annex A: A.1 Sensing Core, A.2
// Filtering, A.6 Data Array read side). Tenancy and malformed input: tests/security/sta_test.cc.
#include <functional>
#include <map>
#include <set>

#include "integration/backend_fixture.h"
#include "integration/sta_fixture.h"

namespace bysans::testing {
namespace {

const std::string kConf = "http://www.opengis.net/spec/iot_sensing/1.1/req/";

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

class StaTest : public BackendServerTest {
 protected:
  void SetUp() override {
    BackendServerTest::SetUp();
    dev_ = CreateHttpDevice("Kommune");
    auto model =
        admin_->PostJson("/api/v1/organizations/" + std::to_string(dev_.org_id) + "/device-models",
                         {{"type", "DeviceModel"},
                          {"name", "Klimasensor"},
                          {"description", "Indoor climate sensor"},
                          {"controlledProperty", {"temperature", "humidity"}}});
    ASSERT_EQ(model.status, 201) << model.body;
    model_id_ = model.Json()["id"].get<int64_t>();
    auto patch = admin_->Request("PATCH", "/api/v1/devices/" + std::to_string(dev_.device_id),
                                 json{{"location", {{"lat", 55.68}, {"lon", 12.57}}},
                                      {"deviceModelId", model_id_},
                                      {"tags", {"indeklima"}},
                                      {"metadata", {{"room", "1.12"}}}}
                                     .dump(),
                                 {"Content-Type: application/json"});
    ASSERT_EQ(patch.status, 200) << patch.body;
    // Six readings of temperature (20..25) and humidity, ten minutes apart; a door and a status.
    for (int i = 0; i < 6; ++i) {
      json body = {{"ts", kStaT0 + i * kStaStep}, {"temperature", 20 + i}, {"humidity", 40 + i}};
      auto r = Ingest(dev_.ingest_key, body.dump());
      ASSERT_EQ(r.status, 204) << r.body;
    }
    ASSERT_EQ(
        Ingest(dev_.ingest_key, json{{"ts", kStaT0}, {"door", true}, {"status", "open"}}.dump())
            .status,
        204);
    // A second device: no location, no model, one reading.
    auto dev2 = admin_->PostJson("/api/v1/applications/" + std::to_string(dev_.app_id) + "/devices",
                                 {{"name", "Kælder"}, {"transport", "http"}});
    ASSERT_EQ(dev2.status, 201) << dev2.body;
    dev2_ = dev2.Json()["id"].get<int64_t>();
    ASSERT_EQ(Ingest(dev2.Json()["apiKey"].get<std::string>(),
                     json{{"ts", kStaT0}, {"temperature", -3.5}}.dump())
                  .status,
              204);
    temp_ = DatastreamId(*admin_, dev_.device_id, "temperature");
    door_ = DatastreamId(*admin_, dev_.device_id, "door");
    temp2_ = DatastreamId(*admin_, dev2_, "temperature");
  }

  std::pair<long, json> Get(const std::string& path,
                            const std::vector<std::pair<std::string, std::string>>& q = {}) {
    return StaGet(*admin_, path, q);
  }
  json Ok(const std::string& path, const std::vector<std::pair<std::string, std::string>>& q = {}) {
    auto [status, body] = Get(path, q);
    EXPECT_EQ(status, 200) << path << ": " << body.dump();
    return body;
  }
  std::string Thing() const { return "Things(" + std::to_string(dev_.device_id) + ")"; }
  std::string Temp() const { return "Datastreams(" + std::to_string(temp_) + ")"; }
  std::string FirstObs() const { return "Observations('" + ObservationId(temp_, kStaT0) + "')"; }

  DeviceHandle dev_;
  int64_t model_id_ = 0, dev2_ = 0, temp_ = 0, door_ = 0, temp2_ = 0;
};

void ExpectNavLinks(const json& e, std::initializer_list<const char*> navs) {
  const std::string self = e["@iot.selfLink"].get<std::string>();
  for (const char* nav : navs) {
    std::string key = std::string(nav) + "@iot.navigationLink";
    ASSERT_TRUE(e.contains(key)) << key << " missing in " << e.dump();
    EXPECT_EQ(e[key], self + "/" + nav);
  }
}

BYSANS_ON_BOTH_STORES(StaTest);

// ---- A.1 Sensing Core --------------------------------------------------------------------

// req/resource-path/resource-path-to-entities: the service root lists the eight entity sets.
TEST_P(StaTest, ServiceRootListsEntitySetsAndConformance) {
  HttpClient anonymous(server_->url());
  auto r = anonymous.Get("/sta/v1.1");
  ASSERT_EQ(r.status, 200) << r.body;
  json root = r.Json();
  std::set<std::string> names;
  for (const json& s : root["value"]) {
    names.insert(s["name"].get<std::string>());
    EXPECT_EQ(s["url"].get<std::string>(),
              server_->url() + "/sta/v1.1/" + s["name"].get<std::string>());
  }
  EXPECT_EQ(names, (std::set<std::string>{"Things", "Locations", "HistoricalLocations",
                                          "Datastreams", "Sensors", "ObservedProperties",
                                          "Observations", "FeaturesOfInterest"}));
  std::set<std::string> conf;
  for (const json& c : root["serverSettings"]["conformance"]) conf.insert(c.get<std::string>());
  EXPECT_TRUE(conf.count(kConf + "datamodel"));
  EXPECT_TRUE(conf.count(kConf + "resource-path/resource-path-to-entities"));
  EXPECT_TRUE(conf.count(kConf + "request-data"));
  // Its tests: tests/integration/sta_crud_test.cc and sta_write_test.cc.
  EXPECT_TRUE(conf.count(kConf + "create-update-delete/create-update-delete"));
  // Every entity set's url answers a collection.
  for (const json& s : root["value"]) {
    std::string url = s["url"].get<std::string>();
    auto list = admin_->Get(url.substr(server_->url().size()));
    EXPECT_EQ(list.status, 200) << url << ": " << list.body;
    EXPECT_TRUE(list.Json()["value"].is_array()) << url;
  }
}

// req/datamodel/thing/properties and relations.
TEST_P(StaTest, ThingEntity) {
  json t = Ok(Thing());
  EXPECT_EQ(t["@iot.id"], dev_.device_id);
  EXPECT_EQ(t["@iot.selfLink"], server_->url() + "/sta/v1.1/" + Thing());
  EXPECT_EQ(t["name"], "Lokale 1");
  EXPECT_TRUE(t["description"].is_string());
  EXPECT_EQ(t["properties"]["application"]["name"], "Indeklima");
  EXPECT_EQ(t["properties"]["tags"], json({"indeklima"}));
  EXPECT_EQ(t["properties"]["metadata"]["room"], "1.12");
  ExpectNavLinks(t, {"Locations", "HistoricalLocations", "Datastreams"});
  EXPECT_EQ(Ok(Thing() + "/Datastreams")["value"].size(), 4u);
}

// req/datamodel/location/properties and relations.
TEST_P(StaTest, LocationEntity) {
  json list = Ok(Thing() + "/Locations");
  ASSERT_EQ(list["value"].size(), 1u);
  json l = list["value"][0];
  EXPECT_EQ(l["encodingType"], "application/geo+json");
  EXPECT_EQ(l["location"]["type"], "Point");
  EXPECT_EQ(l["location"]["coordinates"], json({12.57, 55.68}));
  EXPECT_TRUE(l["name"].is_string());
  EXPECT_TRUE(l["description"].is_string());
  ExpectNavLinks(l, {"Things", "HistoricalLocations"});
  const std::string loc = "Locations(" + std::to_string(l["@iot.id"].get<int64_t>()) + ")";
  EXPECT_EQ(Ok(loc + "/Things")["value"][0]["@iot.id"], dev_.device_id);
  EXPECT_EQ(Ok(loc + "/HistoricalLocations")["value"].size(), 1u);
  // A device without a location has none.
  EXPECT_TRUE(Ok("Things(" + std::to_string(dev2_) + ")/Locations")["value"].empty());
}

// req/datamodel/historical-location/properties and relations.
TEST_P(StaTest, HistoricalLocationEntity) {
  json list = Ok(Thing() + "/HistoricalLocations");
  ASSERT_EQ(list["value"].size(), 1u);
  json h = list["value"][0];
  EXPECT_TRUE(h["time"].is_string());
  ExpectNavLinks(h, {"Thing", "Locations"});
  std::string hl = "HistoricalLocations(" + std::to_string(h["@iot.id"].get<int64_t>()) + ")";
  EXPECT_EQ(Ok(hl + "/Thing")["@iot.id"], dev_.device_id);
  EXPECT_EQ(Ok(hl + "/Locations")["value"].size(), 1u);
}

// req/datamodel/datastream/properties and relations.
TEST_P(StaTest, DatastreamEntity) {
  json d = Ok(Temp());
  EXPECT_EQ(d["@iot.id"], temp_);
  EXPECT_TRUE(d["name"].is_string());
  EXPECT_TRUE(d["description"].is_string());
  ASSERT_TRUE(d["unitOfMeasurement"].is_object());
  for (const char* f : {"name", "symbol", "definition"})
    EXPECT_TRUE(d["unitOfMeasurement"].contains(f));
  EXPECT_EQ(d["observationType"],
            "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement");
  EXPECT_EQ(Ok("Datastreams(" + std::to_string(door_) + ")")["observationType"],
            "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_TruthObservation");
  ExpectNavLinks(d, {"Thing", "Sensor", "ObservedProperty", "Observations"});
  EXPECT_EQ(Ok(Temp() + "/Thing")["@iot.id"], dev_.device_id);
}

// req/datamodel/sensor/properties and relations: the device model, or "unknown".
TEST_P(StaTest, SensorEntity) {
  json s = Ok(Temp() + "/Sensor");
  EXPECT_EQ(s["@iot.id"], model_id_);
  EXPECT_EQ(s["name"], "Klimasensor");
  EXPECT_EQ(s["description"], "Indoor climate sensor");
  EXPECT_TRUE(s["encodingType"].is_string());
  EXPECT_EQ(s["metadata"]["controlledProperty"], json({"temperature", "humidity"}));
  ExpectNavLinks(s, {"Datastreams"});
  json unknown = Ok("Datastreams(" + std::to_string(temp2_) + ")/Sensor");
  EXPECT_EQ(unknown["name"], "unknown");
  std::set<int64_t> ds;
  json of_model = Ok("Sensors(" + std::to_string(model_id_) + ")/Datastreams");
  for (const json& d : of_model["value"]) ds.insert(d["@iot.id"].get<int64_t>());
  EXPECT_TRUE(ds.count(temp_)) << of_model.dump();
  EXPECT_FALSE(ds.count(temp2_));
}

// req/datamodel/observed-property/properties and relations.
TEST_P(StaTest, ObservedPropertyEntity) {
  json op = Ok(Temp() + "/ObservedProperty");
  EXPECT_EQ(op["@iot.id"], "temperature");
  EXPECT_EQ(op["name"], "temperature");
  EXPECT_TRUE(op["definition"].is_string());
  EXPECT_TRUE(op["description"].is_string());
  ExpectNavLinks(op, {"Datastreams"});
  json ds = Ok("ObservedProperties('temperature')/Datastreams");
  EXPECT_EQ(ds["value"].size(), 2u);  // both devices' temperature
}

// req/datamodel/observation/properties and relations.
TEST_P(StaTest, ObservationEntity) {
  json list = Ok(Temp() + "/Observations");
  ASSERT_EQ(list["value"].size(), 6u);
  json o = list["value"][0];
  EXPECT_EQ(o["@iot.id"], ObservationId(temp_, kStaT0));
  EXPECT_EQ(o["phenomenonTime"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(o["result"], 20);
  EXPECT_TRUE(o.contains("resultTime"));
  EXPECT_EQ(o["resultQuality"], "late");  // the quality flag: stored long after its time
  ExpectNavLinks(o, {"Datastream", "FeatureOfInterest"});
  EXPECT_EQ(Ok(FirstObs())["result"], 20);
  EXPECT_EQ(Ok(FirstObs() + "/Datastream")["@iot.id"], temp_);
  EXPECT_EQ(Ok("Datastreams(" + std::to_string(door_) + ")/Observations")["value"][0]["result"],
            true);
}

// req/datamodel/feature-of-interest/properties and relations.
TEST_P(StaTest, FeatureOfInterestEntity) {
  json f = Ok(FirstObs() + "/FeatureOfInterest");
  EXPECT_EQ(f["@iot.id"], dev_.device_id);
  EXPECT_EQ(f["encodingType"], "application/geo+json");
  EXPECT_EQ(f["feature"]["coordinates"], json({12.57, 55.68}));
  EXPECT_TRUE(f["name"].is_string());
  ExpectNavLinks(f, {"Observations"});
  // Its Observations: every reading of the device (6 + 6 + 1 + 1).
  json obs = Ok("FeaturesOfInterest(" + std::to_string(dev_.device_id) + ")/Observations",
                {{"$count", "true"}});
  EXPECT_EQ(obs["@iot.count"], 14);
}

// req/resource-path/resource-path-to-entities: every entity of every set by its selfLink.
TEST_P(StaTest, EveryEntityBySelfLink) {
  for (const char* set : {"Things", "Locations", "HistoricalLocations", "Datastreams", "Sensors",
                          "ObservedProperties", "Observations", "FeaturesOfInterest"}) {
    json list = Ok(set);
    ASSERT_FALSE(list["value"].empty()) << set;
    for (const json& e : list["value"]) {
      std::string self = e["@iot.selfLink"].get<std::string>();
      auto one = admin_->Get(StaEncode(self.substr(server_->url().size())));
      ASSERT_EQ(one.status, 200) << self << ": " << one.body;
      EXPECT_EQ(one.Json()["@iot.id"], e["@iot.id"]) << self;
    }
  }
}

// req/resource-path: a property, and its raw $value.
TEST_P(StaTest, PropertyAndValue) {
  EXPECT_EQ(Ok(Thing() + "/name"), json({{"name", "Lokale 1"}}));
  auto raw = admin_->Get(StaUrl(Thing() + "/name/$value"));
  EXPECT_EQ(raw.status, 200);
  EXPECT_EQ(raw.body, "Lokale 1");
  EXPECT_EQ(raw.headers["content-type"].rfind("text/plain", 0), 0u);
  EXPECT_EQ(admin_->Get(StaUrl(FirstObs() + "/result/$value")).body, "20");
  EXPECT_EQ(Ok(Thing() + "/properties")["properties"]["metadata"]["room"], "1.12");
  EXPECT_EQ(Ok(Temp() + "/unitOfMeasurement")["unitOfMeasurement"]["symbol"], "");
}

// req/resource-path: navigation several levels deep.
TEST_P(StaTest, NavigationSeveralLevels) {
  EXPECT_EQ(Ok(Thing() + "/" + Temp() + "/Observations")["value"].size(), 6u);
  EXPECT_EQ(Ok(Temp() + "/Thing/Locations")["value"].size(), 1u);
  EXPECT_EQ(Ok(FirstObs() + "/Datastream/Thing/name"), json({{"name", "Lokale 1"}}));
  EXPECT_EQ(Ok(FirstObs() + "/Datastream/Sensor/Datastreams")["value"].size(), 4u);
  EXPECT_EQ(Ok(Thing() + "/" + Temp() + "/Observations('" + ObservationId(temp_, kStaT0) +
               "')")["result"],
            20);
}

// req/resource-path: association links ($ref).
TEST_P(StaTest, AssociationLinks) {
  json refs = Ok("Things/$ref");
  ASSERT_EQ(refs["value"].size(), 2u);
  for (const json& r : refs["value"]) {
    EXPECT_EQ(r.size(), 1u);
    EXPECT_TRUE(r["@iot.selfLink"].is_string());
  }
  EXPECT_EQ(Ok(Thing() + "/Datastreams/$ref")["value"].size(), 4u);
  EXPECT_EQ(Ok(Temp() + "/Thing/$ref"),
            json({{"@iot.selfLink", server_->url() + "/sta/v1.1/" + Thing()}}));
}

// req/resource-path: unknown ids, sets, navigation and properties are 404.
TEST_P(StaTest, UnknownPathsAre404) {
  for (std::string path :
       {std::string("Things(999999)"), std::string("Thingz"), Thing() + "/Foo",
        Thing() + "/Datastreams(" + std::to_string(temp2_) + ")",  // not this Thing's
        "Observations('" + ObservationId(temp_, kStaT0 + 1) + "')",
        std::string("Observations('x')"), std::string("ObservedProperties('nope')"),
        "Things(" + std::to_string(dev2_) + ")/Locations(" +
            std::to_string(Ok(Thing() + "/Locations")["value"][0]["@iot.id"].get<int64_t>()) +
            ")",  // another Thing's Location
        Thing() + "/nosuchproperty", std::string("Sensors(424242)")}) {
    EXPECT_EQ(Get(path).first, 404) << path;
  }
}

// req/resource-path: every relation of every entity set, four levels deep (the first entity of
// each collection), answers 200, and so does its $ref, which holds only selfLinks.
TEST_P(StaTest, ResourcePathsFourLevelsDeep) {
  const std::map<std::string, std::vector<std::string>> relations = {
      {"Things", {"Locations", "HistoricalLocations", "Datastreams"}},
      {"Locations", {"Things", "HistoricalLocations"}},
      {"HistoricalLocations", {"Thing", "Locations"}},
      {"Datastreams", {"Thing", "Sensor", "ObservedProperty", "Observations"}},
      {"Sensors", {"Datastreams"}},
      {"ObservedProperties", {"Datastreams"}},
      {"Observations", {"Datastream", "FeatureOfInterest"}},
      {"FeaturesOfInterest", {"Observations"}}};
  const std::map<std::string, std::string> plural = {{"Thing", "Things"},
                                                     {"Datastream", "Datastreams"},
                                                     {"Sensor", "Sensors"},
                                                     {"ObservedProperty", "ObservedProperties"},
                                                     {"FeatureOfInterest", "FeaturesOfInterest"}};
  int visited = 0;
  std::function<void(const std::string&, const std::string&, int)> walk =
      [&](const std::string& path, const std::string& last, int depth) {
        ++visited;
        auto [status, body] = Get(path);
        ASSERT_EQ(status, 200) << path << ": " << body.dump();
        auto [ref_status, refs] = Get(path + "/$ref");
        ASSERT_EQ(ref_status, 200) << path << "/$ref";
        const bool many = !plural.count(last);
        for (const json& r : many ? refs["value"] : json::array({refs})) {
          EXPECT_EQ(r.size(), 1u) << path << "/$ref: " << r.dump();
          EXPECT_TRUE(r["@iot.selfLink"].is_string()) << path << "/$ref";
        }
        if (depth == 4) return;
        std::string here = path;
        if (many) {
          ASSERT_FALSE(body["value"].empty()) << path;
          const json& id = body["value"][0]["@iot.id"];
          here += "(" + (id.is_string() ? "'" + id.get<std::string>() + "'" : id.dump()) + ")";
        }
        const std::string set = many ? last : plural.at(last);
        for (const std::string& nav : relations.at(set)) walk(here + "/" + nav, nav, depth + 1);
      };
  for (const auto& [set, navs] : relations) walk(set, set, 1);
  EXPECT_GT(visited, 100);
}

// req/resource-path: a property that is null (or that the entity lacks) is 204 No Content.
TEST_P(StaTest, NullPropertiesAreNoContent) {
  auto r = admin_->Get(StaUrl(FirstObs() + "/resultTime"));
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(admin_->Get(StaUrl(FirstObs() + "/resultTime/$value")).status, 204);
  EXPECT_EQ(admin_->Get(StaUrl("FeaturesOfInterest(" + std::to_string(dev2_) + ")/feature")).status,
            204);
  EXPECT_EQ(admin_->Get(StaUrl(Temp() + "/phenomenonTime")).status, 204);
  // Objects as $value are JSON; a nonexistent id of any set is 404.
  EXPECT_EQ(admin_->Get(StaUrl(Thing() + "/properties/$value")).body.rfind('{', 0), 0u);
  for (const char* set : {"Things", "Locations", "HistoricalLocations", "Datastreams", "Sensors",
                          "ObservedProperties", "Observations", "FeaturesOfInterest"})
    EXPECT_EQ(Get(std::string(set) + "(9223372036854775807)").first, 404) << set;
}

// Ids are store ids: the same after a restart.
TEST_P(StaTest, IdsStableAcrossRestart) {
  json before = Ok("Datastreams", {{"$orderby", "@iot.id"}});
  json obs = Ok(Temp() + "/Observations", {{"$top", "2"}});
  std::string dir = server_->data_dir();
  ASSERT_EQ(server_->Terminate(), 0);
  auto keep = std::move(server_);  // keeps the data directory
  server_ = std::make_unique<ServerProcess>(dir);
  server_->SetEnv(server_env_);  // the same store
  ASSERT_TRUE(server_->Start()) << server_->log();
  admin_ = std::make_unique<HttpClient>(server_->url());
  ASSERT_EQ(admin_->Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword).status, 200);
  json after = Ok("Datastreams", {{"$orderby", "@iot.id"}});
  ASSERT_EQ(after["value"].size(), before["value"].size());
  for (size_t i = 0; i < after["value"].size(); ++i) {
    EXPECT_EQ(after["value"][i]["@iot.id"], before["value"][i]["@iot.id"]);
    EXPECT_EQ(after["value"][i]["name"], before["value"][i]["name"]);
  }
  json obs_after = Ok(Temp() + "/Observations", {{"$top", "2"}});
  ASSERT_EQ(obs_after["value"].size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(obs_after["value"][i]["@iot.id"], obs["value"][i]["@iot.id"]);
    EXPECT_EQ(obs_after["value"][i]["result"], obs["value"][i]["result"]);
  }
  (void)keep;
}

// Access: the REST API's principals (session, X-API-Key, Bearer); nothing without them.
TEST_P(StaTest, SamePrincipalsAsTheRestApi) {
  HttpClient anonymous(server_->url());
  EXPECT_EQ(anonymous.Get(StaUrl("Things")).status, 401);
  EXPECT_EQ(anonymous.Get(StaUrl(FirstObs())).status, 401);
  auto key = admin_->PostJson("/api/v1/organizations/" + std::to_string(dev_.org_id) + "/api-keys",
                              {{"name", "sta"}, {"role", "viewer"}});
  ASSERT_EQ(key.status, 201) << key.body;
  std::string secret = key.Json()["key"].get<std::string>();
  auto by_header = anonymous.Get(StaUrl("Things"), {"X-API-Key: " + secret});
  ASSERT_EQ(by_header.status, 200) << by_header.body;
  EXPECT_EQ(by_header.Json()["value"].size(), 2u);
  auto by_bearer = anonymous.Get(StaUrl(FirstObs()), {"Authorization: Bearer " + secret});
  EXPECT_EQ(by_bearer.status, 200) << by_bearer.body;
  EXPECT_EQ(anonymous.Get(StaUrl("Things"), {"X-API-Key: bys_wrong"}).status, 401);
}

// ---- A.2 Filtering (request-data) ----------------------------------------------------------

// req/request-data/select
TEST_P(StaTest, Select) {
  json t = Ok(Thing(), {{"$select", "name,description"}});
  EXPECT_EQ(t, json({{"name", "Lokale 1"}, {"description", t["description"]}}));
  json obs = Ok(Temp() + "/Observations", {{"$select", "result,@iot.id"}, {"$top", "1"}});
  EXPECT_EQ(obs["value"][0], json({{"@iot.id", ObservationId(temp_, kStaT0)}, {"result", 20}}));
  EXPECT_EQ(Get("Things", {{"$select", "nosuch"}}).first, 400);
}

// req/request-data/expand, nested with its own options.
TEST_P(StaTest, ExpandNested) {
  json t = Ok(Thing(), {{"$expand",
                         "Datastreams($filter=properties/key eq 'temperature';"
                         "$expand=Observations($top=1;$orderby=phenomenonTime desc))"}});
  ASSERT_EQ(t["Datastreams"].size(), 1u);
  ASSERT_EQ(t["Datastreams"][0]["Observations"].size(), 1u);
  EXPECT_EQ(t["Datastreams"][0]["Observations"][0]["result"], 25);  // the latest value
  // The next page of the expansion keeps its order: the second newest.
  std::string next = t["Datastreams"][0]["Observations@iot.nextLink"].get<std::string>();
  auto page2 = admin_->Get(next.substr(server_->url().size()));
  ASSERT_EQ(page2.status, 200) << next << ": " << page2.body;
  EXPECT_EQ(page2.Json()["value"][0]["result"], 24) << next;
  EXPECT_FALSE(t.contains("Datastreams@iot.nextLink"));
  json d = Ok(Temp(), {{"$expand", "Thing/Locations,Sensor($select=name)"}});
  EXPECT_EQ(d["Thing"]["@iot.id"], dev_.device_id);
  EXPECT_EQ(d["Thing"]["Locations"].size(), 1u);
  EXPECT_EQ(d["Sensor"], json({{"name", "Klimasensor"}}));
  json all = Ok("Things", {{"$expand", "Datastreams($count=true;$top=1)"}});
  for (const json& thing : all["value"]) {
    EXPECT_EQ(thing["Datastreams"].size(), 1u);
    EXPECT_EQ(thing["Datastreams@iot.count"], thing["@iot.id"] == dev_.device_id ? 4 : 1);
  }
}

// req/request-data/orderby
TEST_P(StaTest, OrderBy) {
  json desc = Ok(Temp() + "/Observations", {{"$orderby", "phenomenonTime desc"}});
  ASSERT_EQ(desc["value"].size(), 6u);
  EXPECT_EQ(desc["value"][0]["result"], 25);
  EXPECT_EQ(desc["value"][5]["result"], 20);
  json by_result = Ok(Temp() + "/Observations", {{"$orderby", "result desc"}, {"$top", "2"}});
  EXPECT_EQ(by_result["value"][0]["result"], 25);
  EXPECT_EQ(by_result["value"][1]["result"], 24);
  json things = Ok("Things", {{"$orderby", "name asc"}});
  EXPECT_EQ(things["value"][0]["name"], "Kælder");
  json across = Ok("Observations", {{"$orderby", "phenomenonTime desc"}, {"$top", "1"}});
  EXPECT_EQ(across["value"][0]["phenomenonTime"], "2026-01-01T00:50:00.000Z");
}

// req/request-data/top
TEST_P(StaTest, Top) {
  EXPECT_EQ(Ok(Temp() + "/Observations", {{"$top", "4"}})["value"].size(), 4u);
  EXPECT_EQ(Ok(Temp() + "/Observations", {{"$top", "0"}})["value"].size(), 0u);
  EXPECT_EQ(Ok("Things", {{"$top", "1"}})["value"].size(), 1u);
  EXPECT_EQ(Ok(Temp() + "/Observations", {{"$top", "100000"}})["value"].size(), 6u);  // capped
}

// req/request-data/skip
TEST_P(StaTest, Skip) {
  json skipped = Ok(Temp() + "/Observations", {{"$skip", "5"}});
  ASSERT_EQ(skipped["value"].size(), 1u);
  EXPECT_EQ(skipped["value"][0]["result"], 25);
  EXPECT_TRUE(Ok(Temp() + "/Observations", {{"$skip", "6"}})["value"].empty());
  EXPECT_EQ(Ok("Things", {{"$skip", "1"}, {"$orderby", "name"}})["value"][0]["name"], "Lokale 1");
}

// req/request-data/pagination: @iot.nextLink while more follow, none on the last page.
TEST_P(StaTest, PaginationNextLink) {
  json page1 = Ok(Temp() + "/Observations", {{"$top", "4"}, {"$select", "result"}});
  ASSERT_EQ(page1["value"].size(), 4u);
  ASSERT_TRUE(page1["@iot.nextLink"].is_string()) << page1.dump();
  std::string next = page1["@iot.nextLink"].get<std::string>();
  auto r = admin_->Get(next.substr(server_->url().size()));
  ASSERT_EQ(r.status, 200) << next << ": " << r.body;
  json page2 = r.Json();
  ASSERT_EQ(page2["value"].size(), 2u);
  EXPECT_EQ(page2["value"][0], json({{"result", 24}}));  // the other options carry over
  EXPECT_FALSE(page2.contains("@iot.nextLink"));
  EXPECT_TRUE(Ok("Things", {{"$top", "1"}}).contains("@iot.nextLink"));
  EXPECT_FALSE(Ok("Things", {{"$top", "2"}}).contains("@iot.nextLink"));
}

// req/request-data/order: $filter, then $count, $orderby, $skip, $top, then $expand/$select.
TEST_P(StaTest, QueryOptionsApplyInTheStandardsOrder) {
  json r = Ok(Temp() + "/Observations", {{"$filter", "result gt 20"},
                                         {"$count", "true"},
                                         {"$orderby", "result desc"},
                                         {"$skip", "1"},
                                         {"$top", "2"},
                                         {"$select", "result"},
                                         {"$expand", "Datastream($select=id)"}});
  EXPECT_EQ(r["@iot.count"], 5);  // counted after the filter, before skip/top
  ASSERT_EQ(r["value"].size(), 2u);
  EXPECT_EQ(r["value"][0]["result"], 24);
  EXPECT_EQ(r["value"][1]["result"], 23);
  EXPECT_EQ(r["value"][0]["Datastream"], json({{"@iot.id", temp_}}));
  EXPECT_FALSE(r["value"][0].contains("phenomenonTime"));
}

// req/request-data/count
TEST_P(StaTest, Count) {
  json c = Ok(Temp() + "/Observations", {{"$count", "true"}, {"$top", "1"}});
  EXPECT_EQ(c["@iot.count"], 6);
  EXPECT_EQ(c["value"].size(), 1u);
  EXPECT_EQ(Ok("Things", {{"$count", "true"}})["@iot.count"], 2);
  EXPECT_FALSE(Ok("Things", {{"$count", "false"}}).contains("@iot.count"));
}

// req/request-data/filter: comparison, logical, arithmetic, string, date, geo functions.
TEST_P(StaTest, Filter) {
  auto count = [&](const std::string& path, const std::string& filter) {
    json r = Ok(path, {{"$filter", filter}, {"$count", "true"}});
    return r["@iot.count"].get<int64_t>();
  };
  const std::string obs = Temp() + "/Observations";
  EXPECT_EQ(count(obs, "result gt 22"), 3);
  EXPECT_EQ(count(obs, "result ge 21 and result le 23"), 3);
  EXPECT_EQ(count(obs, "result eq 20 or result eq 25"), 2);
  EXPECT_EQ(count(obs, "not (result lt 24)"), 2);
  EXPECT_EQ(count(obs, "result mul 2 sub 1 eq 41"), 1);
  EXPECT_EQ(count(obs,
                  "phenomenonTime ge 2026-01-01T00:20:00Z and "
                  "phenomenonTime lt 2026-01-01T00:40:00Z"),
            2);
  EXPECT_EQ(count(obs, "minute(phenomenonTime) eq 30"), 1);
  EXPECT_EQ(count(obs, "resultQuality eq 'late'"), 6);  // stored long after their time
  EXPECT_EQ(
      count("Observations", "Datastream/@iot.id eq " + std::to_string(temp_) + " and result gt 24"),
      1);
  EXPECT_EQ(count("Things", "substringof('Lokale', name)"), 1);
  EXPECT_EQ(count("Things", "startswith(name, 'K')"), 1);
  EXPECT_EQ(count("Things", "Datastreams/Observations/result gt 24"), 1);
  EXPECT_EQ(count("Things", "Datastreams/Observations/result lt 0"), 1);
  EXPECT_EQ(count("Datastreams", "Thing/name eq 'Lokale 1'"), 4);
  EXPECT_EQ(count("Locations",
                  "st_within(location, geography'POLYGON((12 55, 13 55, 13 56, 12 56, 12 55))')"),
            1);
  EXPECT_EQ(count("Locations", "geo.distance(location, geography'POINT(12.57 55.68)') lt 0.01"), 1);
  EXPECT_EQ(count("Things", "properties/metadata/room eq '1.12'"), 1);
}

// A.6 Data Array, read side: $resultFormat=dataArray.
TEST_P(StaTest, DataArray) {
  json r = Ok(Temp() + "/Observations", {{"$resultFormat", "dataArray"}});
  ASSERT_EQ(r["value"].size(), 1u);
  json block = r["value"][0];
  EXPECT_EQ(block["Datastream@iot.navigationLink"], server_->url() + "/sta/v1.1/" + Temp());
  ASSERT_TRUE(block["components"].is_array());
  EXPECT_EQ(block["dataArray@iot.count"], 6);
  ASSERT_EQ(block["dataArray"].size(), 6u);
  auto comps = block["components"].get<std::vector<std::string>>();
  auto at = std::find(comps.begin(), comps.end(), "result") - comps.begin();
  EXPECT_EQ(block["dataArray"][0][static_cast<size_t>(at)], 20);
  json sel = Ok(Temp() + "/Observations",
                {{"$resultFormat", "dataArray"}, {"$select", "phenomenonTime,result"}});
  EXPECT_EQ(sel["value"][0]["components"], json({"phenomenonTime", "result"}));
}

// req/request-data/status-code: malformed options are 400 with the error's position.
TEST_P(StaTest, MalformedOptionsAre400) {
  auto [status, body] = Get("Things", {{"$filter", "(name eq 'x'"}});
  EXPECT_EQ(status, 400) << body.dump();
  EXPECT_NE(body.dump().find("position"), std::string::npos) << body.dump();
  EXPECT_EQ(Get("Things", {{"$top", "abc"}}).first, 400);
  EXPECT_EQ(Get("Things", {{"$orderby", "nosuch"}}).first, 400);
  EXPECT_EQ(Get("Things", {{"$expand", "Nosuch"}}).first, 400);
  EXPECT_EQ(Get("Things", {{"$bogus", "1"}}).first, 400);
  EXPECT_EQ(Get("Things").first, 200);  // still serving
}

}  // namespace
}  // namespace bysans::testing
