// SensorThings API 1.1 Create-Update-Delete (OGC 18-088 A.3) for Datastreams against the real
// server (api/sta_datastreams.cc): a Datastream is a series (device, key) created before its
// first reading; one test per requirement, named after it. Roles and tenancy:
// tests/security/sta_crud_test.cc.
#include <chrono>
#include <thread>

#include "integration/backend_fixture.h"
#include "integration/sta_fixture.h"
#include "integration/store_contents.h"

namespace bysans::testing {
namespace {

constexpr const char* kMeasurement =
    "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement";

class StaCrudTest : public BackendServerTest {
 protected:
  void SetUp() override {
    BackendServerTest::SetUp();
    dev_ = CreateHttpDevice("Kommune");
    thing_ = "Things(" + std::to_string(dev_.device_id) + ")";
  }
  HttpResult Post(const std::string& path, const json& body) {
    return admin_->PostJson("/sta/v1.1/" + path, body);
  }
  HttpResult Patch(const std::string& path, const json& body) {
    return admin_->Request("PATCH", "/sta/v1.1/" + path, body.dump(),
                           {"Content-Type: application/json"});
  }
  // GET of a Location header's URL.
  json Read(const std::string& location) {
    auto r = admin_->Get(location.substr(server_->url().size()));
    EXPECT_EQ(r.status, 200) << location << ": " << r.body;
    return r.Json();
  }
  json Datastream(const std::string& key, const json& extra = json::object()) {
    json ds = {{"name", "NO2"},
               {"description", "Nitrogen dioxide"},
               {"unitOfMeasurement",
                {{"name", "microgram per cubic metre"},
                 {"symbol", "ug/m3"},
                 {"definition", "http://unitsofmeasure.org/ucum.html"}}},
               {"observationType", kMeasurement},
               {"ObservedProperty", {{"name", key}, {"definition", "urn:x"}}}};
    for (const auto& [k, v] : extra.items()) ds[k] = v;
    return ds;
  }
  size_t CountDatastreams() {
    auto [status, body] = StaGet(*admin_, thing_ + "/Datastreams");
    EXPECT_EQ(status, 200) << body.dump();
    return body["value"].size();
  }

