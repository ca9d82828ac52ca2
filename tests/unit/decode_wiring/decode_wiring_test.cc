// Decoders wired into ingest and the API, in process: a real SQLite store, the
// real pipeline with PipelineDecoder, the real JS sandbox.
#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <future>
#include <thread>

#include "auth/auth.h"
#include "decode/js/js_engine.h"
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

// A busy loop of `p.n` iterations. The engine's time limit counts the engine thread's CPU time
// (a loaded machine does not make a decoder fail), so the loop's length is calibrated in CPU time
// on this machine rather than with Date.now().
constexpr char kBusyLoop[] =
    "function decode(p) { var x = 0; for (var i = 0; i < p.n; i++) { x = (x + i * 7) % 1000003; }"
    " return {v: p.v, x: x}; }";

int64_t ThreadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Iterations of kBusyLoop that take about `cpu_ms` of CPU here (measured warm, i.e. at the
// fastest; a first run of the same code takes at least as long).
int64_t IterationsForCpuMs(int64_t cpu_ms) {
  decode::Limits limits;
  limits.time_ms = 20000;
  auto engine = decode::JsEngine::Create(limits);
  EXPECT_TRUE(engine.ok());
  if (!engine.ok()) return 0;
  int64_t n = 1 << 20;
  for (;;) {
    decode::DecodeInput in;
    in.uplink_json = json{{"n", n}, {"v", 0}}.dump();
    in.bytes = in.uplink_json;
    int64_t before = ThreadCpuNs();
    auto r = (*engine)->Decode(decode::JsDecoder{1, 1, 1, kBusyLoop}, in);
    int64_t cpu = ThreadCpuNs() - before;
    EXPECT_TRUE(r.status.ok()) << r.status.message();
    if (!r.status.ok()) return 0;
    if (cpu >= 150'000'000 || n > (int64_t{1} << 40)) return n * cpu_ms * 1'000'000 / cpu;
    n *= 4;
  }
}

// Organization::decoder_timeout_ms: 100 ms by default; an organisation admin raises it; the
// pipeline and the test endpoint use it; other organisations keep theirs.
TEST_F(DecodeWiringTest, DecoderTimeLimitIsPerOrganisation) {
  const int64_t n = IterationsForCpuMs(400);  // ~400 ms of CPU: over 100, far under 5000
  ASSERT_GT(n, 0);
  Id dec = MakeDecoder(org_, kBusyLoop, admin_);
  ASSERT_EQ(Call("PUT", "/api/v1/devices/" + std::to_string(device_) + "/decoder", admin_,
                 json{{"decoderId", dec}})
                .status,
            200);
  std::string org = "/api/v1/organizations/" + std::to_string(org_);
  EXPECT_EQ(Call("GET", org, admin_).body["decoderTimeoutMs"], 100);
  ASSERT_EQ(Ingest("key-1", json{{"v", 1}, {"n", n}}).status, 204);
  auto msgs = Messages(device_);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["decodeStatus"], "error");
  EXPECT_NE(msgs[0]["decodeError"].get<std::string>().find("time"), std::string::npos) << msgs;
  json test = {{"decoderId", dec}, {"payload", {{"v", 2}, {"n", n}}}};
  auto t1 = Call("POST", "/api/v1/decoders/test", admin_, test);
  ASSERT_EQ(t1.status, 200) << t1.raw;
  EXPECT_FALSE(t1.body["error"].is_null()) << t1.raw;

  // Only an organisation admin changes it, within 1..5000 (above 1000: a global admin).
  Creds editor = UserWithRole("editor@example.dk", org_, Role::kEditor);
  EXPECT_EQ(Call("PATCH", org, editor, json{{"decoderTimeoutMs", 3000}}).status, 403);
  EXPECT_EQ(Call("PATCH", org, admin_, json{{"decoderTimeoutMs", 0}}).status, 400);
  EXPECT_EQ(Call("PATCH", org, admin_, json{{"decoderTimeoutMs", 5001}}).status, 400);
  EXPECT_EQ(Call("PATCH", org, admin_, json{{"decoderTimeoutMs", "3000"}}).status, 400);
  Creds org_admin = UserWithRole("orgadmin@example.dk", org_, Role::kAdmin);
  // Above the server's cap (decode.max_timeout_ms, 1000 by default) only a global admin.
  auto over = Call("PATCH", org, org_admin, json{{"decoderTimeoutMs", 5000}});
  EXPECT_EQ(over.status, 403) << over.raw;
  EXPECT_NE(over.raw.find("1000"), std::string::npos) << over.raw;
  auto patch = Call("PATCH", org, org_admin, json{{"decoderTimeoutMs", 1000}});
  ASSERT_EQ(patch.status, 200) << patch.raw;
  EXPECT_EQ(patch.body["decoderTimeoutMs"], 1000);
  patch = Call("PATCH", org, admin_, json{{"decoderTimeoutMs", 5000}});  // the global admin
  ASSERT_EQ(patch.status, 200) << patch.raw;
  EXPECT_EQ(Call("GET", org, editor).body["decoderTimeoutMs"], 5000);
  auto audit = Call("GET", "/api/v1/audit?orgId=" + std::to_string(org_), admin_);
  ASSERT_EQ(audit.status, 200) << audit.raw;
  EXPECT_NE(audit.raw.find("decoderTimeoutMs"), std::string::npos) << audit.raw;

  // The pipeline and the test endpoint now let the decoder finish.
  ASSERT_EQ(Ingest("key-1", json{{"v", 7}, {"n", n}}).status, 204);
  EXPECT_EQ(Messages(device_)[0]["decodeStatus"], "ok") << Messages(device_);
  auto v = Readings(device_, "v");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["value"], 7);
  auto t2 = Call("POST", "/api/v1/decoders/test", editor, test);
  ASSERT_EQ(t2.status, 200) << t2.raw;
  EXPECT_TRUE(t2.body["error"].is_null()) << t2.raw;
  EXPECT_EQ(t2.body["output"]["v"], 2);

  // Another organisation keeps the default.
  Id org_b = MakeOrg("Odense");
  Id dev_b = MakeDevice(MakeApp(org_b), "b-1", "key-b");
  Id dec_b = MakeDecoder(org_b, kBusyLoop, admin_);
  ASSERT_EQ(Call("PUT", "/api/v1/devices/" + std::to_string(dev_b) + "/decoder", admin_,
                 json{{"decoderId", dec_b}})
                .status,
            200);
  ASSERT_EQ(Ingest("key-b", json{{"v", 1}, {"n", n}}).status, 204);
  EXPECT_EQ(Messages(dev_b)[0]["decodeStatus"], "error");
  auto t3 = Call("POST", "/api/v1/decoders/test", admin_,
                 json{{"decoderId", dec_b}, {"payload", {{"v", 2}, {"n", n}}}});
  EXPECT_FALSE(t3.body["error"].is_null()) << t3.raw;
  EXPECT_EQ(Call("GET", "/api/v1/organizations/" + std::to_string(org_b), admin_)
                .body["decoderTimeoutMs"],
            100);
}

