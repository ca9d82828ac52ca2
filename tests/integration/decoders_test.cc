// Decoders in the real server (App's pipeline wiring): an attached OS2iot decoder turns HTTP
// ingest into readings, a throwing decoder keeps the raw message with its error, and the test
// endpoint runs the shipped Elsys ERS CO2 decoder on an 11-byte frame. The demo (`make run`,
// `serve --demo`) sends its LoRaWAN devices' vendor frames as ChirpStack uplinks over MQTT
// through the shipped decoders. Re-decode jobs survive a kill -9 as "interrupted" and re-run.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "backend_fixture.h"

namespace bysans::testing {
namespace {

class DecodersTest : public BackendServerTest {
 protected:
  int64_t CreateDecoder(int64_t org, const std::string& code) {
    auto r = admin_->PostJson("/api/v1/organizations/" + std::to_string(org) + "/decoders",
                              {{"name", "dec"}, {"code", code}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("id", int64_t{0});
  }
  void Attach(const DeviceHandle& d, const json& decoder) { AttachDecoder(d.device_id, decoder); }
};

BYSANS_ON_BOTH_STORES(DecodersTest);

TEST_P(DecodersTest, ElsysDecoderThroughTheServer) {
  DeviceHandle d = CreateHttpDevice("Aarhus");
  std::ifstream f(std::string(BYSANS_SOURCE_DIR) + "/decoders/elsys-ers-co2.js");
  std::stringstream code;
  code << f.rdbuf();
  Attach(d, CreateDecoder(d.org_id,
                          "function decode(p, m) { return {co2: p.co2 * 2, dev: m.name}; }"));
  ASSERT_EQ(Ingest(d.ingest_key, R"({"co2": 400})").status, 204);
  std::string dev = "/api/v1/devices/" + std::to_string(d.device_id);
  auto co2 = Items(dev + "/readings?key=co2");
  ASSERT_EQ(co2.size(), 1u);
  EXPECT_EQ(co2[0]["value"], 800);

  // A throwing decoder: the message is kept with its error; the server keeps serving.
  Attach(d, CreateDecoder(d.org_id, "function decode(p) { throw new Error('broken'); }"));
  ASSERT_EQ(Ingest(d.ingest_key, R"({"co2": 500})").status, 204);
  auto msgs = Items(dev + "/messages");
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0]["decodeStatus"], "error");
  EXPECT_NE(msgs[0]["decodeError"].get<std::string>().find("broken"), std::string::npos);
  EXPECT_EQ(Items(dev + "/readings?key=co2").size(), 1u);

