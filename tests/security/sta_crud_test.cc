// SensorThings Create-Update-Delete (api/sta_datastreams.cc, api/sta_delete.cc): creating,
// patching and deleting Datastreams and deleting Observations needs the editor role in the
// Thing's organisation. Another organisation's editor cannot create
// a Datastream on A's Thing, patch A's Datastreams, or link a Datastream to A's Thing or
// Sensor (device model); a viewer cannot write; A's data is unchanged afterwards, and the
// legitimate use works.
#include "integration/sta_fixture.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

class StaCrudSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    ASSERT_EQ(Ingest(a_.device.ingest_key, json{{"ts", kStaT0}, {"temperature", 20}}.dump()).status,
              204);
    ds_a_ = DatastreamId(*a_.viewer.client, a_.device.device_id, "temperature");
    thing_a_ = "Things(" + std::to_string(a_.device.device_id) + ")";
    thing_b_ = "Things(" + std::to_string(b_.device.device_id) + ")";
  }
  static HttpResult Post(HttpClient& c, const std::string& path, const json& body) {
    return c.PostJson("/sta/v1.1/" + path, body);
  }
  static HttpResult Patch(HttpClient& c, const std::string& path, const json& body) {
    return c.Request("PATCH", "/sta/v1.1/" + path, body.dump(), {"Content-Type: application/json"});
  }
  static json NewDatastream(const std::string& key, const json& extra = json::object()) {
    json ds = {{"name", key},
               {"unitOfMeasurement", {{"symbol", "ppm"}}},
               {"ObservedProperty", {{"name", key}}}};
    for (const auto& [k, v] : extra.items()) ds[k] = v;
    return ds;
  }
  // A's Datastreams as A's viewer sees them: (key, unit) pairs.
  std::vector<std::pair<std::string, std::string>> DatastreamsOfA() {
    auto [status, body] = StaGet(*a_.viewer.client, thing_a_ + "/Datastreams");
    EXPECT_EQ(status, 200) << body.dump();
    std::vector<std::pair<std::string, std::string>> out;
    for (const json& ds : body["value"])
      out.emplace_back(ds["properties"]["key"], ds["unitOfMeasurement"]["symbol"]);
    return out;
  }
  std::string DsA() const { return "Datastreams(" + std::to_string(ds_a_) + ")"; }

  int64_t ds_a_ = 0;
  std::string thing_a_, thing_b_;
};

TEST_F(StaCrudSecurityTest, OtherOrganisationsEditorCannotCreateOrPatchDatastreams) {
  const auto before = DatastreamsOfA();
  ASSERT_EQ(before.size(), 1u);
  // On A's Thing, by path or by link: 404, as if it did not exist.
  auto by_path = Post(*b_.editor.client, thing_a_ + "/Datastreams", NewDatastream("co2"));
  EXPECT_EQ(by_path.status, 404) << by_path.body;
  EXPECT_EQ(by_path.body.find("Organisation A"), std::string::npos) << by_path.body;
  EXPECT_EQ(Post(*b_.admin.client, "Datastreams",
                 NewDatastream("co2", {{"Thing", {{"@iot.id", a_.device.device_id}}}}))
                .status,
            404);
  // A Things deep insert is B's own Thing, never A's: nothing to attack there; a Thing in A's
  // application is 404.
  EXPECT_EQ(Post(*b_.editor.client, "Things",
                 {{"name", "x"},
                  {"properties", {{"application", {{"id", a_.device.app_id}}}}},
                  {"Datastreams", json::array({NewDatastream("co2")})}})
                .status,
            404);
  // PATCH of A's Datastream: 404, unit unchanged.
  auto patch = Patch(*b_.editor.client, DsA(), {{"unitOfMeasurement", {{"symbol", "K"}}}});
  EXPECT_EQ(patch.status, 404) << patch.body;
  EXPECT_EQ(DatastreamsOfA(), before);
  // Through $batch too.
  json batch = {{"requests",
                 {{{"id", "1"},
                   {"method", "patch"},
                   {"url", DsA()},
                   {"body", {{"unitOfMeasurement", {{"symbol", "K"}}}}}}}}};
  auto b = Post(*b_.editor.client, "$batch", batch);
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(b.Json()["responses"][0]["status"], 404) << b.body;
  EXPECT_EQ(DatastreamsOfA(), before);
  // The legitimate use works: B on its own Thing, A's editor on A's.
  EXPECT_EQ(Post(*b_.editor.client, thing_b_ + "/Datastreams", NewDatastream("co2")).status, 201);
  EXPECT_EQ(Post(*a_.editor.client, thing_a_ + "/Datastreams", NewDatastream("co2")).status, 201);
  EXPECT_EQ(Patch(*a_.editor.client, DsA(), {{"unitOfMeasurement", {{"symbol", "K"}}}}).status,
            200);
  EXPECT_EQ(DatastreamsOfA().size(), 2u);
}

