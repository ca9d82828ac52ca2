#include "ingest/receive.h"

#include <gtest/gtest.h>

namespace bysans::ingest {
namespace {

constexpr TimeMs kNow = 1'767'323'045'000;

Device TestDevice() {
  Device d;
  d.id = 11;
  d.org_id = 1;
  d.app_id = 2;
  d.name = "sensor";
  return d;
}

TEST(ReceiveTest, ClassifiesContentTypes) {
  EXPECT_EQ(ClassifyContentType("application/json"), PayloadKind::kJson);
  EXPECT_EQ(ClassifyContentType("Application/JSON; charset=utf-8"), PayloadKind::kJson);
  EXPECT_EQ(ClassifyContentType(""), PayloadKind::kJson);
  EXPECT_EQ(ClassifyContentType("application/vnd.x+json"), PayloadKind::kJson);
  EXPECT_EQ(ClassifyContentType("application/senml+json"), PayloadKind::kSenml);
  EXPECT_EQ(ClassifyContentType("Application/SenML+CBOR"), PayloadKind::kSenmlCbor);
  EXPECT_EQ(ClassifyContentType("text/plain"), PayloadKind::kUnsupported);
  EXPECT_EQ(ClassifyContentType("application/x-www-form-urlencoded"), PayloadKind::kUnsupported);
}

TEST(ReceiveTest, JsonBodyBecomesMessageAndReadings) {
  auto b =
      BuildHttpIngest(TestDevice(), "application/json", R"({"temp":21.5,"door":"open"})", kNow);
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_EQ(b->messages.size(), 1u);
  const RawMessage& m = b->messages[0];
  EXPECT_EQ(m.device_id, 11);
  EXPECT_EQ(m.transport, Transport::kHttp);
  EXPECT_EQ(m.content_type, "application/json");
  EXPECT_EQ(m.payload, R"({"temp":21.5,"door":"open"})");
  EXPECT_EQ(m.received_ms, kNow);
  EXPECT_EQ(m.decode_status, DecodeStatus::kNone);
  ASSERT_EQ(b->readings.size(), 2u);
  EXPECT_EQ(b->readings[0].ts, kNow);
  EXPECT_EQ(b->readings[0].device_id, 11);
}

TEST(ReceiveTest, TopLevelTimestampSetsReadingTime) {
  auto b = BuildHttpIngest(TestDevice(), "application/json",
                           R"({"timestamp":"2026-01-01T00:00:00Z","temp":1})", kNow);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->readings.size(), 1u);
  EXPECT_EQ(b->readings[0].ts, 1767225600000);
  EXPECT_EQ(b->messages[0].received_ms, kNow);
  b = BuildHttpIngest(TestDevice(), "application/json", R"({"ts":1767225600123,"temp":1})", kNow);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->readings[0].ts, 1767225600123);
}

TEST(ReceiveTest, SenmlBody) {
  auto b = BuildHttpIngest(TestDevice(), "application/senml+json",
                           R"([{"bn":"room:","n":"t","u":"Cel","v":20}])", kNow);
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_EQ(b->readings.size(), 1u);
  EXPECT_EQ(b->readings[0].key, "room:t");
  EXPECT_EQ(b->readings[0].unit, "Cel");
  EXPECT_EQ(b->messages[0].content_type, "application/senml+json");
}

// [{bn: "room:", n: "t", u: "Cel", v: 20}] with the RFC 8428 §6 integer labels.
const std::string kSenmlCbor(
    "\x81\xa4\x21\x65room:\x00\x61t\x01\x63"
    "Cel\x02\x14",
    19);

TEST(ReceiveTest, SenmlCborBodyIsStoredAsSentAndReadLikeSenmlJson) {
  auto b = BuildHttpIngest(TestDevice(), "application/senml+cbor", kSenmlCbor, kNow);
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_EQ(b->readings.size(), 1u);
  EXPECT_EQ(b->readings[0].key, "room:t");
  EXPECT_EQ(b->readings[0].unit, "Cel");
  EXPECT_EQ(std::get<double>(b->readings[0].value), 20.0);
  EXPECT_EQ(b->messages[0].content_type, "application/senml+cbor");
  EXPECT_EQ(b->messages[0].payload, kSenmlCbor) << "the CBOR bytes are the stored payload";
}

TEST(ReceiveTest, TruncatedSenmlCborIsABadRequestNamingTheOffset) {
  auto b = BuildHttpIngest(TestDevice(), "application/senml+cbor", kSenmlCbor.substr(0, 9), kNow);
  EXPECT_EQ(b.status().code(), Code::kInvalidArgument);
  EXPECT_NE(b.status().message().find("truncated"), std::string::npos) << b.status().message();
  // A JSON body sent as CBOR is not CBOR SenML either.
  b = BuildHttpIngest(TestDevice(), "application/senml+cbor", R"([{"n":"t","v":1}])", kNow);
  EXPECT_EQ(b.status().code(), Code::kInvalidArgument);
  std::vector<Reading> out;
  EXPECT_TRUE(ParseReadings(PayloadKind::kSenmlCbor, kSenmlCbor, 11, kNow, out).ok());
  EXPECT_EQ(out.size(), 1u);
}

TEST(ReceiveTest, Errors) {
  EXPECT_EQ(BuildHttpIngest(TestDevice(), "text/plain", "x", kNow).status().code(),
            Code::kUnsupportedMedia);
  EXPECT_EQ(BuildHttpIngest(TestDevice(), "application/json", "", kNow).status().code(),
            Code::kInvalidArgument);
  auto bad = BuildHttpIngest(TestDevice(), "application/json", "{\"a\":", kNow);
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("byte"), std::string::npos);
  EXPECT_EQ(BuildHttpIngest(TestDevice(), "application/senml+json", "{}", kNow).status().code(),
            Code::kInvalidArgument);
}

TEST(ReceiveTest, ParseReadingsReplacesAndEmptiesOnError) {
  JsonFlattener flattener;
  std::vector<Reading> out(3);
  ASSERT_TRUE(ParseReadings(PayloadKind::kJson, R"({"ts":1767225600123,"temp":1,"rh":40})", 11,
                            kNow, out, &flattener)
                  .ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].key, "temp");
  EXPECT_EQ(out[0].ts, 1767225600123);
  EXPECT_EQ(out[1].device_id, 11);
  ASSERT_TRUE(
      ParseReadings(PayloadKind::kSenml, R"([{"n":"t","v":20}])", 11, kNow, out, &flattener).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key, "t");
  EXPECT_EQ(ParseReadings(PayloadKind::kSenml, R"({"t":1})", 11, kNow, out).code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(ParseReadings(PayloadKind::kJson, "", 11, kNow, out).code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseReadings(PayloadKind::kJson, R"({"a":)", 11, kNow, out).code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace bysans::ingest
