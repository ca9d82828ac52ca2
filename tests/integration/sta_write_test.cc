// SensorThings API 1.1 writes against the real server (api/sta_write.cc): creating Observations
// is ingest (OGC 18-088 A.3 create-entity for Observations, link to an existing Datastream;
// A.6 CreateObservations with dataArray). Roles and tenancy: tests/security/sta_write_test.cc.
#include <chrono>

#include "integration/backend_fixture.h"
#include "integration/sta_fixture.h"

namespace bysans::testing {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Whole seconds (RFC 3339 without fractions in the bodies below).
std::string Rfc3339(int64_t ms) {
  std::time_t s = ms / 1000;
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// JSON arrays built explicitly: nlohmann reads {"text", value} as an object member.
json Row(std::initializer_list<json> values) {
  json out = json::array();
  for (const json& v : values) out.push_back(v);
  return out;
}
json Rows(std::initializer_list<json> rows) { return Row(rows); }

class StaWriteTest : public BackendServerTest {
 protected:
  void SetUp() override {
    BackendServerTest::SetUp();
    dev_ = CreateHttpDevice("Kommune");
    ASSERT_EQ(
        Ingest(dev_.ingest_key,
               json{{"ts", kStaT0}, {"temperature", 20.5}, {"door", true}, {"status", "ok"}}.dump())
            .status,
        204);
    temp_ = DatastreamId(*admin_, dev_.device_id, "temperature");
    door_ = DatastreamId(*admin_, dev_.device_id, "door");
    status_ = DatastreamId(*admin_, dev_.device_id, "status");
  }

  HttpResult Post(const std::string& path, const json& body) {
    return admin_->PostJson("/sta/v1.1/" + path, body);
  }
  std::string Ds(int64_t id) const { return "Datastreams(" + std::to_string(id) + ")"; }
  // The Observation at a selfLink / Location, as the admin reads it.
  json Read(const std::string& link) {
    auto r = admin_->Get(link.substr(server_->url().size()));
    EXPECT_EQ(r.status, 200) << link << ": " << r.body;
    return r.Json();
  }
  // CreateObservations rows for one Datastream.
  static json Element(int64_t ds, const json& rows,
                      const json& components = {"phenomenonTime", "result"}) {
    return {{"Datastream", {{"@iot.id", ds}}},
            {"components", components},
            {"dataArray@iot.count", rows.size()},
            {"dataArray", rows}};
  }

  DeviceHandle dev_;
  int64_t temp_ = 0, door_ = 0, status_ = 0;
};

BYSANS_ON_BOTH_STORES(StaWriteTest);

// A.3 req/create-update-delete/create-entity (Observations): POST to a Datastream's
// Observations answers 201 with Location; the Observation is then served with bysans' quality.
TEST_P(StaWriteTest, CreateObservationInDatastream) {
  const int64_t t = NowMs() / 1000 * 1000;
  auto r = Post(Ds(temp_) + "/Observations", {{"phenomenonTime", Rfc3339(t)}, {"result", 21.25}});
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string location = r.headers["location"];
  EXPECT_EQ(location, server_->url() + "/sta/v1.1/Observations('" + ObservationId(temp_, t) + "')");
  json created = r.Json();
  EXPECT_EQ(created["@iot.id"], ObservationId(temp_, t));
  EXPECT_EQ(created["result"], 21.25);
  EXPECT_EQ(created["@iot.selfLink"], location);
  // Acknowledged after the commit: readable at once, with the pipeline's quality flag.
  json o = Read(location);
  EXPECT_EQ(o["result"], 21.25);
  EXPECT_EQ(o["resultQuality"], "ok");
  EXPECT_EQ(Read(location + "/Datastream")["@iot.id"], temp_);
  // The same reading through the REST API.
  auto latest = admin_->Get("/api/v1/devices/" + std::to_string(dev_.device_id) + "/latest");
  ASSERT_EQ(latest.status, 200);
  EXPECT_NE(latest.body.find("21.25"), std::string::npos) << latest.body;
}

// A.3 req/create-update-delete/link-to-existing-entities: POST Observations links its Datastream
// by @iot.id; without one (or with an unknown one) nothing is stored.
TEST_P(StaWriteTest, CreateObservationLinkedToDatastream) {
  const int64_t t = NowMs() / 1000 * 1000;
  auto r = Post("Observations", {{"Datastream", {{"@iot.id", door_}}},
                                 {"phenomenonTime", Rfc3339(t)},
                                 {"resultTime", Rfc3339(t)},
                                 {"result", false}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Read(r.headers["location"])["result"], false);
  auto none = Post("Observations", {{"result", 1}});
  EXPECT_EQ(none.status, 400);
  EXPECT_NE(none.body.find("Datastream"), std::string::npos) << none.body;
  auto unknown = Post("Observations", {{"Datastream", {{"@iot.id", 999999}}}, {"result", 1}});
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  auto deep = Post(
      "Observations",
      {{"Datastream", {{"name", "new"}, {"unitOfMeasurement", json::object()}}}, {"result", 1}});
  EXPECT_EQ(deep.status, 400) << deep.body;
}

// A.3 create-entity: phenomenonTime defaults to the time of the request; results must have the
// Datastream's value type; what bysans cannot keep is refused, naming it.
TEST_P(StaWriteTest, CreateObservationDefaultsAndValidation) {
  const int64_t before = NowMs();
  auto r = Post(Ds(status_) + "/Observations", {{"result", "closed"}});
  ASSERT_EQ(r.status, 201) << r.body;
  json o = Read(r.headers["location"]);
  EXPECT_EQ(o["result"], "closed");
  auto id = o["@iot.id"].get<std::string>();
  const int64_t ts = std::stoll(id.substr(id.find('-') + 1));
  EXPECT_GE(ts, before - 1000);
  EXPECT_LE(ts, NowMs() + 1000);

  auto wrong_type = Post(Ds(temp_) + "/Observations", {{"result", "warm"}});
  EXPECT_EQ(wrong_type.status, 400);
  EXPECT_NE(wrong_type.body.find("result must be a number"), std::string::npos) << wrong_type.body;
  auto object = Post(Ds(temp_) + "/Observations", {{"result", {{"a", 1}}}});
  EXPECT_EQ(object.status, 400) << object.body;
  auto interval =
      Post(Ds(temp_) + "/Observations",
           {{"phenomenonTime", "2026-01-01T00:00:00Z/2026-01-01T01:00:00Z"}, {"result", 1}});
  EXPECT_EQ(interval.status, 400);
  EXPECT_NE(interval.body.find("interval"), std::string::npos) << interval.body;
  auto quality = Post(Ds(temp_) + "/Observations", {{"result", 1}, {"resultQuality", "good"}});
  EXPECT_EQ(quality.status, 400);
  EXPECT_NE(quality.body.find("resultQuality"), std::string::npos) << quality.body;
  auto other =
      Post(Ds(temp_) + "/Observations", {{"result", 1}, {"Datastream", {{"@iot.id", door_}}}});
  EXPECT_EQ(other.status, 400) << other.body;
  EXPECT_EQ(admin_
                ->Request("POST", "/sta/v1.1/" + Ds(temp_) + "/Observations", "result=1",
                          {"Content-Type: application/x-www-form-urlencoded"})
                .status,
            415);
  // Entity sets other than Observations and Things are not created here (yet): a clear 501.
  auto thing = Post("Sensors", {{"name", "x"}});
  EXPECT_EQ(thing.status, 501);
  EXPECT_NE(thing.body.find("not supported"), std::string::npos) << thing.body;
  // Nothing of the refused ones was stored: temperature still has its one reading.
  auto [status, list] = StaGet(*admin_, Ds(temp_) + "/Observations");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(list["value"].size(), 1u) << list.dump();
}

// Creating Observations is ingest: the same pipeline as HTTP ingest. Quality flags are
// assigned (an old time is "late"), the device's decoder does not rewrite them, and the raw
// message is kept as SenML.
TEST_P(StaWriteTest, ObservationsGoThroughTheIngestPipeline) {
  auto dec = admin_->PostJson(
      "/api/v1/organizations/" + std::to_string(dev_.org_id) + "/decoders",
      {{"name", "dec"}, {"code", "function decode(p) { return {temperature: -99}; }"}});
  ASSERT_EQ(dec.status, 201) << dec.body;
  AttachDecoder(dev_.device_id, dec.Json()["id"]);
  const int64_t old = kStaT0 + kStaStep;
  auto r = Post(Ds(temp_) + "/Observations", {{"phenomenonTime", Rfc3339(old)}, {"result", 7}});
  ASSERT_EQ(r.status, 201) << r.body;
  json o = Read(r.headers["location"]);
  EXPECT_EQ(o["result"], 7);
  EXPECT_EQ(o["resultQuality"], "late");
  auto messages = admin_->Get("/api/v1/devices/" + std::to_string(dev_.device_id) + "/messages");
  ASSERT_EQ(messages.status, 200);
  json newest = messages.Json()["items"][0];
  EXPECT_NE(newest.dump().find("senml"), std::string::npos) << newest.dump();
  EXPECT_EQ(messages.body.find("-99"), std::string::npos) << messages.body;
}

// A.6 req/create-observations-via-dataarray (CreateObservations): rows of several Datastreams
// in one request; the 201 answer lists each row's selfLink in body order, "error" for a row that
// cannot be an Observation (the others are created).
TEST_P(StaWriteTest, CreateObservationsDataArray) {
  const int64_t t = NowMs() / 1000 * 1000 - 60'000;
  json body = json::array(
      {Element(temp_,
               Rows({Row({Rfc3339(t), 1.5}), Row({Rfc3339(t + 1000), 2}), Row({"yesterday", 3})})),
       Element(door_, Rows({Row({true, Rfc3339(t)}), Row({"no", Rfc3339(t + 1000)})}),
               {"result", "phenomenonTime"}),
       Element(status_, Rows({Row({Rfc3339(t), "open", Rfc3339(t)})}),
               {"phenomenonTime", "result", "resultTime"})});
  auto r = Post("CreateObservations", body);
  ASSERT_EQ(r.status, 201) << r.body;
  json links = r.Json();
  ASSERT_EQ(links.size(), 6u) << links.dump();
  const std::string base = server_->url() + "/sta/v1.1/Observations('";
  EXPECT_EQ(links[0], base + ObservationId(temp_, t) + "')");
  EXPECT_EQ(links[1], base + ObservationId(temp_, t + 1000) + "')");
  EXPECT_EQ(links[2], "error");  // not a time
  EXPECT_EQ(links[3], base + ObservationId(door_, t) + "')");
  EXPECT_EQ(links[4], "error");  // a string in a boolean Datastream
  EXPECT_EQ(links[5], base + ObservationId(status_, t) + "')");
  EXPECT_EQ(Read(links[1])["result"], 2);
  EXPECT_EQ(Read(links[3])["result"], true);
  EXPECT_EQ(Read(links[5])["result"], "open");
  // Read back as dataArray: the temperature Datastream now has three Observations.
  auto [status, arr] = StaGet(*admin_, Ds(temp_) + "/Observations",
                              {{"$resultFormat", "dataArray"}, {"$orderby", "phenomenonTime"}});
  ASSERT_EQ(status, 200) << arr.dump();
  EXPECT_EQ(arr["value"][0]["dataArray"].size(), 3u) << arr.dump();
}

// A.6 CreateObservations: malformed bodies are a 400 naming the element and field; a request
// where no row is an Observation is a 400 naming the row; nothing is stored.
TEST_P(StaWriteTest, CreateObservationsMalformed) {
  auto expect400 = [&](const json& body, const std::string& needle) {
    auto r = Post("CreateObservations", body);
    EXPECT_EQ(r.status, 400) << body.dump() << " -> " << r.body;
    EXPECT_NE(r.body.find(needle), std::string::npos) << r.body;
  };
  expect400(json::object(), "array");
  expect400(json::array({json{{"components", {"result"}}, {"dataArray", json::array()}}}),
            "Datastream is required");
  expect400(json::array({Element(temp_, Rows({Row({1})}), {"result", "parameters"})}),
            "parameters");
  expect400(json::array({Element(temp_, Rows({Row({1})}), {"phenomenonTime"})}),
            "must include result");
  json count = Element(temp_, Rows({Row({Rfc3339(kStaT0), 1})}));
  count["dataArray@iot.count"] = 5;
  expect400(json::array({count}), "dataArray@iot.count");
  expect400(json::array({Element(temp_, Rows({Row({Rfc3339(kStaT0), "x"})}))}), "element 0, row 0");
  // More than the per-request maximum (100,000) of Observations.
  json rows = json::array();
  for (int i = 0; i < 50'001; ++i) rows.push_back(json::array({i}));
  expect400(json::array({Element(temp_, rows, {"result"}), Element(door_, rows, {"result"})}),
            "more than 100000");
  auto [status, list] = StaGet(*admin_, Ds(temp_) + "/Observations");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(list["value"].size(), 1u) << list.dump();
  // The server keeps serving.
  EXPECT_EQ(admin_->Get("/sta/v1.1/Things").status, 200);
}

// A.6 CreateObservations at scale: 10,000 Observations in one request (a body larger than the
// server's general 256 KiB limit, which CreateObservations raises to 8 MiB), all stored.
TEST_P(StaWriteTest, CreateObservationsTenThousand) {
  json rows = json::array();
  for (int i = 0; i < 10'000; ++i)
    rows.push_back(Row({Rfc3339(kStaT0 + 1000LL * (i + 1)), i * 0.5}));
  json body = json::array({Element(temp_, rows)});
  ASSERT_GT(body.dump().size(), 256u * 1024);
  auto r = Post("CreateObservations", body);
  ASSERT_EQ(r.status, 201) << r.body.substr(0, 300);
  EXPECT_EQ(r.Json().size(), 10'000u);
  auto [status, count] =
      StaGet(*admin_, Ds(temp_) + "/Observations", {{"$count", "true"}, {"$top", "1"}});
  ASSERT_EQ(status, 200);
  EXPECT_EQ(count["@iot.count"], 10'001);
  // Other routes keep the general limit.
  std::string big(300 * 1024, ' ');
  EXPECT_EQ(admin_
                ->Request("POST", "/sta/v1.1/Observations", "{}" + big,
                          {"Content-Type: application/json"})
                .status,
            413);
}

// A.3 create-entity for Things, with deep insert of its Location: an HTTP device in the
// application named by properties.application.id; answered 201 with Location and the Thing.
TEST_P(StaWriteTest, CreateThingWithLocation) {
  json thing = {{"name", "Målestation"},
                {"description", "A station"},
                {"properties",
                 {{"application", {{"id", dev_.app_id}}},
                  {"tags", {"luft"}},
                  {"metadata", {{"room", "2.01"}}}}},
                {"Locations",
                 {{{"name", "Rådhuspladsen"},
                   {"encodingType", "application/geo+json"},
                   {"location", {{"type", "Point"}, {"coordinates", {12.5683, 55.6761}}}}}}}};
  auto r = Post("Things", thing);
  ASSERT_EQ(r.status, 201) << r.body;
  json t = r.Json();
  const int64_t id = t["@iot.id"].get<int64_t>();
  EXPECT_EQ(r.headers["location"], server_->url() + "/sta/v1.1/Things(" + std::to_string(id) + ")");
  EXPECT_EQ(t["name"], "Målestation");
  EXPECT_EQ(t["properties"]["application"]["id"], dev_.app_id);
  EXPECT_EQ(t["properties"]["tags"], json({"luft"}));
  auto [status, locs] = StaGet(*admin_, "Things(" + std::to_string(id) + ")/Locations");
  ASSERT_EQ(status, 200) << locs.dump();
  ASSERT_EQ(locs["value"].size(), 1u) << locs.dump();
  EXPECT_EQ(locs["value"][0]["location"]["coordinates"], json({12.5683, 55.6761}));
  // It is a device of the REST API too.
  auto dev = admin_->Get("/api/v1/devices/" + std::to_string(id));
  ASSERT_EQ(dev.status, 200) << dev.body;
  EXPECT_EQ(dev.Json()["transport"], "http");
  EXPECT_EQ(dev.Json()["applicationId"], dev_.app_id);
  // What a Thing cannot be given here: a 400 naming it, nothing created.
  auto expect400 = [&](const json& body, const std::string& needle) {
    auto bad = Post("Things", body);
    EXPECT_EQ(bad.status, 400) << body.dump() << " -> " << bad.body;
    EXPECT_NE(bad.body.find(needle), std::string::npos) << bad.body;
  };
  expect400({{"name", "x"}}, "properties.application.id");
  expect400({{"properties", {{"application", {{"id", dev_.app_id}}}}}}, "name");
  expect400({{"name", "x"},
             {"properties", {{"application", {{"id", dev_.app_id}}}}},
             {"Datastreams", {{{"name", "no key"}}}}},
            "Datastreams[0].ObservedProperty");
  expect400({{"name", "x"},
             {"properties", {{"application", {{"id", dev_.app_id}}}}},
             {"Locations", {{{"location", {{"type", "Polygon"}}}}}}},
            "Point");
  EXPECT_EQ(
      Post("Things", {{"name", "x"}, {"properties", {{"application", {{"id", 999999}}}}}}).status,
      404);
  auto [st2, all] = StaGet(*admin_, "Things");
  EXPECT_EQ(all["value"].size(), 2u) << all.dump();
}

// A.3 update-entity (PATCH) for Things: name, properties, Locations; other members refused.
TEST_P(StaWriteTest, PatchThing) {
  const std::string thing = "/sta/v1.1/Things(" + std::to_string(dev_.device_id) + ")";
  auto patch = [&](const json& body) {
    return admin_->Request("PATCH", thing, body.dump(), {"Content-Type: application/json"});
  };
  auto r = patch({{"name", "Nyt navn"},
                  {"properties", {{"tags", {"a", "b"}}}},
                  {"Locations",
                   {{{"location",
                      {{"type", "Feature"},
                       {"geometry", {{"type", "Point"}, {"coordinates", {10.2, 56.15}}}}}}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["name"], "Nyt navn");
  auto got = admin_->Get(thing);
  EXPECT_EQ(got.Json()["name"], "Nyt navn");
  EXPECT_EQ(got.Json()["properties"]["tags"], json({"a", "b"}));
  auto [status, loc] = StaGet(*admin_, "Things(" + std::to_string(dev_.device_id) + ")/Locations");
  ASSERT_EQ(loc["value"].size(), 1u) << loc.dump();
  EXPECT_EQ(loc["value"][0]["location"]["coordinates"], json({10.2, 56.15}));
  // Locations [] removes the location.
  ASSERT_EQ(patch({{"Locations", json::array()}}).status, 200);
  auto [st2, none] = StaGet(*admin_, "Things(" + std::to_string(dev_.device_id) + ")/Locations");
  EXPECT_EQ(none["value"].size(), 0u) << none.dump();
  EXPECT_EQ(patch({{"properties", {{"application", {{"id", 1}}}}}}).status, 400);
  EXPECT_EQ(patch({{"@iot.id", 5}}).status, 400);
  EXPECT_EQ(patch({{"name", ""}}).status, 400);
  // A Datastream's name is derived: a PATCH of it is a 400 naming it, not silently ignored.
  auto ds = admin_->Request("PATCH", "/sta/v1.1/" + Ds(temp_), json{{"name", "x"}}.dump(),
                            {"Content-Type: application/json"});
  EXPECT_EQ(ds.status, 400) << ds.body;
  EXPECT_NE(ds.body.find("'name'"), std::string::npos) << ds.body;
}

// A.3 delete-entity for Things: the device goes, and with it (as the standard cascades) its
// Datastreams, their Observations, its Location and HistoricalLocation: all 404 afterwards.
// (Single Datastreams and Observations: tests/integration/sta_crud_test.cc.)
TEST_P(StaWriteTest, DeleteThingCascades) {
  const std::string id = std::to_string(dev_.device_id);
  ASSERT_EQ(Post("Things(" + id + ")/Locations",
                 {{"location", {{"type", "Point"}, {"coordinates", {10.2, 56.1}}}}})
                .status,
            201);
  json located = StaGet(*admin_, "Things(" + id + ")/Locations").second["value"];
  ASSERT_EQ(located.size(), 1u) << located.dump();
  const std::string loc = std::to_string(located[0]["@iot.id"].get<int64_t>());
  auto r = admin_->Request("DELETE", "/sta/v1.1/Things(" + id + ")");
  ASSERT_EQ(r.status, 204) << r.body;
  for (const std::string& path : {"Things(" + id + ")", Ds(temp_), Ds(temp_) + "/Observations",
                                  "Observations('" + ObservationId(temp_, kStaT0) + "')",
                                  "Locations(" + loc + ")", "HistoricalLocations(" + loc + ")"})
    EXPECT_EQ(StaGet(*admin_, path).first, 404) << path;
  auto [status, obs] = StaGet(*admin_, "Observations");
  EXPECT_EQ(obs["value"].size(), 0u) << obs.dump();
  EXPECT_EQ(admin_->Get("/api/v1/devices/" + id).status, 404);
  EXPECT_EQ(admin_->Request("DELETE", "/sta/v1.1/Things(" + id + ")").status, 404);
}

// A.4 req/batch-request/batch-request (JSON batch format): requests run in order as the
// caller; "$<id>" names an entity created earlier; each answer has its own status; a request
// whose dependency failed is 424; a malformed batch is a 400.
TEST_P(StaWriteTest, BatchRequests) {
  const int64_t t = NowMs() / 1000 * 1000;
  json batch = {
      {"requests",
       {{{"id", "t"},
         {"method", "post"},
         {"url", "Things"},
         {"body", {{"name", "Batch"}, {"properties", {{"application", {{"id", dev_.app_id}}}}}}}},
        {{"id", "rename"},
         {"method", "PATCH"},
         {"url", "$t"},
         {"body", {{"name", "Batch 2"}}},
         {"dependsOn", {"t"}}},
        {{"id", "read"}, {"method", "GET"}, {"url", "$t?$select=name"}},
        {{"id", "obs"},
         {"method", "POST"},
         {"url", Ds(temp_) + "/Observations"},
         {"body", {{"phenomenonTime", Rfc3339(t)}, {"result", 4.5}}}},
        {{"id", "bad"},
         {"method", "POST"},
         {"url", Ds(temp_) + "/Observations"},
         {"body", {{"result", "x"}}}},
        {{"id", "after-bad"}, {"method", "GET"}, {"url", "Things"}, {"dependsOn", {"bad"}}},
        {{"id", "missing"}, {"method", "GET"}, {"url", "Things(999999)"}}}}};
  auto r = admin_->PostJson("/sta/v1.1/$batch", batch);
  ASSERT_EQ(r.status, 200) << r.body;
  json res = r.Json()["responses"];
  ASSERT_EQ(res.size(), 7u) << res.dump();
  EXPECT_EQ(res[0]["id"], "t");
  EXPECT_EQ(res[0]["status"], 201);
  const int64_t thing = res[0]["body"]["@iot.id"].get<int64_t>();
  EXPECT_EQ(res[1]["status"], 200) << res[1].dump();
  EXPECT_EQ(res[2]["status"], 200);
  EXPECT_EQ(res[2]["body"]["name"], "Batch 2");
  EXPECT_EQ(res[3]["status"], 201);
  EXPECT_EQ(res[3]["headers"]["location"],
            server_->url() + "/sta/v1.1/Observations('" + ObservationId(temp_, t) + "')");
  EXPECT_EQ(res[4]["status"], 400);
  EXPECT_EQ(res[5]["status"], 424);
  EXPECT_EQ(res[6]["status"], 404);
  EXPECT_EQ(StaGet(*admin_, "Things(" + std::to_string(thing) + ")").second["name"], "Batch 2");
  // Malformed batches: 400 naming the request and field, nothing run.
  for (const json& bad :
       {json{{"requests", {{{"id", "1"}, {"method", "GET"}, {"url", "../../api/v1/users"}}}}},
        json{{"requests", {{{"id", "1"}, {"method", "GET"}, {"url", "/api/v1/users"}}}}},
        json{{"requests", {{{"id", "1"}, {"method", "GET"}, {"url", "$batch"}}}}},
        json{{"requests",
              {{{"id", "1"}, {"method", "POST"}, {"url", "Things"}, {"atomicityGroup", "g"}}}}},
        json{{"requests", {{{"id", "1"}, {"method", "PUT"}, {"url", "Things"}}}}},
        json{{"requests",
              {{{"id", "1"}, {"method", "GET"}, {"url", "Things"}, {"dependsOn", {"2"}}}}}},
        json{{"value", json::array()}}}) {
    auto b = admin_->PostJson("/sta/v1.1/$batch", bad);
    EXPECT_EQ(b.status, 400) << bad.dump() << " -> " << b.body;
  }
  HttpClient anonymous(server_->url());
  EXPECT_EQ(anonymous.PostJson("/sta/v1.1/$batch", batch).status, 401);
  // Listed in the service root, now that its tests pass.
  json root = anonymous.Get("/sta/v1.1").Json();
  const std::string conf =
      "http://www.opengis.net/spec/iot_sensing/1.1/req/batch-request/batch-request";
  EXPECT_NE(root["serverSettings"]["conformance"].dump().find(conf), std::string::npos)
      << root.dump();
}

}  // namespace
}  // namespace bysans::testing