  // Test endpoint with the shipped Elsys decoder: 11 bytes, hex.
  auto t = admin_->PostJson("/api/v1/decoders/test", {{"orgId", d.org_id},
                                                      {"code", code.str()},
                                                      {"payload", "0100e202290400270601f4"},
                                                      {"fPort", 5}});
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(t.Json()["output"]["co2"], 500) << t.body;
  EXPECT_DOUBLE_EQ(t.Json()["output"]["temperature"].get<double>(), 22.6) << t.body;
  HttpClient anon(server_->url());
  EXPECT_EQ(anon.Request("POST", "/api/v1/decoders/test", R"({"orgId":1,"payload":"00"})",
                         {"Content-Type: application/json"})
                .status,
            401);
}

// The test endpoint answers with the decoder's output as JSON.stringify gives it: key order and
// number format kept, byte for byte.
TEST_P(DecodersTest, TestEndpointKeepsTheDecodersJsonText) {
  DeviceHandle d = CreateHttpDevice("Odense");
  auto t = admin_->PostJson(
      "/api/v1/decoders/test",
      {{"orgId", d.org_id},
       {"code", "function decode(p) { return {b: 1, a: 1e-7, c: [1.5, 100], s: 'x\\u00e6\"'}; }"},
       {"payload", "00"}});
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(t.body.rfind(R"({"output":{"b":1,"a":1e-7,"c":[1.5,100],"s":"xæ\""},)", 0), 0u)
      << t.body;
  EXPECT_EQ(t.Json()["readings"].size(), 5u) << t.body;
  EXPECT_TRUE(t.Json()["error"].is_null()) << t.body;
}

// `bysans serve --demo` as `make run` starts it (free ports here): the LoRaWAN demo devices'
// frames arrive over MQTT as ChirpStack uplinks and are decoded by the shipped decoders.
TEST(DemoTest, LorawanDemoDevicesAreDecodedByShippedDecoders) {
  setenv("BYSANS_DEMO_INTERVAL_S", "2", 1);
  ServerProcess server({}, {"--demo"});
  bool started = server.Start();
  unsetenv("BYSANS_DEMO_INTERVAL_S");
  ASSERT_TRUE(started) << server.log();
  HttpClient admin(server.url());
  ASSERT_EQ(admin.Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword).status, 200);
  int64_t org = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        json orgs = admin.Get("/api/v1/organizations").Json();
        for (const auto& o : orgs["items"])
          if (o["name"] == "Demo Kommune") org = o["id"].get<int64_t>();
        return org != 0;
      },
      60))
      << server.log();
  // The demo is seeded while the server already answers: wait for all of it.
  json devices;
  WaitFor(
      [&] {
        devices =
            admin.Get("/api/v1/organizations/" + std::to_string(org) + "/devices?limit=100").Json();
        return devices["total"] == 28;
      },
      60);
  ASSERT_EQ(devices["total"], 28) << devices;  // the demo's device count is stable
  std::map<std::string, json> by_name;
  int lorawan = 0;
  for (const auto& d : devices["items"]) {
    by_name[d["name"].get<std::string>()] = d;
    if (d["transport"] == "lorawan") ++lorawan;
  }
  EXPECT_EQ(lorawan, 17);
  json decoders = admin.Get("/api/v1/organizations/" + std::to_string(org) + "/decoders").Json();
  EXPECT_EQ(decoders["total"], 4) << decoders;
  // Privacy by design in the demo too: the fall sensors (citizens' homes) are personal data.
  json apps = admin.Get("/api/v1/organizations/" + std::to_string(org) + "/applications").Json();
  for (const auto& a : apps["items"]) {
    const bool falls = a.value("name", "").find("faldsensorer") != std::string::npos;
    EXPECT_EQ(a.value("personalData", !falls), falls) << a;
  }

  // An Elsys ERS CO2 room sensor, a Decentlab DL-MBX bin sensor, an HTTP room.
  struct Expect {
    std::string device, transport;
    std::vector<std::string> keys;
  };
  for (const Expect& e :
       {Expect{"Klasselokale 1", "lorawan", {"co2", "temperature", "humidity", "lorawan.rssi"}},
        Expect{"Affaldsbeholder 2", "lorawan", {"distance", "battery_voltage"}},
        Expect{"Målestation 1", "lorawan", {"pm2_5_mass_concentration", "air_temperature"}},
        Expect{"Klasselokale 8", "http", {"co2"}}}) {
    ASSERT_TRUE(by_name.count(e.device)) << e.device;
    const json& d = by_name[e.device];
    EXPECT_EQ(d["transport"], e.transport) << d;
    if (e.transport == "lorawan") {
      EXPECT_EQ(d["devEui"].get<std::string>().size(), 16u) << d;
    }
    std::string dev = "/api/v1/devices/" + std::to_string(d["id"].get<int64_t>());
    json msgs;
    ASSERT_TRUE(WaitFor(
        [&] {
          msgs = admin.Get(dev + "/messages").Json()["items"];
          return msgs.is_array() && !msgs.empty();
        },
        120))
        << e.device << "\n"
        << server.log();
    if (e.transport == "lorawan") {
      EXPECT_EQ(msgs[0]["decodeStatus"], "ok") << msgs[0];
    }
    for (const auto& key : e.keys) {
      json items;
      EXPECT_TRUE(WaitFor(
          [&] {
            items = admin.Get(dev + "/readings?key=" + key).Json()["items"];
            return items.is_array() && !items.empty();
          },
          60))
          << e.device << " has no " << key << " readings";
    }
  }
  // The CO2 the Elsys frame carried is a plausible room value.
  std::string room =
      "/api/v1/devices/" + std::to_string(by_name["Klasselokale 1"]["id"].get<int64_t>());
  json co2 = admin.Get(room + "/readings?key=co2").Json()["items"];
  ASSERT_FALSE(co2.empty());
  EXPECT_GE(co2[0]["value"].get<double>(), 380);
  EXPECT_LT(co2[0]["value"].get<double>(), 5000);
}

