// DecoderRunner and ApplyDecodeResult (decode/pipeline_decoder.h): a stored decoder runs with
// the contract of its version, encodes downlinks only when it is JS, and a result's errors and
// warnings go to the raw message (capped), errors meaning failure.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "decode/pipeline_decoder.h"

namespace bysans::decode {
namespace {

constexpr const char* kHelperAndDecode =
    "function decodeUplink(x) { return {data: {helper: 1}}; }"
    "function decode(payload, metadata) { return {right: 1}; }"
    "function encodeDownlink(input) { return {bytes: [input.data.n], fPort: 3}; }";

StoredDecoder Js(std::string contract) {
  StoredDecoder d;
  d.id = 1;
  d.org_id = 1;
  d.version = 1;
  d.code = kHelperAndDecode;
  d.contract = std::move(contract);
  return d;
}

TEST(DecoderRunnerTest, RunsTheEntryPointOfTheStoredContract) {
  DecoderRunner runner;
  DecodeInput in;
  in.bytes = "\x01";
  in.fport = 1;
  DecodeResult os2iot = runner.Run(Js("os2iot"), in, 7);
  ASSERT_TRUE(os2iot.status.ok()) << os2iot.status.message();
  EXPECT_EQ(os2iot.entry_point, "decode");
  EXPECT_EQ(os2iot.output_json, R"({"right":1})");
  StoredDecoder ttn = Js("chirpstack");
  ttn.version = 2;
  DecodeResult r = runner.Run(ttn, in, 7);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.entry_point, "decodeUplink");
}

// A thread's first decode makes its JS engine (tens of ms): set-up that later decodes do not pay,
// reported in compile_us (within duration_us), so that the decode backlog's average does not
// take it for the decoder's speed (it made a healthy organisation's uplinks be shed at start-up).
TEST(DecoderRunnerTest, TheEnginesCreationIsReportedAsSetUp) {
  DecoderRunner runner;
  DecodeInput in;
  in.bytes = "\x01";
  in.fport = 1;
  const auto start = std::chrono::steady_clock::now();
  DecodeResult first = runner.Run(Js("os2iot"), in, 7);
  const int64_t wall_us = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::steady_clock::now() - start)
                              .count();
  ASSERT_TRUE(first.status.ok()) << first.status.message();
  EXPECT_LE(first.compile_us, first.duration_us);
  EXPECT_GE(first.duration_us, wall_us * 9 / 10) << "the engine's creation is part of the call";
  EXPECT_LE(first.duration_us - first.compile_us, wall_us / 10) << "and of its set-up";
}

TEST(DecoderRunnerTest, EncodesWithJsDecodersOnly) {
  DecoderRunner runner;
  EncodeInput in;
  in.data_json = R"({"n": 9})";
  EncodeResult r = runner.Encode(Js("auto"), in);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.bytes, "\x09");
  EXPECT_EQ(r.fport, 3);
  StoredDecoder lpp = Js("auto");
  lpp.kind = DecoderKind::kCayenneLpp;
  r = runner.Encode(lpp, in);
  EXPECT_EQ(r.status.code(), Code::kFailedPrecondition);
}

TEST(ApplyDecodeResultTest, KeepsErrorsAndWarningsAndErrorsMeanFailure) {
  DecodeResult ok;
  ok.readings.push_back(Reading{7, "t", 1, Value{1.0}, "", Quality::kOk});
  ok.warnings = {"battery low"};
  std::vector<Reading> readings;
  RawMessage raw;
  ApplyDecodeResult(ok, readings, raw);
  EXPECT_EQ(raw.decode_status, DecodeStatus::kOk);
  EXPECT_EQ(readings.size(), 1u);
  EXPECT_EQ(raw.decode_warnings, std::vector<std::string>{"battery low"});
  EXPECT_TRUE(raw.decode_errors.empty());

  // Errors without a failed status (any engine): still a failure, no readings.
  DecodeResult errs = ok;
  errs.errors = {"bad frame"};
  ApplyDecodeResult(errs, readings, raw);
  EXPECT_EQ(raw.decode_status, DecodeStatus::kError);
  EXPECT_TRUE(readings.empty());
  EXPECT_FALSE(raw.decode_error.empty());
  EXPECT_EQ(raw.decode_errors, std::vector<std::string>{"bad frame"});

  // A decoder cannot make a message's stored notes grow without bound.
  DecodeResult flood;
  flood.status = InvalidArgument("decodeUplink reported errors");
  for (int i = 0; i < 1000; ++i) flood.errors.push_back(std::string(5000, 'e'));
  flood.warnings = {std::string(kMaxStoredNoteBytes - 1, 'w') + "\xC3\xB8"};  // 'ø' at the cut
  ApplyDecodeResult(flood, readings, raw);
  EXPECT_EQ(raw.decode_errors.size(), kMaxStoredNotes);
  for (const std::string& e : raw.decode_errors) EXPECT_EQ(e.size(), kMaxStoredNoteBytes);
  ASSERT_EQ(raw.decode_warnings.size(), 1u);
  EXPECT_EQ(raw.decode_warnings[0], std::string(kMaxStoredNoteBytes - 1, 'w'));  // no half 'ø'
  EXPECT_EQ(raw.decode_error, "decodeUplink reported errors");
}

}  // namespace
}  // namespace bysans::decode
