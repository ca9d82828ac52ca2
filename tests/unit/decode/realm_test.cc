// One realm per decoder: what a decoder does to its built-ins stays in its realm. Also measures
// what a realm costs (printed as REALM lines).
#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "decode/decoder.h"
#include "decode/js/js_engine.h"
#include "unit/decode/engine_test.h"
#include "unit/decode/test_util.h"

namespace bysans::decode {
namespace {

using testing::HexToBytes;

class RealmTest : public testing::EngineTest {
 protected:
  DecodeResult Run(Id decoder_id, std::string_view code, Id org = 1) {
    DecodeInput in;
    in.bytes = HexToBytes("0102");
    in.fport = 1;
    return engine_->Decode(JsDecoder{org, decoder_id, 1, code}, in, 7);
  }
};

constexpr char kVictim[] = R"(function decodeUplink(input) {
  var out = { temperature: input.bytes[0] }, keys = [];
  for (var k in out) keys.push(k);
  out.keys = keys.join(',');
  return { data: out };
})";

TEST_F(RealmTest, ToJsonOnObjectPrototypeDoesNotReachAnotherDecoder) {
  auto attacker = Run(1, R"(
    Object.prototype.toJSON = function () { return { stolen: true }; };
    function decodeUplink(input) { return { data: { own: 1 } }; })");
  ASSERT_TRUE(attacker.status.ok()) << attacker.status.message();
  auto victim = Run(2, kVictim);
  ASSERT_TRUE(victim.status.ok()) << victim.status.message();
  EXPECT_EQ(victim.output_json, R"({"temperature":1,"keys":"temperature"})");
}

TEST_F(RealmTest, EnumerableMethodsOnPrototypesStayInTheirDecoder) {
  auto polyfill = Run(1, R"(
    Object.prototype.extend = function () {}; Array.prototype.sum = function () {};
    function decodeUplink(input) {
      var keys = []; for (var k in {}) keys.push(k);
      return { data: { seen: keys.join(',') } };
    })");
  ASSERT_TRUE(polyfill.status.ok()) << polyfill.status.message();
  EXPECT_EQ(polyfill.output_json, R"({"seen":"extend"})");  // it still sees its own
  auto victim = Run(2, kVictim);
  ASSERT_TRUE(victim.status.ok()) << victim.status.message();
  EXPECT_EQ(victim.output_json, R"({"temperature":1,"keys":"temperature"})");
  // Globals a decoder leaks are not visible to the next one either.
  auto leak = Run(3, "leaked = 5; function Decoder(b, p) { return { x: 1 }; }");
  ASSERT_TRUE(leak.status.ok()) << leak.status.message();
  auto reader = Run(4, "function Decoder(b, p) { return { seen: typeof leaked }; }");
  ASSERT_TRUE(reader.status.ok()) << reader.status.message();
  EXPECT_EQ(reader.output_json, R"({"seen":"undefined"})");
}

size_t RssKb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
  }
  return 0;
}

// CPU time of this thread: the machine may be busy with other work.
double CpuUs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

TEST_F(RealmTest, CostOfARealm) {
  constexpr int kDecoders = 200;
  engine_->GcHeapBytes(true);
  size_t heap0 = engine_->GcHeapBytes(true), rss0 = RssKb();
  double t0 = CpuUs();
  for (int i = 0; i < kDecoders; ++i) {
    auto r = Run(100 + i, "function Decoder(b, p) { return { x: b[0] }; }");
    ASSERT_TRUE(r.status.ok()) << r.status.message();
  }
  double us = (CpuUs() - t0) / kDecoders;
  size_t heap1 = engine_->GcHeapBytes(true), rss1 = RssKb();
  std::printf("REALM create+compile %.0f us CPU, GC heap %.0f KB, RSS %.0f KB per decoder\n", us,
              (heap1 - heap0) / 1024.0 / kDecoders, (rss1 - rss0) / 1.0 / kDecoders);
  EXPECT_EQ(engine_->cached_decoders(), Limits{}.cached_decoders);  // LRU bound
}

TEST(RealmCache, LeastRecentlyUsedDecoderIsDroppedFirst) {
  Limits limits;
  limits.cached_decoders = 3;
  auto e = JsEngine::Create(limits);
  ASSERT_TRUE(e.ok()) << e.status().message();
  auto& engine = **e;
  DecodeInput in;
  in.bytes = "\x01";
  auto run = [&](Id id) {
    return engine.Decode(JsDecoder{1, id, 1, "function Decoder(b, p) { return 1; }"}, in, 7);
  };
  for (Id id : {1, 2, 3}) ASSERT_TRUE(run(id).status.ok());
  ASSERT_TRUE(run(1).status.ok());  // 1 is now the most recently used; 2 the least
  ASSERT_TRUE(run(4).status.ok());  // evicts 2
  EXPECT_EQ(engine.cached_decoders(), 3u);
  // A cached decoder keeps its realm state between calls; a re-compiled one starts afresh.
  auto counter = [&](Id id) {
    auto r = engine.Decode(JsDecoder{1, id, 1,
                                     "function Decoder(b, p) {"
                                     " globalThis.n = (globalThis.n || 0) + 1; return { n: n }; }"},
                           in, 7);
    return r.output_json;
  };
  EXPECT_EQ(counter(10), R"({"n":1})");
  EXPECT_EQ(counter(10), R"({"n":2})");    // cached: the same realm
  for (Id id : {11, 12, 13}) counter(id);  // pushes 10 out
  EXPECT_EQ(counter(10), R"({"n":1})");    // compiled again in a fresh realm
  EXPECT_EQ(engine.cached_decoders(), 3u);
}

}  // namespace
}  // namespace bysans::decode
