// Decoder results and contracts in the real server (issue 15 items 2 and 3): a decodeUplink's
// warnings and errors are stored with each raw message and shown in the message list (and its
// CSV export) and the test endpoint (with `data` kept and the entry point that ran); a re-decode
// replaces them; a decoder's explicit contract is stored per version and chooses the entry point
// in the test endpoint and in the pipeline.
#include <gtest/gtest.h>

#include <string>

#include "backend_fixture.h"

namespace bysans::testing {
namespace {

constexpr const char* kWarns =
    "function decodeUplink(input) {"
    "  return {data: {t: input.bytes.length}, warnings: ['battery low']}; }";
constexpr const char* kFails =
    "function decodeUplink(input) {"
    "  return {data: {t: 99}, warnings: ['odd header'], errors: ['unknown frame type 9']}; }";
// An OS2iot file with a helper that happens to be called decodeUplink.
constexpr const char* kOs2iotWithHelper =
    "function decodeUplink(x) { return {data: {helper: 1}}; }"
    "function decode(payload, metadata) { return {right: 1}; }";

class DecoderResultsTest : public BackendServerTest {
 protected:
  HttpResult CreateDecoder(int64_t org, json body) {
    body["name"] = "dec";
    return admin_->PostJson("/api/v1/organizations/" + std::to_string(org) + "/decoders", body);
  }
  int64_t Created(const HttpResult& r) {
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("id", int64_t{0});
  }
  void Attach(const DeviceHandle& d, const json& decoder) { AttachDecoder(d.device_id, decoder); }
  static std::string DevPath(const DeviceHandle& d) {
    return "/api/v1/devices/" + std::to_string(d.device_id);
  }
};

BYSANS_ON_BOTH_STORES(DecoderResultsTest);

TEST_P(DecoderResultsTest, WarningsAndErrorsAreStoredAndShown) {
  DeviceHandle d = CreateHttpDevice("Vejle");
  const int64_t warns = Created(CreateDecoder(d.org_id, {{"code", kWarns}}));
  Attach(d, warns);
  ASSERT_EQ(Ingest(d.ingest_key, R"({"a": 1})").status, 204);
  json msgs = Items(DevPath(d) + "/messages");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["decodeStatus"], "ok") << msgs;
  EXPECT_EQ(msgs[0]["decodeWarnings"], json::array({"battery low"})) << msgs;
  EXPECT_EQ(msgs[0]["decodeErrors"], json::array()) << msgs;
  EXPECT_EQ(Items(DevPath(d) + "/readings?key=t").size(), 1u);

  // errors[] non-empty: decoding failed (TTN), the message is kept with the errors, no reading.
  const int64_t fails = Created(CreateDecoder(d.org_id, {{"code", kFails}}));
  Attach(d, fails);
  ASSERT_EQ(Ingest(d.ingest_key, R"({"a": 2})").status, 204);
  msgs = Items(DevPath(d) + "/messages");
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0]["decodeStatus"], "error") << msgs;
  EXPECT_EQ(msgs[0]["decodeErrors"], json::array({"unknown frame type 9"})) << msgs;
  EXPECT_EQ(msgs[0]["decodeWarnings"], json::array({"odd header"})) << msgs;
  EXPECT_FALSE(msgs[0]["decodeError"].get<std::string>().empty()) << msgs;
  EXPECT_EQ(Items(DevPath(d) + "/readings?key=t").size(), 1u);
  auto csv = admin_->Get(DevPath(d) + "/messages?format=csv");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_NE(csv.body.find("decode_errors,decode_warnings"), std::string::npos) << csv.body;
  EXPECT_NE(csv.body.find(R"([""unknown frame type 9""])"), std::string::npos) << csv.body;

  // The test endpoint: errors, warnings, the entry point, and `data` kept with the errors.
  auto t = admin_->PostJson("/api/v1/decoders/test",
                            {{"decoderId", fails}, {"payload", "0102"}, {"fPort", 1}});
  ASSERT_EQ(t.status, 200) << t.body;
  json r = t.Json();
  EXPECT_EQ(r["errors"], json::array({"unknown frame type 9"})) << r;
  EXPECT_EQ(r["warnings"], json::array({"odd header"})) << r;
  EXPECT_EQ(r["entryPoint"], "decodeUplink") << r;
  EXPECT_EQ(r["output"], json({{"t", 99}})) << r;
  EXPECT_TRUE(r["error"].is_string()) << r;
  t = admin_->PostJson("/api/v1/decoders/test",
                       {{"decoderId", warns}, {"payload", "010203"}, {"fPort", 1}});
  ASSERT_EQ(t.status, 200) << t.body;
  r = t.Json();
  EXPECT_TRUE(r["error"].is_null()) << r;
  EXPECT_EQ(r["warnings"], json::array({"battery low"})) << r;
  EXPECT_EQ(r["errors"], json::array()) << r;
  EXPECT_EQ(r["output"], json({{"t", 3}})) << r;

  // A re-decode with the warning decoder replaces the failed message's errors.
  auto patch = admin_->Request("PATCH", "/api/v1/decoders/" + std::to_string(fails),
                               json{{"code", kWarns}}.dump(), {"Content-Type: application/json"});
  ASSERT_EQ(patch.status, 200) << patch.body;
  auto job =
      admin_->PostJson("/api/v1/decoders/" + std::to_string(fails) + "/redecode", json::object());
  ASSERT_EQ(job.status, 202) << job.body;
  const std::string job_path = "/api/v1/jobs/" + std::to_string(job.Json().value("jobId", 0));
  ASSERT_TRUE(WaitFor([&] { return admin_->Get(job_path).Json().value("state", "") == "done"; }))
      << admin_->Get(job_path).body;
  msgs = Items(DevPath(d) + "/messages");
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0]["decodeStatus"], "ok") << msgs;
  EXPECT_EQ(msgs[0]["decodeErrors"], json::array()) << msgs;
  EXPECT_EQ(msgs[0]["decodeWarnings"], json::array({"battery low"})) << msgs;
}

