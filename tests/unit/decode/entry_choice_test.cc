// Which entry point a JS decoder runs: explicit contracts, auto detection beyond names, and
// decodeUplink's structured errors.
#include "decode/js/entry_choice.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "decode/decoder.h"
#include "decode/js/js_engine.h"
#include "unit/decode/engine_test.h"
#include "unit/decode/test_util.h"

namespace bysans::decode {
namespace {

using testing::HexToBytes;
using testing::Number;

TEST(ContractNames, ParseAndFormat) {
  EXPECT_EQ(*ParseContractName("auto"), Contract::kUnknown);
  EXPECT_EQ(*ParseContractName("os2iot"), Contract::kOs2iot);
  EXPECT_EQ(*ParseContractName("ttn"), Contract::kTtnDecodeUplink);
  EXPECT_EQ(*ParseContractName("chirpstack"), Contract::kTtnDecodeUplink);
  EXPECT_EQ(*ParseContractName("chirpstack-v3"), Contract::kChirpstackV3Decode);
  EXPECT_EQ(*ParseContractName("ttn-v2"), Contract::kTtnV2Decoder);
  EXPECT_FALSE(ParseContractName("TTN").ok());
  EXPECT_FALSE(ParseContractName("").ok());
  EXPECT_FALSE(ParseContractName("cayenne-lpp").ok());
  for (Contract c : {Contract::kUnknown, Contract::kOs2iot, Contract::kTtnDecodeUplink,
                     Contract::kChirpstackV3Decode, Contract::kTtnV2Decoder}) {
    EXPECT_EQ(*ParseContractName(ContractApiName(c)), c) << ContractApiName(c);
  }
  EXPECT_STREQ(EntryPointName(Contract::kChirpstackV3Decode), "Decode");
}

TEST(SourceCalls, CallsOutsideCommentsStringsAndMembers) {
  EXPECT_TRUE(js::SourceCalls("function decode(p, m) { return decodeUplink({bytes: b}); }",
                              "decodeUplink"));
  EXPECT_TRUE(js::SourceCalls("function Decoder(b, p) { return decode (b); }", "decode"));
  EXPECT_TRUE(js::SourceCalls("function f() { return decode.call(null, b); }", "decode"));
  EXPECT_FALSE(js::SourceCalls("function f() { // decode(x)\n return 1; }", "decode"));
  EXPECT_FALSE(js::SourceCalls("function f() { /* decode(x) */ return 'decode(x)'; }", "decode"));
  EXPECT_FALSE(js::SourceCalls("function f() { return x.decode(b); }", "decode"));
  EXPECT_FALSE(js::SourceCalls("function decode(b) { return decoder(b); }", "decode"));
}

js::EntryCandidate Cand(Contract c, int arity, std::string source) {
  return {c, true, arity, std::move(source)};
}

TEST(ChooseEntry, HelperCalledByAnotherCandidateIsNotTheEntry) {
  auto choice = js::ChooseEntry(
      Contract::kUnknown,
      {Cand(Contract::kTtnDecodeUplink, 1, "function decodeUplink(b) { return b[0]; }"),
       Cand(Contract::kOs2iot, 2, "function decode(p, m) { return decodeUplink(p.data); }")});
  ASSERT_TRUE(choice.ok()) << choice.status().message();
  EXPECT_EQ(choice->contract, Contract::kOs2iot);
  EXPECT_NE(choice->warning.find("decodeUplink is called by decode"), std::string::npos)
      << choice->warning;
}

TEST(ChooseEntry, HelperCalledThroughOtherCodeIsNotTheEntry) {
  // decode calls parse, which calls decodeUplink: decodeUplink is a helper all the same.
  const std::string code =
      "function decodeUplink(bytes) { return { t: bytes[0] }; }\n"
      "function parse(p) { return decodeUplink(p.bytes); }\n"
      "function decode(payload, metadata) { return parse(payload); }\n";
  auto choice = js::ChooseEntry(
      Contract::kUnknown,
      {Cand(Contract::kTtnDecodeUplink, 1,
            "function decodeUplink(bytes) { return { t: bytes[0] }; }"),
       Cand(Contract::kOs2iot, 2, "function decode(payload, metadata) { return parse(payload); }")},
      code);
  ASSERT_TRUE(choice.ok()) << choice.status().message();
  EXPECT_EQ(choice->contract, Contract::kOs2iot);
  EXPECT_NE(choice->warning.find("decodeUplink is called by other code"), std::string::npos)
      << choice->warning;
  // A recursive entry point is not a helper of itself.
  const std::string recursive =
      "function decodeUplink(i) { return i.n ? decodeUplink({n: 0}) : { data: {} }; }\n"
      "function decode(p, m) { return 1; }\n";
  choice = js::ChooseEntry(
      Contract::kUnknown,
      {Cand(Contract::kTtnDecodeUplink, 1,
            "function decodeUplink(i) { return i.n ? decodeUplink({n: 0}) : { data: {} }; }"),
       Cand(Contract::kOs2iot, 2, "function decode(p, m) { return 1; }")},
      recursive);
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice->contract, Contract::kTtnDecodeUplink);
}

TEST(ChooseEntry, ArityThenNameOrder) {
  auto choice = js::ChooseEntry(
      Contract::kUnknown, {Cand(Contract::kTtnDecodeUplink, 2, "function decodeUplink(a, b) {}"),
                           Cand(Contract::kTtnV2Decoder, 2, "function Decoder(a, b) {}")});
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice->contract, Contract::kTtnV2Decoder);
  EXPECT_NE(choice->warning.find("number of parameters"), std::string::npos) << choice->warning;
  choice = js::ChooseEntry(Contract::kUnknown,
                           {Cand(Contract::kTtnDecodeUplink, 1, "function decodeUplink(a) {}"),
                            Cand(Contract::kOs2iot, 2, "function decode(a, b) {}")});
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice->contract, Contract::kTtnDecodeUplink);
  EXPECT_NE(choice->warning.find("first in the order"), std::string::npos) << choice->warning;
  choice =
      js::ChooseEntry(Contract::kUnknown, {Cand(Contract::kOs2iot, 2, "function decode(a, b) {}")});
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice->contract, Contract::kOs2iot);
  EXPECT_TRUE(choice->warning.empty());
  EXPECT_FALSE(js::ChooseEntry(Contract::kUnknown, {}).ok());
}