// Jobs are rows in the store: a job left queued/running by a dead process is "interrupted"
// (InterruptJobs runs when the routes are registered) and can be run again.
TEST_F(DecodeWiringTest, InterruptedJobIsShownAndRunsAgain) {
  for (int i = 1; i <= 3; ++i) {  // stored before the decoder exists: no "t" yet
    ASSERT_EQ(Ingest("key-1", json{{"raw", i}}).status, 204);
    clock_.Advance(1000);
  }
  Id dec = MakeDecoder(org_, "function decode(p) { return {t: p.raw * 2}; }", admin_);
  ASSERT_EQ(Call("PUT", "/api/v1/devices/" + std::to_string(device_) + "/decoder", admin_,
                 json{{"decoderId", dec}})
                .status,
            200);
  EXPECT_TRUE(Readings(device_, "t").empty());
  StoredJob j;
  j.org_id = org_;
  j.kind = "redecode";
  j.state = "running";
  j.done = 1;
  j.total = 3;
  j.request = json{{"decoderId", dec}, {"from", INT64_MIN}, {"to", INT64_MAX}}.dump();
  auto created = store_->decoders().CreateJob(j);
  ASSERT_TRUE(created.ok()) << created.status().message();
  auto n = store_->decoders().InterruptJobs(clock_.NowMs(), {});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  std::string path = "/api/v1/jobs/" + std::to_string(created->id);
  auto got = Call("GET", path, admin_);
  ASSERT_EQ(got.status, 200) << got.raw;
  EXPECT_EQ(got.body["state"], "interrupted");
  EXPECT_EQ(got.body["done"], 1);

  Creds viewer = UserWithRole("viewer@example.dk", org_, Role::kViewer);
  EXPECT_EQ(Call("GET", path, viewer).status, 200);
  EXPECT_EQ(Call("POST", path + "/rerun", viewer, json::object()).status, 403);
  Creds other = UserWithRole("other@example.dk", MakeOrg("Other"), Role::kAdmin);
  EXPECT_EQ(Call("POST", path + "/rerun", other, json::object()).status, 404);
  for (int run = 0; run < 2; ++run) {  // re-running a done job is idempotent
    auto rerun = Call("POST", path + "/rerun", admin_, json::object());
    ASSERT_EQ(rerun.status, 202) << rerun.raw;
    json status;
    for (int i = 0; i < 3000; ++i) {
      status = Call("GET", path, admin_).body;
      if (status["state"] != "queued" && status["state"] != "running") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(status["state"], "done") << status;
    EXPECT_EQ(status["done"], 3);
    EXPECT_EQ(status["errors"], 0);
    EXPECT_TRUE(status["error"].is_null()) << status;
    auto t = Readings(device_, "t");
    ASSERT_EQ(t.size(), 3u);
    EXPECT_EQ(t[0]["value"], 6);
  }
}

// A LoRaWAN device with a decoder: an uplink's frame is decoded and the transport's radio
// readings (lorawan.*) are kept next to the decoder's; a ChirpStack status event (no frame) is
// not given to the decoder and keeps its parsed readings.
TEST_F(DecodeWiringTest, LorawanRadioReadingsAndStatusEventsBesideTheDecoder) {
  auto a = store_->GetApplication(app_);
  ASSERT_TRUE(a.ok());
  Device d;
  d.org_id = a->org_id;
  d.app_id = app_;
  d.name = "ers-1";
  d.transport = Transport::kLorawan;
  d.dev_eui = "a81758fffe0312a4";
  d.created_ms = clock_.NowMs();
  auto created = store_->CreateDevice(d, "");
  ASSERT_TRUE(created.ok()) << created.status().message();
  Id dec = MakeDecoder(org_,
                       "function decodeUplink(i) { return {data: {co2: (i.bytes[0] << 8) | "
                       "i.bytes[1]}}; }",
                       admin_);
  ASSERT_EQ(Call("PUT", "/api/v1/devices/" + std::to_string(created->id) + "/decoder", admin_,
                 json{{"decoderId", dec}})
                .status,
            200);
  auto submit = [&](pipeline::Uplink u) {
    std::promise<Status> done;
    auto f = done.get_future();
    pipeline_->Submit(std::move(u), [&](Status st) { done.set_value(st); });
    return f.get();
  };
  auto device = std::make_shared<const Device>(*created);
  auto reading = [&](const std::string& key, double v) {
    Reading r;
    r.device_id = created->id;
    r.key = key;
    r.ts = clock_.NowMs();
    r.value = v;
    return r;
  };
  pipeline::Uplink up;
  up.device = device;
  up.raw.device_id = created->id;
  up.raw.received_ms = clock_.NowMs();
  up.raw.transport = Transport::kLorawan;
  up.raw.content_type = "application/json";
  up.raw.payload = R"({"fPort":5,"data":"AyA="})";
  up.raw.decode_status = DecodeStatus::kNone;
  up.fport = 5;
  up.frame = std::string("\x03\x20", 2);
  up.readings = {reading("lorawan.rssi", -97), reading("lorawan.fcnt", 12)};
  ASSERT_TRUE(submit(std::move(up)).ok());
  auto co2 = Readings(created->id, "co2");
  ASSERT_EQ(co2.size(), 1u);
  EXPECT_EQ(co2[0]["value"], 800);
  ASSERT_EQ(Readings(created->id, "lorawan.rssi").size(), 1u);
  EXPECT_EQ(Readings(created->id, "lorawan.fcnt").size(), 1u);
  EXPECT_EQ(Messages(created->id)[0]["decodeStatus"], "ok");

  clock_.Advance(1000);
  pipeline::Uplink status;
  status.device = device;
  status.raw.device_id = created->id;
  status.raw.received_ms = clock_.NowMs();
  status.raw.transport = Transport::kLorawan;
  status.raw.content_type = "application/json";
  status.raw.payload = R"({"margin":7,"batteryLevel":88})";
  status.raw.decode_status = DecodeStatus::kNone;
  status.readings = {reading("battery", 88)};
  ASSERT_TRUE(submit(std::move(status)).ok());
  EXPECT_EQ(Readings(created->id, "battery").size(), 1u);
  EXPECT_EQ(Messages(created->id)[0]["decodeStatus"], "none") << Messages(created->id);
  EXPECT_EQ(Readings(created->id, "co2").size(), 1u);
}

}  // namespace
}  // namespace bysans::testing