TEST_F(StaCrudSecurityTest, ViewerCannotCreateOrPatchDatastreams) {
  const auto before = DatastreamsOfA();
  EXPECT_EQ(Post(*a_.viewer.client, thing_a_ + "/Datastreams", NewDatastream("co2")).status, 403);
  EXPECT_EQ(Post(*a_.viewer.client, "Datastreams",
                 NewDatastream("co2", {{"Thing", {{"@iot.id", a_.device.device_id}}}}))
                .status,
            403);
  EXPECT_EQ(Patch(*a_.viewer.client, DsA(), {{"unitOfMeasurement", {{"symbol", "K"}}}}).status,
            403);
  HttpClient anonymous(server_->url());
  EXPECT_EQ(Post(anonymous, thing_a_ + "/Datastreams", NewDatastream("co2")).status, 401);
  EXPECT_EQ(DatastreamsOfA(), before);
}

// A Datastream's Sensor is its Thing's device model: B cannot link one of its Datastreams to
// A's device model (400, without A's model being named or described), nor A's Thing.
TEST_F(StaCrudSecurityTest, DatastreamCannotLinkAnotherOrganisationsSensor) {
  auto model = a_.admin.client->PostJson(a_.OrgPath() + "/device-models",
                                         {{"type", "DeviceModel"},
                                          {"name", "Hemmelig model"},
                                          {"controlledProperty", {"temperature"}}});
  ASSERT_EQ(model.status, 201) << model.body;
  const int64_t model_a = model.Json()["id"].get<int64_t>();
  auto patch = Send(*a_.admin.client, "PATCH", a_.DevicePath(), {{"deviceModelId", model_a}});
  ASSERT_EQ(patch.status, 200) << patch.body;
  auto r = Post(*b_.editor.client, thing_b_ + "/Datastreams",
                NewDatastream("co2", {{"Sensor", {{"@iot.id", model_a}}}}));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.body.find("Hemmelig"), std::string::npos) << r.body;
  auto deep = Post(
      *b_.editor.client, "Things",
      {{"name", "x"},
       {"properties", {{"application", {{"id", b_.device.app_id}}}}},
       {"Datastreams", json::array({NewDatastream("co2", {{"Sensor", {{"@iot.id", model_a}}}})})}});
  EXPECT_EQ(deep.status, 400) << deep.body;
  auto [st, things] = StaGet(*b_.viewer.client, "Things");
  EXPECT_EQ(things["value"].size(), 1u) << things.dump();  // nothing created
  // A links its own model: fine.
  EXPECT_EQ(Post(*a_.editor.client, thing_a_ + "/Datastreams",
                 NewDatastream("co2", {{"Sensor", {{"@iot.id", model_a}}}}))
                .status,
            201);
}