TEST_P(DecoderResultsTest, AnExplicitContractChoosesTheEntryPoint) {
  DeviceHandle d = CreateHttpDevice("Kolding");
  auto bad = CreateDecoder(d.org_id, {{"code", kOs2iotWithHelper}, {"contract", "node-red"}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("auto, os2iot, ttn, chirpstack, chirpstack-v3, ttn-v2"),
            std::string::npos)
      << bad.body;

  auto made = CreateDecoder(d.org_id, {{"code", kOs2iotWithHelper}, {"contract", "os2iot"}});
  const int64_t id = Created(made);
  EXPECT_EQ(made.Json()["contract"], "os2iot") << made.body;
  const std::string path = "/api/v1/decoders/" + std::to_string(id);
  EXPECT_EQ(admin_->Get(path).Json()["contract"], "os2iot");

  // The stored decoder in the pipeline runs decode(payload, metadata), not the helper.
  Attach(d, id);
  ASSERT_EQ(Ingest(d.ingest_key, R"({"a": 1})").status, 204);
  EXPECT_EQ(Items(DevPath(d) + "/readings?key=right").size(), 1u);
  EXPECT_EQ(Items(DevPath(d) + "/readings?key=helper").size(), 0u);

  auto t = admin_->PostJson("/api/v1/decoders/test", {{"decoderId", id}, {"payload", "01"}});
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(t.Json()["entryPoint"], "decode") << t.body;
  EXPECT_EQ(t.Json()["output"], json({{"right", 1}})) << t.body;
  // The test endpoint takes a contract of its own, for a stored decoder or ad-hoc code.
  t = admin_->PostJson("/api/v1/decoders/test",
                       {{"decoderId", id}, {"payload", "01"}, {"contract", "ttn"}});
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(t.Json()["entryPoint"], "decodeUplink") << t.body;
  EXPECT_EQ(t.Json()["output"], json({{"helper", 1}})) << t.body;
  t = admin_->PostJson("/api/v1/decoders/test", {{"orgId", d.org_id},
                                                 {"code", kOs2iotWithHelper},
                                                 {"payload", "01"},
                                                 {"contract", "chirpstack-v4"}});
  EXPECT_EQ(t.status, 400) << t.body;

  // A new contract is a new version; the versions keep theirs.
  auto patch = admin_->Request("PATCH", path, json{{"contract", "chirpstack"}}.dump(),
                               {"Content-Type: application/json"});
  ASSERT_EQ(patch.status, 200) << patch.body;
  EXPECT_EQ(patch.Json()["version"], 2) << patch.body;
  EXPECT_EQ(patch.Json()["contract"], "chirpstack") << patch.body;
  patch = admin_->Request("PATCH", path, json{{"contract", "TTN"}}.dump(),
                          {"Content-Type: application/json"});
  EXPECT_EQ(patch.status, 400) << patch.body;
  json versions = Items(path + "/versions");
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0]["contract"], "chirpstack");
  EXPECT_EQ(versions[1]["contract"], "os2iot");
  // Without a contract, a decoder is "auto".
  auto plain = CreateDecoder(d.org_id, {{"code", kWarns}});
  EXPECT_EQ(plain.Json()["contract"], "auto") << plain.body;
}

}  // namespace
}  // namespace bysans::testing
