// Hostile decoder code against the real server (issue 15, findings 8 and 9): a promise job, a
// top-level `return`, a Proxy handed back as the entry points and a looping getter on the
// output, each sent by an editor through the test endpoint, answer an error within seconds and
// the server keeps serving; a poison decoder stored on an HTTP device gets its message stored
// raw with an error status. Each test also checks the legitimate use, so it cannot pass by
// everything being broken.
#include <chrono>
#include <string>

#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

constexpr const char* kGood = "function decode(p, m) { return { co2: 400, data: p.data }; }";

class DecoderSafetyTest : public SecurityTest {
 protected:
  // Runs `code` on two bytes through the test endpoint as A's editor, within 5 s.
  json TryCode(const std::string& code) {
    auto start = std::chrono::steady_clock::now();
    auto r = Send(*a_.editor.client, "POST", "/api/v1/decoders/test",
                  {{"orgId", a_.device.org_id}, {"code", code}, {"payload", "0102"}, {"fPort", 1}});
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << code;
    EXPECT_EQ(r.status, 200) << code << "\n" << r.body << server_->log();
    return r.Json();
  }

  // The attack answered an error naming `what`, and the server still serves and decodes.
  void ExpectRefused(const std::string& code, const std::string& what) {
    json r = TryCode(code);
    ASSERT_TRUE(r.is_object()) << code;
    ASSERT_TRUE(r["error"].is_string()) << code << "\n" << r;
    EXPECT_NE(r["error"].get<std::string>().find(what), std::string::npos) << code << "\n" << r;
    ExpectServing();
  }

  void ExpectServing() {
    HttpClient probe(server_->url());
    ASSERT_EQ(probe.Get("/healthz").status, 200) << server_->log();
    json good = TryCode(kGood);
    EXPECT_TRUE(good["error"].is_null()) << good;
    EXPECT_EQ(good["output"]["co2"], 400) << good;
  }

  int64_t StoredDecoder(const std::string& code) {
    auto r = Send(*a_.editor.client, "POST", a_.OrgPath() + "/decoders",
                  {{"name", "poison?"}, {"code", code}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("id", int64_t{0});
  }

  void Attach(int64_t decoder) {
    auto r = Send(*a_.editor.client, "PUT", a_.DevicePath() + "/decoder", {{"decoderId", decoder}});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  json Messages() {
    auto r = a_.viewer.client->Get(a_.DevicePath() + "/messages");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().value("items", json::array());
  }
};

// Finding 8: a promise reaction crashed the process (no job queue). Jobs now run inside the
// call's limits: a normal one runs, a looping one is stopped by the time limit.
TEST_F(DecoderSafetyTest, PromiseJobsRunWithinTheLimits) {
  json r = TryCode(
      "function decode(p, m) { Promise.resolve(7).then((v) => console.log('job ' + v));"
      " return { co2: 1 }; }");
  EXPECT_TRUE(r["error"].is_null()) << r;
  EXPECT_EQ(r["output"]["co2"], 1) << r;
  EXPECT_EQ(r["log"], json::array({"job 7"})) << r;
  ExpectRefused(
      "function decode(p, m) { Promise.resolve().then(() => { for (;;) {} }); return {}; }",
      "time limit");
  ExpectRefused(
      "async function later() { await null; for (;;) {} }\n"
      "function decode(p, m) { later(); return {}; }",
      "time limit");
}

// Finding 8: a top-level `return` crashed the process (unchecked toObject()). The API wants
// an entry point's name in the code, so the attack carries one.
TEST_F(DecoderSafetyTest, TopLevelReturnIsAnError) {
  ExpectRefused("return 1;\nfunction decode(p, m) { return {}; }", "`return` outside a function");
  ExpectRefused("return;\nfunction decodeUplink(i) { return {}; }", "`return` outside a function");
}

// Finding 9: entry points were read after the time limit ended, so a returned Proxy's trap ran
// unlimited and held the decode thread for ever.
TEST_F(DecoderSafetyTest, ProxyAsEntryPointsRunsNoUntimedCode) {
  ExpectRefused(
      "return new Proxy([], { get() { for (;;) {} }, getOwnPropertyDescriptor() { for (;;) {} },"
      " has() { for (;;) {} } });\nfunction decode(p, m) { return {}; }",
      "`return` outside a function");
  ExpectRefused(
      "var a = []; Object.defineProperty(a, 1, { get() { for (;;) {} } }); return a;\n"
      "function decode(p, m) { return {}; }",
      "defines none of");
}

// Finding 9: getters and toJSON on the returned data run inside the timed call.
TEST_F(DecoderSafetyTest, LoopingGetterOnTheOutputIsStopped) {
  ExpectRefused("function decode(p, m) { return { get co2() { for (;;) {} } }; }", "time limit");
  ExpectRefused("function decode(p, m) { return { toJSON() { for (;;) {} } }; }", "time limit");
  ExpectRefused(
      "function decodeUplink(i) { return { data: {}, errors: [{ toString() { for (;;) {} } }] }; }",
      "time limit");
}

// A poison decoder stored on a device: its messages are kept raw with the error, the server
// keeps serving and a good decoder decodes the next message.
TEST_F(DecoderSafetyTest, StoredPoisonDecoderKeepsTheMessageRaw) {
  const std::string dev = a_.DevicePath();
  int n = 0;
  for (const std::string poison :
       {"return 1;\nfunction decode(p, m) { return { co2: p.co2 }; }",
        "Promise.resolve().then(() => { for (;;) {} });\n"
        "function decode(p, m) { return { co2: p.co2 }; }",
        "function decode(p, m) { return { get co2() { for (;;) {} } }; }"}) {
    ASSERT_NO_FATAL_FAILURE(Attach(StoredDecoder(poison)));
    ASSERT_EQ(Ingest(a_.device.ingest_key, R"({"co2": 900})").status, 204) << server_->log();
    ++n;
    ASSERT_TRUE(WaitFor([&] { return Messages().size() == static_cast<size_t>(n); }, 10))
        << poison << "\n"
        << server_->log();
    json msg = Messages()[0];
    EXPECT_EQ(msg["decodeStatus"], "error") << poison << "\n" << msg;
    EXPECT_FALSE(msg["decodeError"].get<std::string>().empty()) << msg;
    ASSERT_NO_FATAL_FAILURE(ExpectServing());
  }
  EXPECT_EQ(a_.viewer.client->Get(dev + "/readings?key=co2").Json()["items"].size(), 0u);
  ASSERT_NO_FATAL_FAILURE(
      Attach(StoredDecoder("function decode(p, m) { return { co2: p.co2 + 1 }; }")));
  ASSERT_EQ(Ingest(a_.device.ingest_key, R"({"co2": 900})").status, 204);
  ASSERT_TRUE(WaitFor(
      [&] { return a_.viewer.client->Get(dev + "/readings?key=co2").Json()["items"].size() == 1; },
      10));
  EXPECT_EQ(a_.viewer.client->Get(dev + "/readings?key=co2").Json()["items"][0]["value"], 901);
}

}  // namespace
}  // namespace bysans::testing