// A re-decode job survives a crash: after kill -9 mid-job and a restart, GET /jobs/{id} shows
// "interrupted"; re-running it decodes every message with the current version, nothing lost.
TEST_P(DecodersTest, RedecodeJobSurvivesKillAndReruns) {
  DeviceHandle d = CreateHttpDevice("Aarhus");
  int64_t dec = CreateDecoder(d.org_id, "function decode(p) { return {t: p.raw}; }");
  Attach(d, dec);
  constexpr int kMessages = 60;
  for (int i = 1; i <= kMessages; ++i) {
    ASSERT_EQ(Ingest(d.ingest_key, "{\"raw\": " + std::to_string(i) + "}").status, 204);
    // Readings take the receive time: keep the messages' milliseconds apart (one point each).
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // Version 2: ten times the value, and slow (40 ms a message) so that the job runs a while.
  auto patch = admin_->Request(
      "PATCH", "/api/v1/decoders/" + std::to_string(dec),
      json{{"code",
            "function decode(p) { var t = Date.now(); while (Date.now() - t < 40) {} "
            "return {t: p.raw * 10}; }"}}
          .dump(),
      {"Content-Type: application/json"});
  ASSERT_EQ(patch.status, 200) << patch.body;
  auto start =
      admin_->PostJson("/api/v1/decoders/" + std::to_string(dec) + "/redecode", json::object());
  ASSERT_EQ(start.status, 202) << start.body;
  std::string job = "/api/v1/jobs/" + std::to_string(start.Json()["jobId"].get<int64_t>());
  ASSERT_TRUE(WaitFor([&] { return admin_->Get(job).Json()["state"] == "running"; }, 60))
      << admin_->Get(job).body;
  std::unique_ptr<ServerProcess> old = std::move(server_);
  old->Kill9();
  StartServer(old->data_dir());
  if (HasFatalFailure()) return;

  // SQLite: at once. PostgreSQL: once the killed process's node lease has run out (6 s) and this
  // process holds it (the coordinator's next round, 2 s), never an hour later.
  auto after = admin_->Get(job);
  ASSERT_EQ(after.status, 200) << after.body;
  if (postgres()) {
    EXPECT_TRUE(WaitFor([&] { return admin_->Get(job).Json()["state"] == "interrupted"; }, 20))
        << admin_->Get(job).body;
  } else {
    EXPECT_EQ(after.Json()["state"], "interrupted") << after.body;
  }
  auto rerun = admin_->PostJson(job + "/rerun", json::object());
  ASSERT_EQ(rerun.status, 202) << rerun.body;
  json status;
  ASSERT_TRUE(WaitFor(
      [&] {
        status = admin_->Get(job).Json();
        return status["state"] != "queued" && status["state"] != "running";
      },
      120));
  ASSERT_EQ(status["state"], "done") << status;
  EXPECT_EQ(status["done"], kMessages);
  EXPECT_EQ(status["errors"], 0);
  std::string dev = "/api/v1/devices/" + std::to_string(d.device_id);
  auto t = Items(dev + "/readings?key=t&limit=1000");
  ASSERT_EQ(t.size(), static_cast<size_t>(kMessages));
  double sum = 0;
  for (const auto& r : t) sum += r["value"].get<double>();
  EXPECT_EQ(sum, 10.0 * kMessages * (kMessages + 1) / 2);  // every message, version 2
  server_->Kill9();
  server_.reset();
}

}  // namespace
}  // namespace bysans::testing
