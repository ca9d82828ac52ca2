// The JS engine against the real server (issue 15, items 3, 10 and 12), through the decoder
// test endpoint as organisation A's editor:
// - one decoder changing Object.prototype (toJSON, enumerable methods) does not change another
//   decoder's output, even in the same organisation (one realm per decoder);
// - huge ArrayBuffer / typed array / string allocations end with a memory-limit error, the
//   server's RSS stays bounded and it keeps serving;
// - an OS2iot file with a helper called decodeUplink runs decode(payload, metadata).
#include <fstream>
#include <string>

#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

// Reads the two payload bytes 0x01 0x02 and lists what for-in sees on a fresh object.
constexpr const char* kVictim = R"(function decode(payload, metadata) {
  var bytes = atob(payload.data), out = { first: bytes.charCodeAt(0) }, seen = [];
  for (var k in {}) seen.push(k);
  out.inherited = seen.join(',');
  return out;
})";

class DecoderEngineTest : public SecurityTest {
 protected:
  json Decode(const json& request) {
    json body = request;
    body["payload"] = "0102";
    body["fPort"] = 1;
    if (!body.contains("decoderId")) body["orgId"] = a_.device.org_id;
    auto r = Send(*a_.editor.client, "POST", "/api/v1/decoders/test", body);
    EXPECT_EQ(r.status, 200) << request << "\n" << r.body << server_->log();
    return r.Json();
  }
  json DecodeCode(const std::string& code) { return Decode({{"code", code}}); }

  size_t ServerRssMb() {
    std::ifstream f("/proc/" + std::to_string(server_->pid()) + "/status");
    std::string line;
    while (std::getline(f, line)) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6)) / 1024;
    }
    return 0;
  }

  void ExpectVictimUnharmed(const json& victim) {
    EXPECT_TRUE(victim["error"].is_null()) << victim;
    EXPECT_EQ(victim["output"], json({{"first", 1}, {"inherited", ""}})) << victim;
  }
};

TEST_F(DecoderEngineTest, PrototypeChangesStayInTheirDecoder) {
  auto stored = Send(*a_.editor.client, "POST", a_.OrgPath() + "/decoders",
                     {{"name", "victim"}, {"code", kVictim}});
  ASSERT_EQ(stored.status, 201) << stored.body;
  int64_t victim_id = stored.Json().value("id", int64_t{0});
  ExpectVictimUnharmed(Decode({{"decoderId", victim_id}}));  // compiled before the attack
  json attacker = DecodeCode(R"(
    Object.prototype.toJSON = function () { return { stolen: Object.keys(this).join(',') }; };
    Object.defineProperty(Object.prototype, 'spy', { value: 1, enumerable: true, writable: true });
    Array.prototype.extra = function () {};
    function decode(payload, metadata) { var seen = []; for (var k in {}) seen.push(k);
      return { seen: seen.join(',') }; })");
  // The attacker's own realm is changed (its own output goes through its toJSON) ...
  EXPECT_TRUE(attacker["error"].is_null()) << attacker;
  EXPECT_TRUE(attacker["output"].contains("stolen")) << attacker;
  // ... but neither a stored decoder of the same organisation nor new ad-hoc code sees it.
  ExpectVictimUnharmed(Decode({{"decoderId", victim_id}}));
  ExpectVictimUnharmed(DecodeCode(kVictim));
}

TEST_F(DecoderEngineTest, HugeAllocationsHitTheMemoryLimit) {
#if defined(__SANITIZE_ADDRESS__)
  // The server's allocator budget is off under sanitizers (they own malloc): see
  // src/decode/js/alloc_budget.h.
  GTEST_SKIP() << "sanitizer build";
#endif
  HttpClient probe(server_->url());
  for (const std::string code :
       {"function decode(p, m) { var b = new ArrayBuffer(2 ** 32); return { n: b.byteLength }; }",
        "function decode(p, m) { return { n: new Uint8Array(2 ** 30).fill(7)[5] }; }",
        "function decode(p, m) { var s = 'x'.repeat(2 ** 28); return { i: s.indexOf('y') }; }"}) {
    size_t before = ServerRssMb();
    json r = DecodeCode(code);
    size_t after = ServerRssMb();
    ASSERT_TRUE(r["error"].is_string()) << code << "\n" << r;
    EXPECT_NE(r["error"].get<std::string>().find("memory limit"), std::string::npos) << r;
    EXPECT_LT(after, before + 100) << code << ": server RSS " << before << " -> " << after << " MB";
    ASSERT_EQ(probe.Get("/healthz").status, 200) << server_->log();
    ExpectVictimUnharmed(DecodeCode(kVictim));  // and decoding still works
  }
  // A legitimate decoder may still use a few MB.
  json ok = DecodeCode(
      "function decode(p, m) { return { n: new Uint8Array(4e6).fill(1).reduce((a, b) => a + b) }; "
      "}");
  EXPECT_TRUE(ok["error"].is_null()) << ok;
  EXPECT_EQ(ok["output"]["n"], 4000000) << ok;
}

TEST_F(DecoderEngineTest, Os2iotFileWithAHelperNamedDecodeUplinkRunsDecode) {
  json r = DecodeCode(R"(
    function decodeUplink(bytes) { return { t: bytes[0], h: bytes[1] }; }
    function decode(payload, metadata) {
      var s = atob(payload.data), b = [];
      for (var i = 0; i < s.length; i++) b.push(s.charCodeAt(i));
      var out = decodeUplink(b); out.via = 'decode'; return out;
    })");
  EXPECT_TRUE(r["error"].is_null()) << r;
  EXPECT_EQ(r["output"], json({{"t", 1}, {"h", 2}, {"via", "decode"}})) << r;
  bool warned = false;
  for (const auto& w : r["warnings"]) {
    warned |= w.get<std::string>().find("decodeUplink is called by decode") != std::string::npos;
  }
  EXPECT_TRUE(warned) << r;
  // A single entry point runs without a warning.
  json plain = DecodeCode(kVictim);
  EXPECT_TRUE(plain["warnings"].empty()) << plain;
}

}  // namespace
}  // namespace bysans::testing
