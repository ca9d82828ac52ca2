// Decoders wired into ingest and the API, in process: a real SQLite store, the
// real pipeline with PipelineDecoder, the real JS sandbox.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "auth/auth.h"
#include "decode/pipeline_decoder.h"
#include "quality/quality_checker.h"
#include "store/decoder_store.h"
#include "unit/api/api_fixture.h"

namespace bysans::testing {
namespace {

class DecodeWiringTest : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    pipeline_->SetDecoder(std::make_shared<decode::PipelineDecoder>(store_->decoders(), *store_));
    MakeUser("admin@example.dk", "admin-password-1", true);
    admin_ = Login("admin@example.dk", "admin-password-1");
    org_ = MakeOrg("Aarhus");
    app_ = MakeApp(org_);
    device_ = MakeDevice(app_, "sensor-1", "key-1");
  }

  Id MakeOrg(const std::string& name) {
    auto r = Call("POST", "/api/v1/organizations", admin_, json{{"name", name}});
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body.value("id", Id{0});
  }
  Id MakeApp(Id org) {
    auto r = Call("POST", "/api/v1/organizations/" + std::to_string(org) + "/applications", admin_,
                  json{{"name", "app"}});
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body.value("id", Id{0});
  }
  Id MakeDevice(Id app, const std::string& name, const std::string& key) {
    auto a = store_->GetApplication(app);
    Device d;
    d.org_id = a.ok() ? a->org_id : 0;
    d.app_id = app;
    d.name = name;
    d.metadata = {{"factor", "3"}};
    d.created_ms = clock_.NowMs();
    auto r = store_->CreateDevice(d, auth::Sha256Hex(key));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->id : 0;
  }
  Id MakeDecoder(Id org, const std::string& code, const Creds& who) {
    auto r = Call("POST", "/api/v1/organizations/" + std::to_string(org) + "/decoders", who,
                  json{{"name", "dec"}, {"code", code}});
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body.value("id", Id{0});
  }
  Reply Ingest(const std::string& key, const json& body) {
    return Call("POST", "/api/v1/receive-data?apiKey=" + key, {}, body);
  }
  json Readings(Id device, const std::string& key) {
    auto r =
        Call("GET", "/api/v1/devices/" + std::to_string(device) + "/readings?key=" + key, admin_);
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.body["items"];
  }
  json Messages(Id device) {
    auto r = Call("GET", "/api/v1/devices/" + std::to_string(device) + "/messages", admin_);
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.body["items"];
  }
  Creds UserWithRole(const std::string& email, Id org, Role role) {
    User u = MakeUser(email, "user-password-1", false);
    EXPECT_TRUE(store_->PutMembership({u.id, org, role}).ok());
    return Login(email, "user-password-1");
  }

  Creds admin_;
  Id org_ = 0, app_ = 0, device_ = 0;
};

constexpr char kDoubler[] =
    "function decode(payload, metadata) {\n"
    "  var vars = JSON.parse(metadata.metadata);\n"
    "  return {t: payload.raw * 2, scaled: payload.raw * Number(vars.factor), "
    "name: metadata.name};\n}\n";

TEST_F(DecodeWiringTest, AttachedDecoderTurnsIngestIntoReadings) {
  Id dec = MakeDecoder(org_, kDoubler, admin_);
  auto put = Call("PUT", "/api/v1/applications/" + std::to_string(app_) + "/decoder", admin_,
                  json{{"decoderId", dec}});
  ASSERT_EQ(put.status, 200) << put.raw;
  ASSERT_EQ(Ingest("key-1", json{{"raw", 21}}).status, 204);
  auto t = Readings(device_, "t");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0]["value"], 42);
  EXPECT_EQ(Readings(device_, "scaled")[0]["value"], 63);
  EXPECT_EQ(Readings(device_, "name")[0]["value"], "sensor-1");
  EXPECT_TRUE(Readings(device_, "raw").empty());  // the decoder's output replaces the flattening
  auto msgs = Messages(device_);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["decodeStatus"], "ok");

  // A device's own decoder wins over its application's.
  Id own = MakeDecoder(org_, "function decode(p) { return {own: 1}; }", admin_);
  ASSERT_EQ(Call("PUT", "/api/v1/devices/" + std::to_string(device_) + "/decoder", admin_,
                 json{{"decoderId", own}})
                .status,
            200);
  ASSERT_EQ(Ingest("key-1", json{{"raw", 1}}).status, 204);
  EXPECT_EQ(Readings(device_, "own").size(), 1u);
  EXPECT_EQ(Readings(device_, "t").size(), 1u);
  // Detach both: readings are the flattened JSON again.
  for (std::string path : {"/api/v1/devices/" + std::to_string(device_) + "/decoder",
                           "/api/v1/applications/" + std::to_string(app_) + "/decoder"})
    ASSERT_EQ(Call("PUT", path, admin_, json{{"decoderId", nullptr}}).status, 200);
  ASSERT_EQ(Ingest("key-1", json{{"raw", 5}}).status, 204);
  EXPECT_EQ(Readings(device_, "raw").size(), 1u);
}