TEST(ChooseEntry, ExplicitContractNamesTheMissingFunction) {
  auto choice = js::ChooseEntry(Contract::kChirpstackV3Decode,
                                {Cand(Contract::kOs2iot, 2, "function decode(a, b) {}")});
  ASSERT_FALSE(choice.ok());
  EXPECT_NE(choice.status().message().find("Decode(fPort, bytes, variables)"), std::string::npos)
      << choice.status().message();
  EXPECT_FALSE(js::ChooseEntry(Contract::kSenml, {}).ok());
}

class ContractTest : public testing::EngineTest {
 protected:
  DecodeResult Run(std::string_view code, Contract contract = Contract::kUnknown) {
    DecodeInput in;
    in.bytes = HexToBytes("0a14");
    in.fport = 3;
    in.uplink_json = R"({"data":"ChQ=","fPort":3})";
    return engine_->Decode(JsDecoder{1, 0, ++version_, code, contract}, in, 7);
  }
  int64_t version_ = 0;
};

// An OS2iot file with a helper called decodeUplink runs decode(payload, metadata).
constexpr char kOs2iotWithHelper[] = R"(
function decodeUplink(bytes) { return { t: bytes[0], h: bytes[1] }; }
function decode(payload, metadata) {
  var b = atob(payload.data).split('').map(function (c) { return c.charCodeAt(0); });
  var r = decodeUplink(b); r.port = payload.fPort; return r;
})";

// A TTN v2 Decoder file with a helper called decode runs Decoder(bytes, port).
constexpr char kTtnV2WithHelper[] = R"(
function decode(bytes) { return { t: bytes[0] }; }
function Decoder(bytes, port) { var r = decode(bytes); r.port = port; return r; })";

