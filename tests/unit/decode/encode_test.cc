// JsEngine::Encode: TTN / ChirpStack v4 encodeDownlink({data, fPort?, variables}).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "decode/decoder.h"
#include "decode/js/js_engine.h"
#include "unit/decode/engine_test.h"

namespace bysans::decode {
namespace {

class EncodeTest : public testing::EngineTest {
 protected:
  EncodeResult Encode(std::string_view code, std::string data_json = R"({"on":true,"level":7})",
                      int fport = 0) {
    EncodeInput in;
    in.data_json = std::move(data_json);
    in.fport = fport;
    in.variables = {{"mode", "eco"}};
    Limits limits;
    limits.time_ms = 100;
    return engine_->Encode(JsDecoder{1, 0, ++version_, code}, in, limits);
  }

  void ExpectEncoderStillWorks() {
    auto r = Encode("function encodeDownlink(i) { return { bytes: [i.data.level], fPort: 9 }; }");
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    EXPECT_EQ(r.bytes, std::string("\x07", 1));
  }

  int64_t version_ = 0;
};

TEST_F(EncodeTest, EncodesDataWithFPortVariablesAndWarnings) {
  auto r = Encode(R"(function decodeUplink(i) { return { data: {} }; }
    function encodeDownlink(input) {
      console.log('encoding', input.data.level);
      return { bytes: [input.data.on ? 1 : 0, input.data.level, input.variables.mode.length, 255],
               fPort: 10, warnings: ['clamped'] };
    })");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.bytes, std::string("\x01\x07\x03\xff", 4));
  EXPECT_EQ(r.fport, 10);
  EXPECT_EQ(r.warnings, std::vector<std::string>{"clamped"});
  EXPECT_EQ(r.log, std::vector<std::string>{"encoding 7"});
}

TEST_F(EncodeTest, RequestedFPortIsPassedAndUsedWhenTheEncoderGivesNone) {
  auto r = Encode("function encodeDownlink(i) { return { bytes: [i.fPort] }; }", "{}", 42);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.fport, 42);
  EXPECT_EQ(r.bytes, std::string("\x2a", 1));
  r = Encode("function encodeDownlink(i) { return { bytes: ['fPort' in i ? 1 : 0] }; }", "{}", 0);
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("no fPort"), std::string::npos) << r.status.message();
}

TEST_F(EncodeTest, TypedArrayBytesAreAccepted) {
  auto r =
      Encode("function encodeDownlink(i) { return { bytes: new Uint8Array([1, 2]), fPort: 1 }; }");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.bytes, std::string("\x01\x02", 2));
}

TEST_F(EncodeTest, ErrorsAreAFailureAndKeptStructured) {
  auto r = Encode(R"(function encodeDownlink(i) {
    return { errors: ['unknown command', 'level out of range'], warnings: ['w'] }; })");
  EXPECT_FALSE(r.status.ok());
  EXPECT_EQ(r.errors, (std::vector<std::string>{"unknown command", "level out of range"}));
  EXPECT_NE(r.status.message().find("2 errors"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("unknown command"), std::string::npos);
  EXPECT_TRUE(r.bytes.empty());
}

TEST_F(EncodeTest, NoEncodeDownlinkIsAClearError) {
  auto r = Encode("function decodeUplink(i) { return { data: {} }; }");
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("no function encodeDownlink"), std::string::npos)
      << r.status.message();
  EXPECT_EQ(r.status.code(), Code::kFailedPrecondition);  // the device's set-up, not the input
  // Named only in a comment or a string: still no function.
  r = Encode(
      "// encodeDownlink comes later\nvar s = 'encodeDownlink';\n"
      "function decodeUplink(i) { return { data: {} }; }");
  EXPECT_NE(r.status.message().find("no function encodeDownlink"), std::string::npos)
      << r.status.message();
}

TEST_F(EncodeTest, BadBytesAreRefused) {
  struct Case {
    const char* bytes;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{{"[1, 256]", "bytes[1]"},
                                         {"[1, -1]", "bytes[1]"},
                                         {"[1.5]", "bytes[0]"},
                                         {"['1']", "bytes[0]"},
                                         {"[1, null]", "bytes[1]"},
                                         {"'0102'", "array of integers"},
                                         {"undefined", "array of integers"},
                                         {"new Array(243).fill(0)", "at most 242"},
                                         {"new Array(2 ** 31)", "at most 242"}}) {
    auto r = Encode(std::string("function encodeDownlink(i) { return { bytes: ") + c.bytes +
                    ", fPort: 1 }; }");
    EXPECT_FALSE(r.status.ok()) << c.bytes;
    EXPECT_NE(r.status.message().find(c.message), std::string::npos)
        << c.bytes << ": " << r.status.message();
  }
  auto r =
      Encode("function encodeDownlink(i) { return { bytes: new Array(242).fill(9), fPort: 1 }; }");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.bytes.size(), 242u);
}

TEST_F(EncodeTest, BadFPortIsRefused) {
  for (const char* port : {"0", "224", "1.5", "'2'", "-1"}) {
    auto r = Encode(std::string("function encodeDownlink(i) { return { bytes: [1], fPort: ") +
                    port + " }; }");
    EXPECT_FALSE(r.status.ok()) << port;
    EXPECT_NE(r.status.message().find("1..223"), std::string::npos) << r.status.message();
  }
}

TEST_F(EncodeTest, HostileEncodersHitTheLimits) {
  auto r = Encode("function encodeDownlink(i) { while (true) {} }");
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("time limit"), std::string::npos) << r.status.message();
  ExpectEncoderStillWorks();
  // A getter on the result loops: it runs inside the timed call, so the limit stops it.
  r = Encode(R"(function encodeDownlink(i) {
    return { get bytes() { while (true) {} }, fPort: 1 }; })");
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("time limit"), std::string::npos) << r.status.message();
  r = Encode(R"(function encodeDownlink(i) {
    return { bytes: [1], get fPort() { while (true) {} } }; })");
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("time limit"), std::string::npos) << r.status.message();
  r = Encode(R"(function encodeDownlink(i) {
    return new Proxy({}, { get() { while (true) {} } }); })");
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("time limit"), std::string::npos) << r.status.message();
  // An element getter and a toString in errors run inside the call too.
  r = Encode(R"(function encodeDownlink(i) {
    var b = [1]; Object.defineProperty(b, 0, { get() { while (true) {} } });
    return { bytes: b, fPort: 1 }; })");
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("time limit"), std::string::npos) << r.status.message();
  r = Encode(R"(function encodeDownlink(i) {
    return { errors: [{ toString() { while (true) {} } }] }; })");
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("time limit"), std::string::npos) << r.status.message();
  r = Encode(R"(function encodeDownlink(i) { throw new Error('nope'); })");
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("nope"), std::string::npos) << r.status.message();
  r = Encode("function encodeDownlink(i) { return null; }");
  EXPECT_FALSE(r.status.ok());
  r = Encode(R"(function encodeDownlink(i) { return { bytes: [1], fPort: 1 }; })", "{not json");
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("not valid JSON"), std::string::npos) << r.status.message();
  ExpectEncoderStillWorks();
}

}  // namespace
}  // namespace bysans::decode