TEST_F(DecodeWiringTest, FailingDecodersKeepRawMessageAndNextMessageDecodes) {
  Id dec = MakeDecoder(org_,
                       "function decode(p) {\n"
                       "  if (p.mode === 'throw') throw new Error('bad frame');\n"
                       "  if (p.mode === 'loop') while (true) {}\n"
                       "  if (p.mode === 'undef') return undefined;\n"
                       "  return {v: p.v};\n}\n",
                       admin_);
  ASSERT_EQ(Call("PUT", "/api/v1/devices/" + std::to_string(device_) + "/decoder", admin_,
                 json{{"decoderId", dec}})
                .status,
            200);
  for (const char* mode : {"throw", "loop", "undef"}) {
    ASSERT_EQ(Ingest("key-1", json{{"mode", mode}, {"v", 1}}).status, 204) << mode;
    auto msgs = Messages(device_);
    ASSERT_FALSE(msgs.empty());
    EXPECT_EQ(msgs[0]["decodeStatus"], "error") << mode;
    EXPECT_FALSE(msgs[0]["decodeError"].get<std::string>().empty()) << mode;
    EXPECT_TRUE(Readings(device_, "v").empty()) << mode;
  }
  EXPECT_NE(Messages(device_)[1]["decodeError"].get<std::string>().find("time"), std::string::npos)
      << Messages(device_)[1];
  ASSERT_EQ(Ingest("key-1", json{{"mode", "ok"}, {"v", 7}}).status, 204);
  auto v = Readings(device_, "v");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["value"], 7);
  EXPECT_EQ(Messages(device_).size(), 4u);
}

TEST_F(DecodeWiringTest, TestEndpointNeedsEditorAndRunsCode) {
  json body = {{"orgId", org_},
               {"code",
                "function decodeUplink(i) { console.log('hi'); "
                "return {data: {t: i.bytes[0] + i.fPort}}; }"},
               {"payload", "2a"},
               {"fPort", 2}};
  EXPECT_EQ(Call("POST", "/api/v1/decoders/test", {}, body).status, 401);
  Creds viewer = UserWithRole("viewer@example.dk", org_, Role::kViewer);
  EXPECT_EQ(Call("POST", "/api/v1/decoders/test", viewer, body).status, 403);
  Creds editor = UserWithRole("editor@example.dk", org_, Role::kEditor);
  auto r = Call("POST", "/api/v1/decoders/test", editor, body);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["output"]["t"], 44);
  EXPECT_EQ(r.body["readings"][0]["key"], "t");
  EXPECT_EQ(r.body["log"][0], "hi");
  EXPECT_TRUE(r.body["error"].is_null());
  // A stored decoder with a device of the same organisation, base64 payload.
  Id dec = MakeDecoder(org_, kDoubler, editor);
  auto s = Call("POST", "/api/v1/decoders/test", editor,
                json{{"decoderId", dec}, {"deviceId", device_}, {"payload", {{"raw", 2}}}});
  ASSERT_EQ(s.status, 200) << s.raw;
  EXPECT_EQ(s.body["output"]["scaled"], 6);
  // Errors are reported in the body.
  auto e = Call(
      "POST", "/api/v1/decoders/test", editor,
      json{{"orgId", org_}, {"code", "function decode(p) { throw 'x'; }"}, {"payload", "AQI="}});
  ASSERT_EQ(e.status, 200) << e.raw;
  EXPECT_FALSE(e.body["error"].is_null());
  // Viewers read decoders but cannot write them.
  EXPECT_EQ(Call("GET", "/api/v1/decoders/" + std::to_string(dec), viewer).status, 200);
  EXPECT_EQ(
      Call("PATCH", "/api/v1/decoders/" + std::to_string(dec), viewer, json{{"name", "x"}}).status,
      403);
}

