// The per-call memory budget covers every allocation a decoder causes (issue 15 item 10):
// ArrayBuffer contents, typed arrays and string chars, not only the GC heap.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "decode/decoder.h"
#include "decode/js/alloc_budget.h"
#include "decode/js/js_engine.h"
#include "unit/decode/engine_test.h"

namespace bysans::decode {
namespace {

size_t RssMb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6)) / 1024;
  }
  return 0;
}

class MemoryLimitTest : public testing::EngineTest {
 protected:
  void SetUp() override {
    if (!js::AllocBudgetEnforced()) GTEST_SKIP() << "sanitizer build: the allocator is not ours";
    EngineTest::SetUp();
  }
  DecodeResult Run(std::string_view code, int64_t version, int64_t time_ms = 5000) {
    DecodeInput in;
    in.bytes = "\x01";
    Limits limits;
    limits.time_ms = time_ms;  // generous: the memory limit must be what stops them
    return engine_->Decode(JsDecoder{1, 0, version, code}, in, 7, limits);
  }
  void ExpectStopped(std::string_view code, int64_t version) {
    size_t before = RssMb();
    auto r = Run(code, version);
    size_t after = RssMb();
    EXPECT_FALSE(r.status.ok()) << code;
    EXPECT_NE(r.status.message().find("memory limit"), std::string::npos)
        << code << ": " << r.status.message();
    EXPECT_LT(after, before + 100)
        << code << ": RSS grew from " << before << " to " << after << " MB";
    auto good = Run("function Decoder(b, p) { return { b: b[0] }; }", 1000 + version);
    ASSERT_TRUE(good.status.ok()) << good.status.message();
    EXPECT_EQ(good.output_json, R"({"b":1})");
  }
};

TEST_F(MemoryLimitTest, HugeArrayBuffer) {
  ExpectStopped("function Decoder(b, p) { var a = new ArrayBuffer(2 ** 32); return { n: 1 }; }", 1);
}

TEST_F(MemoryLimitTest, HugeFilledTypedArray) {
  ExpectStopped("function Decoder(b, p) { new Uint8Array(2 ** 30).fill(7); return { n: 1 }; }", 2);
}

TEST_F(MemoryLimitTest, HugeRepeatedString) {
  // repeat() builds a rope; searching it makes SpiderMonkey allocate the 256 MB of chars.
  ExpectStopped(
      "function Decoder(b, p) { var s = 'x'.repeat(2 ** 28); return { i: s.indexOf('y') }; }", 3);
}

TEST_F(MemoryLimitTest, CaughtOutOfMemoryStillFailsTheCall) {
  ExpectStopped(R"(function Decoder(b, p) {
    try { new ArrayBuffer(2 ** 31); } catch (e) { return { caught: String(e) }; }
    return { caught: false }; })",
                4);
}

TEST_F(MemoryLimitTest, AtTopLevelAndInEncodeDownlink) {
  ExpectStopped("var big = new Uint8Array(2 ** 30).fill(1); function Decoder(b, p) { return 1; }",
                5);
  EncodeInput in;
  in.data_json = "{}";
  Limits limits;
  limits.time_ms = 5000;
  size_t before = RssMb();
  auto r = engine_->Encode(JsDecoder{1, 0, 6,
                                     "function encodeDownlink(i) { new Uint8Array(2 ** 30).fill(1);"
                                     " return { bytes: [1], fPort: 1 }; }"},
                           in, limits);
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("memory limit"), std::string::npos) << r.status.message();
  EXPECT_LT(RssMb(), before + 100);
}

TEST_F(MemoryLimitTest, ManySmallAllocationsAreStoppedToo) {
  ExpectStopped(R"(function Decoder(b, p) {
    var keep = []; while (true) keep.push(new Array(2000).fill(1.5)); })",
                7);
}

TEST_F(MemoryLimitTest, TheBudgetIsPerCallAndFollowsTheLimit) {
  // 20 MB in one call passes the default 32 MB budget; calls after it get a fresh budget.
  for (int64_t v = 10; v < 13; ++v) {
    auto r =
        Run("function Decoder(b, p) { return { n: new Uint8Array(20e6).fill(1).length }; }", v);
    ASSERT_TRUE(r.status.ok()) << r.status.message();
  }
  DecodeInput in;
  in.bytes = "\x01";
  Limits small;
  small.heap_bytes = 8u << 20;
  auto r = engine_->Decode(
      JsDecoder{1, 0, 20,
                "function Decoder(b, p) { return { n: new Uint8Array(20e6).fill(1).length }; }"},
      in, 7, small);
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("memory limit exceeded (8 MB)"), std::string::npos)
      << r.status.message();
}

// A decoder that keeps 20 MB in a global on every call stays under the per-call budget, but
// what the calls leave allocated is bounded too: its realm is dropped (and its memory freed)
// before the engine holds more than its cap.
TEST_F(MemoryLimitTest, MemoryKeptAcrossCallsIsBounded) {
  size_t before = RssMb();
  int restarts = 0;
  int64_t last = 0;
  for (int i = 0; i < 30; ++i) {
    auto r = Run(R"(function Decoder(b, p) {
      globalThis.keep = globalThis.keep || [];
      keep.push(new Uint8Array(20e6).fill(1));
      return { kept: keep.length }; })",
                 40);
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    int64_t kept = std::stoll(r.output_json.substr(r.output_json.find(':') + 1));
    if (kept <= last) ++restarts;
    last = kept;
    EXPECT_LT(RssMb(), before + 300) << "call " << i;
  }
  EXPECT_GE(restarts, 1);
  auto good = Run("function Decoder(b, p) { return { b: b[0] }; }", 41);
  ASSERT_TRUE(good.status.ok()) << good.status.message();
}

}  // namespace
}  // namespace bysans::decode