  DeviceHandle dev_;
  std::string thing_;
};

BYSANS_ON_BOTH_STORES(StaCrudTest);

// req/create-update-delete/create-entity (Datastreams): POST Datastreams with its Thing linked
// answers 201 with a Location that serves it; it exists before its first reading, and that
// reading (from the device itself) goes into it.
TEST_P(StaCrudTest, CreateEntity) {
  auto r = Post("Datastreams", Datastream("air.no2", {{"Thing", {{"@iot.id", dev_.device_id}}}}));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string location = r.headers["location"];
  const int64_t id = r.Json()["@iot.id"].get<int64_t>();
  EXPECT_EQ(location, server_->url() + "/sta/v1.1/Datastreams(" + std::to_string(id) + ")");
  json ds = Read(location);
  EXPECT_EQ(ds["@iot.id"], id);
  EXPECT_EQ(ds["unitOfMeasurement"]["symbol"], "ug/m3");
  EXPECT_EQ(ds["properties"]["key"], "air.no2");
  auto [st, obs] = StaGet(*admin_, "Datastreams(" + std::to_string(id) + ")/Observations");
  EXPECT_EQ(st, 200);
  EXPECT_EQ(obs["value"].size(), 0u);
  auto [st2, op] = StaGet(*admin_, "Datastreams(" + std::to_string(id) + ")/ObservedProperty");
  EXPECT_EQ(op["@iot.id"], "air.no2") << op.dump();
  // The device's own reading of the key lands in this Datastream.
  ASSERT_EQ(Ingest(dev_.ingest_key, json{{"ts", kStaT0}, {"air", {{"no2", 17.5}}}}.dump()).status,
            204);
  EXPECT_EQ(DatastreamId(*admin_, dev_.device_id, "air.no2"), id);
  auto [st3, obs2] = StaGet(*admin_, "Datastreams(" + std::to_string(id) + ")/Observations");
  ASSERT_EQ(obs2["value"].size(), 1u) << obs2.dump();
  EXPECT_EQ(obs2["value"][0]["result"], 17.5);
  // And so do Observations POSTed to it.
  auto o = Post("Datastreams(" + std::to_string(id) + ")/Observations", {{"result", 18}});
  EXPECT_EQ(o.status, 201) << o.body;
  // The Thing already has a Datastream of this key: 409, still one.
  auto again = Post(thing_ + "/Datastreams", Datastream("air.no2"));
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_NE(again.body.find("Datastreams(" + std::to_string(id) + ")"), std::string::npos);
  EXPECT_EQ(CountDatastreams(), 1u);
  // Audited.
  auto audit = admin_->Get("/api/v1/audit?orgId=" + std::to_string(dev_.org_id));
  EXPECT_NE(audit.body.find("datastream"), std::string::npos) << audit.body;
}

// req/create-update-delete/link-to-existing-entities: the Thing by the path or by @iot.id,
// the ObservedProperty by @iot.id (the key), the Sensor by @iot.id (the device's model or the
// unknown Sensor 0); links that cannot hold are a 400 naming them, nothing created.
TEST_P(StaCrudTest, LinkToExistingEntities) {
  auto r = Post(thing_ + "/Datastreams",
                {{"name", "door"},
                 {"unitOfMeasurement", {{"name", ""}, {"symbol", ""}, {"definition", ""}}},
                 {"observationType",
                  "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_TruthObservation"},
                 {"ObservedProperty", {{"@iot.id", "door.open"}}},
                 {"Sensor", {{"@iot.id", 0}}}});
  ASSERT_EQ(r.status, 201) << r.body;
  json ds = r.Json();
  auto [st, thing] =
      StaGet(*admin_, "Datastreams(" + std::to_string(ds["@iot.id"].get<int64_t>()) + ")/Thing");
  EXPECT_EQ(thing["@iot.id"], dev_.device_id) << thing.dump();
  auto [st2, sensor] =
      StaGet(*admin_, "Datastreams(" + std::to_string(ds["@iot.id"].get<int64_t>()) + ")/Sensor");
  EXPECT_EQ(sensor["@iot.id"], 0) << sensor.dump();

  auto expect400 = [&](const std::string& path, const json& body, const std::string& needle) {
    auto bad = Post(path, body);
    EXPECT_EQ(bad.status, 400) << body.dump() << " -> " << bad.body;
    EXPECT_NE(bad.body.find(needle), std::string::npos) << bad.body;
  };
  expect400("Datastreams", Datastream("a"), "Thing is required");
  expect400(thing_ + "/Datastreams", Datastream("a", {{"Thing", {{"@iot.id", 999999}}}}),
            "differs");
  expect400(thing_ + "/Datastreams", Datastream("a", {{"Sensor", {{"@iot.id", 5}}}}), "Sensor");
  expect400(thing_ + "/Datastreams", Datastream("a", {{"Sensor", {{"name", "s"}}}}), "Sensor");
  expect400(thing_ + "/Datastreams", Datastream("a", {{"Thing", {{"name", "t"}}}}), "Thing");
  expect400(thing_ + "/Datastreams", Datastream("a", {{"ObservedProperty", {{"@iot.id", 3}}}}),
            "ObservedProperty");
  expect400(thing_ + "/Datastreams",
            Datastream("a", {{"observationType",
                              "http://www.opengis.net/def/observationType/"
                              "OGC-OM/2.0/OM_ComplexObservation"}}),
            "observationType");
  expect400(thing_ + "/Datastreams", Datastream("a", {{"phenomenonTime", "2026-01-01T00:00:00Z"}}),
            "phenomenonTime");
  expect400(thing_ + "/Datastreams", {{"name", "x"}}, "ObservedProperty");
  expect400(thing_ + "/Datastreams", Datastream("a", {{"Observations", json::array()}}),
            "Observations");
  EXPECT_EQ(Post("Datastreams", Datastream("a", {{"Thing", {{"@iot.id", 999999}}}})).status, 404);
  EXPECT_EQ(CountDatastreams(), 1u);
}

// req/create-update-delete/deep-insert: POST Things with its Location and Datastreams (each
// with its ObservedProperty) creates all of them, linked.
TEST_P(StaCrudTest, DeepInsert) {
  json body = {{"name", "Luftkvalitet 1"},
               {"description", "Air quality station"},
               {"properties", {{"application", {{"id", dev_.app_id}}}}},
               {"Locations",
                {{{"name", "Rådhuspladsen"},
                  {"encodingType", "application/geo+json"},
                  {"location", {{"type", "Point"}, {"coordinates", {12.57, 55.68}}}}}}},
               {"Datastreams",
                {Datastream("air.no2"),
                 Datastream("air.pm25", {{"unitOfMeasurement", {{"symbol", "ug/m3"}}}})}}};
  auto r = Post("Things", body);
  ASSERT_EQ(r.status, 201) << r.body;
  const int64_t id = r.Json()["@iot.id"].get<int64_t>();
  auto [st, list] = StaGet(*admin_, "Things(" + std::to_string(id) + ")/Datastreams",
                           {{"$expand", "ObservedProperty"}, {"$orderby", "id"}});
  ASSERT_EQ(st, 200);
  ASSERT_EQ(list["value"].size(), 2u) << list.dump();
  EXPECT_EQ(list["value"][0]["ObservedProperty"]["@iot.id"], "air.no2");
  EXPECT_EQ(list["value"][1]["ObservedProperty"]["@iot.id"], "air.pm25");
  EXPECT_EQ(list["value"][1]["unitOfMeasurement"]["symbol"], "ug/m3");
  auto [st2, loc] = StaGet(*admin_, "Things(" + std::to_string(id) + ")/Locations");
  EXPECT_EQ(loc["value"].size(), 1u) << loc.dump();
}

// req/create-update-delete/deep-insert-status-codes: a deep insert that cannot be done whole
// is refused (400 naming the nested member) and creates nothing, not even the Thing.
TEST_P(StaCrudTest, DeepInsertStatusCodes) {
  auto things = [&] {
    auto [st, list] = StaGet(*admin_, "Things");
    return list["value"].size();
  };
  const size_t before = things();
  json base = {{"name", "x"}, {"properties", {{"application", {{"id", dev_.app_id}}}}}};
  auto expect400 = [&](const json& datastreams, const std::string& needle) {
    json body = base;
    body["Datastreams"] = datastreams;
    auto bad = Post("Things", body);
    EXPECT_EQ(bad.status, 400) << body.dump() << " -> " << bad.body;
    EXPECT_NE(bad.body.find(needle), std::string::npos) << bad.body;
  };
  expect400(json::array({Datastream("a"), json{{"name", "no key"}}}),
            "Datastreams[1].ObservedProperty");
  expect400(json::array({Datastream("a"), Datastream("a")}), "Datastreams[1]");
  expect400(json::array({Datastream("a", {{"Sensor", {{"@iot.id", 7}}}})}),
            "Datastreams[0].Sensor");
  expect400(json::array({Datastream("a", {{"Thing", {{"@iot.id", dev_.device_id}}}})}), "Thing");
  expect400(json::object(), "Datastreams must be an array");
  EXPECT_EQ(things(), before);
  // Another application's id (none): 404, nothing created either.
  json body = base;
  body["properties"]["application"]["id"] = 999999;
  body["Datastreams"] = {Datastream("a")};
  EXPECT_EQ(Post("Things", body).status, 404);
  EXPECT_EQ(things(), before);
}

// req/create-update-delete/update-entity (Datastreams): PATCH changes what bysans keeps, the
// unit; any other member is a 400 naming it and changes nothing.
TEST_P(StaCrudTest, UpdateEntity) {
  auto r = Post(thing_ + "/Datastreams", Datastream("water.level"));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string ds = "Datastreams(" + std::to_string(r.Json()["@iot.id"].get<int64_t>()) + ")";
  auto p = Patch(ds, {{"unitOfMeasurement", {{"name", "centimetre"}, {"symbol", "cm"}}}});
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(p.Json()["unitOfMeasurement"]["symbol"], "cm");
  auto [st, got] = StaGet(*admin_, ds);
  EXPECT_EQ(got["unitOfMeasurement"]["symbol"], "cm");
  for (const char* member : {"name", "description", "observationType", "Thing"}) {
    auto bad = Patch(ds, {{member, "x"}, {"unitOfMeasurement", {{"symbol", "m"}}}});
    EXPECT_EQ(bad.status, 400) << member << ": " << bad.body;
    EXPECT_NE(bad.body.find(member), std::string::npos) << bad.body;
  }
  EXPECT_EQ(Patch(ds, json::object()).status, 400);
  EXPECT_EQ(Patch(ds, {{"unitOfMeasurement", 3}}).status, 400);
  auto [st2, after] = StaGet(*admin_, ds);
  EXPECT_EQ(after["unitOfMeasurement"]["symbol"], "cm");
  EXPECT_EQ(Patch("Datastreams(999999)", {{"unitOfMeasurement", {{"symbol", "m"}}}}).status, 404);
}

// $batch creates a Thing, then a Datastream of it through "$<id>".
TEST_P(StaCrudTest, BatchCreatesThingThenDatastream) {
  json batch = {
      {"requests",
       {{{"id", "t"},
         {"method", "post"},
         {"url", "Things"},
         {"body", {{"name", "B"}, {"properties", {{"application", {{"id", dev_.app_id}}}}}}}},
        {{"id", "d"},
         {"method", "post"},
         {"url", "$t/Datastreams"},
         {"dependsOn", {"t"}},
         {"body", Datastream("noise.laeq")}}}}};
  auto r = Post("$batch", batch);
  ASSERT_EQ(r.status, 200) << r.body;
  json responses = r.Json()["responses"];
  ASSERT_EQ(responses.size(), 2u) << r.body;
  EXPECT_EQ(responses[0]["status"], 201) << r.body;
  EXPECT_EQ(responses[1]["status"], 201) << r.body;
}

// req/create-update-delete/delete-entity: DELETE Observations(id) and DELETE Datastreams(id)
// answer 204 and the entity (a Datastream with its Observations: the standard's cascade) is 404
// from then on; the rest of the Thing stays.
TEST_P(StaCrudTest, DeleteEntity) {
  ASSERT_EQ(
      Ingest(dev_.ingest_key, json{{"ts", kStaT0}, {"temperature", 20.5}, {"humidity", 40}}.dump())
          .status,
      204);
  ASSERT_EQ(
      Ingest(dev_.ingest_key, json{{"ts", kStaT0 + kStaStep}, {"temperature", 21}}.dump()).status,
      204);
  const int64_t temp = DatastreamId(*admin_, dev_.device_id, "temperature");
  const int64_t hum = DatastreamId(*admin_, dev_.device_id, "humidity");
  const std::string obs = "Observations('" + ObservationId(temp, kStaT0 + kStaStep) + "')";
  auto del = admin_->Request("DELETE", "/sta/v1.1/" + obs);
  ASSERT_EQ(del.status, 204) << del.body;
  EXPECT_EQ(StaGet(*admin_, obs).first, 404);
  EXPECT_EQ(admin_->Request("DELETE", "/sta/v1.1/" + obs).status, 404);
  auto [st, left] = StaGet(*admin_, "Datastreams(" + std::to_string(temp) + ")");
  EXPECT_EQ(left["observationType"], kMeasurement) << left.dump();
  auto [st1, list] = StaGet(*admin_, "Datastreams(" + std::to_string(temp) + ")/Observations");
  ASSERT_EQ(list["value"].size(), 1u) << list.dump();
  EXPECT_EQ(list["value"][0]["result"], 20.5);
  // The Datastream and its Observations.
  const std::string ds = "Datastreams(" + std::to_string(temp) + ")";
  ASSERT_EQ(admin_->Request("DELETE", "/sta/v1.1/" + ds).status, 204);
  EXPECT_EQ(StaGet(*admin_, ds).first, 404);
  EXPECT_EQ(StaGet(*admin_, ds + "/Observations").first, 404);
  EXPECT_EQ(StaGet(*admin_, "Observations('" + ObservationId(temp, kStaT0) + "')").first, 404);
  EXPECT_EQ(admin_->Request("DELETE", "/sta/v1.1/" + ds).status, 404);
  EXPECT_EQ(CountDatastreams(), 1u);
  EXPECT_EQ(StaGet(*admin_, "Datastreams(" + std::to_string(hum) + ")/Observations")
                .second["value"]
                .size(),
            1u);
  EXPECT_EQ(StaGet(*admin_, thing_).first, 200);
  // A later reading of the key starts a new Datastream.
  ASSERT_EQ(Ingest(dev_.ingest_key, json{{"ts", kStaT0}, {"temperature", 5}}.dump()).status, 204);
  EXPECT_GT(DatastreamId(*admin_, dev_.device_id, "temperature"), temp);
  // Audited.
  auto audit = admin_->Get("/api/v1/audit?orgId=" + std::to_string(dev_.org_id));
  EXPECT_NE(audit.body.find("observation"), std::string::npos) << audit.body;
}

// req/create-update-delete/delete-entity for Things, with the cascade in the store: a string
// reading with a distinctive marker, deleted with its Thing, is gone from the API and from the
// store (SQLite: the database file and its WAL; PostgreSQL: every row of every table): the readings
// by DeleteSeries, the raw message that carried it by the store's eraser of a deleted device's
// messages.
TEST_P(StaCrudTest, DeleteThingErasesItsReadings) {
  auto r = Post(thing_ + "/Datastreams",
                Datastream("note", {{"observationType",
                                     "http://www.opengis.net/def/observationType/OGC-OM/2.0/"
                                     "OM_CategoryObservation"}}));
  ASSERT_EQ(r.status, 201) << r.body;
  const int64_t ds = r.Json()["@iot.id"].get<int64_t>();
  const std::string marker = "MARKER-7f3a-c0ffee-thing";
  auto o = Post("Datastreams(" + std::to_string(ds) + ")/Observations",
                {{"phenomenonTime", "2026-01-01T00:00:00Z"}, {"result", marker}});
  ASSERT_EQ(o.status, 201) << o.body;
  auto in_files = [&] { return StoreHolds(server_->data_dir(), server_env_, marker); };
  ASSERT_TRUE(in_files());  // the search finds it while it is kept
  ASSERT_EQ(admin_->Request("DELETE", "/sta/v1.1/" + thing_).status, 204);
  EXPECT_EQ(StaGet(*admin_, "Datastreams(" + std::to_string(ds) + ")").first, 404);
  auto [st, all] = StaGet(*admin_, "Observations");
  EXPECT_EQ(all["value"].size(), 0u) << all.dump();
  // The raw message's erasure runs on the store's own thread: wait for it (bounded).
  bool gone = false;
  for (int i = 0; i < 300 && !gone; ++i) {
    gone = !in_files();
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(gone) << "the marker is still in the store";
}

// Locations (create-entity, link-to-existing-entities, update-entity, delete-entity): a Location
// is an entry of its Thing's location history, a GeoJSON Point; setting the Thing's location
// (POST, or PATCH of its current Location) makes a new Location, the earlier ones stay as its
// history; other geometries are a clear 400.
TEST_P(StaCrudTest, Locations) {
  EXPECT_TRUE(StaGet(*admin_, thing_ + "/Locations").second["value"].empty());  // none yet
  auto id_of = [&](const HttpResult& r) {
    const std::string prefix = server_->url() + "/sta/v1.1/Locations(";
    const std::string at = r.headers.count("location") ? r.headers.at("location") : "";
    EXPECT_EQ(at.rfind(prefix, 0), 0u) << at;
    return at.size() > prefix.size() ? at.substr(prefix.size(), at.size() - prefix.size() - 1)
                                     : std::string("0");
  };
  json point = {{"type", "Point"}, {"coordinates", {12.57, 55.68}}};
  auto r = Post(thing_ + "/Locations", {{"name", "Rådhuset"},
                                        {"description", "Town hall"},
                                        {"encodingType", "application/geo+json"},
                                        {"location", point}});
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string first = "Locations(" + id_of(r) + ")";
  auto [st, got] = StaGet(*admin_, first);
  ASSERT_EQ(st, 200);
  EXPECT_EQ(got["location"]["coordinates"], json({12.57, 55.68})) << got.dump();
  auto dev = admin_->Get("/api/v1/devices/" + std::to_string(dev_.device_id));
  EXPECT_EQ(dev.Json()["location"]["lat"], 55.68) << dev.body;
  // POST Locations with its Thing linked: a new current Location.
  auto linked = Post("Locations", {{"name", "x"},
                                   {"encodingType", "application/geo+json"},
                                   {"location", {{"type", "Point"}, {"coordinates", {10.2, 56.1}}}},
                                   {"Things", json::array({{{"@iot.id", dev_.device_id}}})}});
  ASSERT_EQ(linked.status, 201) << linked.body;
  const std::string loc = "Locations(" + id_of(linked) + ")";
  EXPECT_NE(loc, first);
  EXPECT_EQ(StaGet(*admin_, loc).second["location"]["coordinates"], json({10.2, 56.1}));
  json now = StaGet(*admin_, thing_ + "/Locations").second["value"];
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0]["location"]["coordinates"], json({10.2, 56.1}));
  // PATCH of the current Location: 200 with the new current one; a past one does not change.
  auto p = Patch(loc, {{"location", {{"type", "Point"}, {"coordinates", {9.9, 57.0}}}}});
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(p.Json()["location"]["coordinates"], json({9.9, 57.0}));
  const std::string current = "Locations(" + id_of(p) + ")";
  EXPECT_EQ(StaGet(*admin_, loc).second["location"]["coordinates"], json({10.2, 56.1}));
  EXPECT_EQ(Patch(first, {{"location", point}}).status, 409);
  // What cannot be kept: a 400 naming it, nothing changed.
  auto poly = Patch(current, {{"location", {{"type", "Polygon"}, {"coordinates", json::array()}}}});
  EXPECT_EQ(poly.status, 400);
  EXPECT_NE(poly.body.find("Point"), std::string::npos) << poly.body;
  auto name = Patch(current, {{"name", "y"}});
  EXPECT_EQ(name.status, 400);
  EXPECT_NE(name.body.find("'name'"), std::string::npos) << name.body;
  EXPECT_EQ(Post("Locations", {{"location", point}}).status, 400);  // no Thing
  EXPECT_EQ(Post("Locations", {{"location", point},
                               {"Things", json::array({{{"@iot.id", dev_.device_id}},
                                                       {{"@iot.id", dev_.device_id}}})}})
                .status,
            400);
  EXPECT_EQ(Post(thing_ + "/Locations", {{"location", {{"type", "LineString"}}}}).status, 400);
  EXPECT_EQ(StaGet(*admin_, current).second["location"]["coordinates"], json({9.9, 57.0}));
  EXPECT_EQ(StaGet(*admin_, thing_ + "/HistoricalLocations").second["value"].size(), 3u);
  // DELETE of the current Location: the Thing no longer has one; the past ones stay history.
  ASSERT_EQ(admin_->Request("DELETE", "/sta/v1.1/" + current).status, 204);
  EXPECT_EQ(StaGet(*admin_, current).first, 404);
  EXPECT_EQ(StaGet(*admin_, thing_ + "/Locations").second["value"].size(), 0u);
  EXPECT_EQ(admin_->Request("DELETE", "/sta/v1.1/" + current).status, 404);
  EXPECT_EQ(StaGet(*admin_, thing_).first, 200);
  EXPECT_TRUE(admin_->Get("/api/v1/devices/" + std::to_string(dev_.device_id))
                  .Json()["location"]
                  .is_null());
  EXPECT_EQ(StaGet(*admin_, thing_ + "/HistoricalLocations").second["value"].size(), 2u);
  // DELETE of a past Location removes it (and its HistoricalLocation).
  ASSERT_EQ(admin_->Request("DELETE", "/sta/v1.1/" + first).status, 204);
  EXPECT_EQ(StaGet(*admin_, first).first, 404);
  EXPECT_EQ(StaGet(*admin_, thing_ + "/HistoricalLocations").second["value"].size(), 1u);
}

// Entities bysans has nothing to hold when they stand alone: a clear 501 naming what can be
// done instead.
TEST_P(StaCrudTest, EntitiesWithoutAPlaceInBysansAre501) {
  for (const char* set :
       {"Sensors", "ObservedProperties", "FeaturesOfInterest", "HistoricalLocations"}) {
    auto r = Post(set, {{"name", "x"}});
    EXPECT_EQ(r.status, 501) << set << ": " << r.body;
  }
}

}  // namespace
}  // namespace bysans::testing