// Deletes erase data: another organisation's editor cannot delete A's Datastream or
// Observation (404, A's data still there), a viewer cannot (403); A's editor can.
TEST_F(StaCrudSecurityTest, OtherOrganisationsEditorOrAViewerCannotDelete) {
  const std::string obs = "Observations('" + ObservationId(ds_a_, kStaT0) + "')";
  auto del = [](HttpClient& c, const std::string& path) {
    return c.Request("DELETE", "/sta/v1.1/" + path);
  };
  auto b_obs = del(*b_.editor.client, obs);
  EXPECT_EQ(b_obs.status, 404) << b_obs.body;
  EXPECT_EQ(del(*b_.admin.client, DsA()).status, 404);
  EXPECT_EQ(del(*b_.admin.client, thing_a_).status, 404);
  EXPECT_EQ(del(*a_.viewer.client, obs).status, 403);
  EXPECT_EQ(del(*a_.viewer.client, DsA()).status, 403);
  HttpClient anonymous(server_->url());
  EXPECT_EQ(del(anonymous, DsA()).status, 401);
  // Through $batch too.
  json batch = {{"requests", {{{"id", "1"}, {"method", "delete"}, {"url", DsA()}}}}};
  auto b = Post(*b_.editor.client, "$batch", batch);
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(b.Json()["responses"][0]["status"], 404) << b.body;
  // A's Datastream and Observation are still there.
  EXPECT_EQ(StaGet(*a_.viewer.client, obs).first, 200);
  EXPECT_EQ(StaGet(*a_.viewer.client, DsA()).first, 200);
  // A's editor may delete them.
  EXPECT_EQ(del(*a_.editor.client, obs).status, 204);
  EXPECT_EQ(StaGet(*a_.viewer.client, obs).first, 404);
  EXPECT_EQ(del(*a_.editor.client, DsA()).status, 204);
  EXPECT_EQ(StaGet(*a_.viewer.client, DsA()).first, 404);
}

// Locations are the device's location: B cannot set, change or remove A's (404), A's viewer
// cannot (403); A's location is unchanged afterwards.
TEST_F(StaCrudSecurityTest, LocationsStayInTheirOrganisation) {
  const std::string loc = "Locations(" + std::to_string(a_.device.device_id) + ")";
  const json body = {{"encodingType", "application/geo+json"},
                     {"location", {{"type", "Point"}, {"coordinates", {12.0, 55.0}}}}};
  ASSERT_EQ(Post(*a_.editor.client, thing_a_ + "/Locations", body).status, 201);
  const json moved = {{"location", {{"type", "Point"}, {"coordinates", {1.0, 1.0}}}}};
  EXPECT_EQ(Post(*b_.editor.client, thing_a_ + "/Locations", moved).status, 404);
  json linked = moved;
  linked["Things"] = json::array({{{"@iot.id", a_.device.device_id}}});
  EXPECT_EQ(Post(*b_.editor.client, "Locations", linked).status, 404);
  EXPECT_EQ(Patch(*b_.editor.client, loc, moved).status, 404);
  EXPECT_EQ(b_.editor.client->Request("DELETE", "/sta/v1.1/" + loc).status, 404);
  EXPECT_EQ(Post(*a_.viewer.client, thing_a_ + "/Locations", moved).status, 403);
  EXPECT_EQ(Patch(*a_.viewer.client, loc, moved).status, 403);
  EXPECT_EQ(a_.viewer.client->Request("DELETE", "/sta/v1.1/" + loc).status, 403);
  auto [st, got] = StaGet(*a_.viewer.client, loc);
  ASSERT_EQ(st, 200);
  EXPECT_EQ(got["location"]["coordinates"], json({12.0, 55.0})) << got.dump();
  // A's editor may.
  EXPECT_EQ(Patch(*a_.editor.client, loc, moved).status, 200);
  EXPECT_EQ(a_.editor.client->Request("DELETE", "/sta/v1.1/" + loc).status, 204);
}

}  // namespace
}  // namespace bysans::testing