TEST_F(ContractTest, AutoRunsTheCallerNotTheHelper) {
  auto r = Run(kOs2iotWithHelper);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.entry_point, "decode");
  EXPECT_EQ(r.output_json, R"({"t":10,"h":20,"port":3})");
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_NE(r.warnings[0].find("decodeUplink is called by decode"), std::string::npos)
      << r.warnings[0];
  r = Run(kTtnV2WithHelper);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.entry_point, "Decoder");
  EXPECT_EQ(r.output_json, R"({"t":10,"port":3})");
}

TEST_F(ContractTest, SingleCandidateHasNoWarning) {
  auto r = Run("function Decoder(bytes, port) { return { t: bytes[0] }; }");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.entry_point, "Decoder");
  EXPECT_TRUE(r.warnings.empty());
}

TEST_F(ContractTest, ExplicitContractRunsThatFunction) {
  auto r = Run(kOs2iotWithHelper, Contract::kOs2iot);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.entry_point, "decode");
  EXPECT_TRUE(r.warnings.empty());
  // Forced onto the helper: it is called as decodeUplink(input), so it sees no bytes.
  r =
      Run("function decodeUplink(i) { return { data: { n: i.bytes.length } }; }\n"
          "function Decoder(b, p) { return { v2: true }; }",
          Contract::kTtnV2Decoder);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.entry_point, "Decoder");
  EXPECT_EQ(r.output_json, R"({"v2":true})");
  r = Run(kOs2iotWithHelper, Contract::kChirpstackV3Decode);
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("no function Decode(fPort, bytes, variables)"),
            std::string::npos)
      << r.status.message();
}

TEST_F(ContractTest, NullOrUndefinedResultIsAnError) {
  for (const char* code : {"function Decoder(b, p) { return null; }", "function decode(p, m) { }",
                           "function decodeUplink(i) { return { data: null }; }",
                           "function decodeUplink(i) { return { data: undefined }; }",
                           "function decodeUplink(i) { return null; }"}) {
    auto r = Run(code);
    EXPECT_FALSE(r.status.ok()) << code;
    EXPECT_TRUE(r.readings.empty()) << code;
  }
}

TEST_F(ContractTest, DecodeUplinkErrorsStayStructuredAndDataIsKept) {
  auto r = Run(R"(function decodeUplink(i) {
    return { data: { t: i.bytes[0] }, errors: ['bad crc', 7], warnings: ['low battery'] }; })");
  EXPECT_FALSE(r.status.ok());
  EXPECT_EQ(r.errors, (std::vector<std::string>{"bad crc", "7"}));
  EXPECT_EQ(r.warnings, std::vector<std::string>{"low battery"});
  EXPECT_EQ(r.output_json, R"({"t":10})");
  EXPECT_TRUE(r.readings.empty());  // TTN: errors mean decoding failed
  EXPECT_NE(r.status.message().find("2 errors"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("bad crc"), std::string::npos) << r.status.message();
  // Errors without data.
  r = Run("function decodeUplink(i) { return { errors: ['unknown port'] }; }");
  EXPECT_FALSE(r.status.ok());
  EXPECT_EQ(r.errors, std::vector<std::string>{"unknown port"});
  EXPECT_TRUE(r.output_json.empty());
  // Data with warnings only: a success, data and warnings kept.
  r = Run("function decodeUplink(i) { return { data: { t: 1 }, warnings: ['w'], errors: [] }; }");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.output_json, R"({"t":1})");
  EXPECT_EQ(r.warnings, std::vector<std::string>{"w"});
  EXPECT_EQ(Number(r.readings, "t"), 1.0);
  // errors that is not an array is refused clearly.
  r = Run("function decodeUplink(i) { return { data: { t: 1 }, errors: 'bad' }; }");
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("`errors` must be an array"), std::string::npos)
      << r.status.message();
}

}  // namespace
}  // namespace bysans::decode