TEST_F(DecodeWiringTest, OtherOrganisationCannotSeeOrUseDecoders) {
  Id dec = MakeDecoder(org_, kDoubler, admin_);
  Id org_b = MakeOrg("Odense");
  Id app_b = MakeApp(org_b);
  Id dev_b = MakeDevice(app_b, "b-1", "key-b");
  Creds b = UserWithRole("b@example.dk", org_b, Role::kAdmin);
  std::string one = "/api/v1/decoders/" + std::to_string(dec);
  EXPECT_EQ(Call("GET", one, b).status, 404);
  EXPECT_EQ(Call("GET", one + "/versions", b).status, 404);
  EXPECT_EQ(Call("DELETE", one, b).status, 404);
  EXPECT_EQ(Call("POST", one + "/redecode", b, json::object()).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/organizations/" + std::to_string(org_) + "/decoders", b).status,
            404);
  EXPECT_EQ(Call("PUT", "/api/v1/devices/" + std::to_string(dev_b) + "/decoder", b,
                 json{{"decoderId", dec}})
                .status,
            404);
  EXPECT_EQ(
      Call("POST", "/api/v1/decoders/test", b, json{{"decoderId", dec}, {"payload", "00"}}).status,
      404);
  // Not even through admin's decoder + B's device.
  EXPECT_EQ(Call("POST", "/api/v1/decoders/test", admin_,
                 json{{"decoderId", dec}, {"deviceId", dev_b}, {"payload", "00"}})
                .status,
            404);
}

TEST_F(DecodeWiringTest, VersionsAndRedecodeAfterFix) {
  Id dec = MakeDecoder(org_, "function decode(p) { return {t: p.raw}; }", admin_);
  ASSERT_EQ(Call("PUT", "/api/v1/devices/" + std::to_string(device_) + "/decoder", admin_,
                 json{{"decoderId", dec}})
                .status,
            200);
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(Ingest("key-1", json{{"raw", i}}).status, 204);
    clock_.Advance(1000);
  }
  std::string one = "/api/v1/decoders/" + std::to_string(dec);
  auto patch =
      Call("PATCH", one, admin_, json{{"code", "function decode(p) { return {t: p.raw * 10}; }"}});
  ASSERT_EQ(patch.status, 200) << patch.raw;
  EXPECT_EQ(patch.body["version"], 2);
  auto versions = Call("GET", one + "/versions", admin_);
  ASSERT_EQ(versions.body["items"].size(), 2u);
  EXPECT_EQ(versions.body["items"][1]["version"], 1);

  for (int run = 0; run < 2; ++run) {  // idempotent: running it again changes nothing
    auto start = Call("POST", one + "/redecode", admin_, json::object());
    ASSERT_EQ(start.status, 202) << start.raw;
    std::string job = "/api/v1/jobs/" + std::to_string(start.body["jobId"].get<Id>());
    json status;
    for (int i = 0; i < 3000; ++i) {
      status = Call("GET", job, admin_).body;
      if (status["state"] != "queued" && status["state"] != "running") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(status["state"], "done") << status;
    EXPECT_EQ(status["done"], 3);
    EXPECT_EQ(status["total"], 3);
    EXPECT_EQ(status["errors"], 0);
    auto t = Readings(device_, "t");
    ASSERT_EQ(t.size(), 3u);
    EXPECT_EQ(t[0]["value"], 30);
    EXPECT_EQ(t[2]["value"], 10);
  }
  Creds b = UserWithRole("viewer@example.dk", MakeOrg("Other"), Role::kAdmin);
  EXPECT_EQ(Call("GET", "/api/v1/jobs/1", b).status, 404);
}

TEST_F(DecodeWiringTest, QualityFlagsFromDeviceModelRanges) {
  DeviceModel m;
  m.org_id = org_;
  m.name = "ERS CO2";
  m.doc_json = R"({"name":"ERS CO2","x-bysans-ranges":{"co2":{"min":0,"max":10000,"unit":"ppm",
      "maxRatePerS":10,"stuckCount":3}}})";
  m.created_ms = clock_.NowMs();
  auto model = store_->CreateDeviceModel(m);
  ASSERT_TRUE(model.ok());
  Device d = *store_->GetDevice(device_);
  d.device_model_id = model->id;
  quality::QualityChecker checker(*store_, clock_);
  TimeMs now = clock_.NowMs();
  auto one = [&](double v, TimeMs ts) {
    std::vector<Reading> r = {Reading{d.id, "co2", ts, v, "", Quality::kOk}};
    checker.Check(d, r);
    return r[0];
  };
  Reading first = one(500, now);
  EXPECT_EQ(first.quality, Quality::kOk);
  EXPECT_EQ(first.unit, "ppm");
  EXPECT_EQ(one(20000, now + 1000).quality, Quality::kOutOfRange);
  EXPECT_EQ(one(505, now + 2000).quality, Quality::kOk);
  EXPECT_EQ(one(900, now + 3000).quality, Quality::kSpike);  // 395 ppm in 1 s > 10/s
  EXPECT_EQ(one(900, now + 60000).quality, Quality::kOk);
  EXPECT_EQ(one(900, now + 120000).quality, Quality::kStuck);  // third time in a row
  EXPECT_EQ(one(600, now - 2 * 86400000).quality, Quality::kLate);
  EXPECT_EQ(one(600, now + 3600000).quality, Quality::kLate);
}

}  // namespace
}  // namespace bysans::testing
