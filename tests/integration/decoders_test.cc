// Decoders in the real server (App's pipeline wiring): an attached OS2iot decoder turns HTTP
// ingest into readings, a throwing decoder keeps the raw message with its error, and the test
// endpoint runs the shipped Elsys ERS CO2 decoder on an 11-byte frame.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "fixture.h"

namespace bysans::testing {
namespace {

class DecodersTest : public ServerTest {
 protected:
  int64_t CreateDecoder(int64_t org, const std::string& code) {
    auto r = admin_->PostJson("/api/v1/organizations/" + std::to_string(org) + "/decoders",
                              {{"name", "dec"}, {"code", code}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("id", int64_t{0});
  }
  void Attach(const DeviceHandle& d, json decoder) {
    auto r =
        admin_->Request("PUT", "/api/v1/devices/" + std::to_string(d.device_id) + "/decoder",
                        json{{"decoderId", decoder}}.dump(), {"Content-Type: application/json"});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  json Items(const std::string& path) {
    auto r = admin_->Get(path);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json()["items"];
  }
};

TEST_F(DecodersTest, ElsysDecoderThroughTheServer) {
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

}  // namespace
}  // namespace bysans::testing
