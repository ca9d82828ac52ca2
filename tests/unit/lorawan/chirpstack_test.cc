#include "lorawan/chirpstack.h"

#include <gtest/gtest.h>

#include <string>

#include "core/json_depth.h"

namespace bysans::lorawan {
namespace {

TEST(ChirpstackTopic, ParsesEventTopics) {
  auto t = ParseEventTopic("application/abc/device/0A0B0C0D0E0F1011/event/up");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->application_id, "abc");
  EXPECT_EQ(t->dev_eui, "0a0b0c0d0e0f1011");
  EXPECT_EQ(t->type, EventType::kUp);
  EXPECT_FALSE(ParseEventTopic("application/abc/device/xyz/event/up").ok());
  EXPECT_FALSE(ParseEventTopic("devices/1/up").ok());
  EXPECT_EQ(ParseEventTopic("application/a/device/0a0b0c0d0e0f1011/event/log")->type,
            EventType::kOther);
}

TEST(ChirpstackEvent, ParsesUplinkWithBestGateway) {
  auto t = *ParseEventTopic("application/a/device/0101010101010101/event/up");
  auto e = ParseEvent(t, R"({"deduplicationId":"d-1","time":"2026-01-02T03:04:05.5Z",
      "deviceInfo":{"devEui":"0101010101010101","applicationId":"app"},"dr":3,"fCnt":"7",
      "fPort":2,"data":"AQID","rxInfo":[{"gatewayId":"g1","rssi":-90,"snr":1},
      {"gatewayId":"g2","rssi":-80,"snr":-2}]})");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->deduplication_id, "d-1");
  EXPECT_EQ(e->application_id, "app");
  EXPECT_EQ(*e->fcnt, 7);
  EXPECT_EQ(e->fport, 2);
  EXPECT_EQ(*e->dr, 3);
  EXPECT_EQ(e->frame, std::string("\x01\x02\x03", 3));
  EXPECT_EQ(BestGateway(*e)->gateway_id, "g2");
  EXPECT_TRUE(e->time_ms.has_value());
}

TEST(ChirpstackEvent, RejectsBadInputWithReasons) {
  auto t = *ParseEventTopic("application/a/device/0101010101010101/event/up");
  EXPECT_NE(ParseEvent(t, "nope").status().message().find("not valid JSON"), std::string::npos);
  EXPECT_NE(ParseEvent(t, R"({"data":"!!"})").status().message().find("base64"), std::string::npos);
  EXPECT_FALSE(ParseEvent(t, R"({"fCnt":"x"})").ok());
  EXPECT_FALSE(ParseEvent(t, R"({"rxInfo":3})").ok());
  EXPECT_FALSE(ParseEvent(t, "[]").ok());
}

TEST(ChirpstackEvent, ParsesStatus) {
  auto t = *ParseEventTopic("application/a/device/0101010101010101/event/status");
  auto e = ParseEvent(t, R"({"margin":7,"batteryLevel":55.5})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e->margin, 7);
  EXPECT_DOUBLE_EQ(*e->battery_level, 55.5);
  e = ParseEvent(t, R"({"margin":7,"batteryLevelUnavailable":true,"batteryLevel":0})");
  EXPECT_FALSE(e->battery_level.has_value());
}

TEST(Base64, RoundTrips) {
  for (std::string s : {std::string(""), std::string("a"), std::string("ab"), std::string("abc"),
                        std::string("\x00\xff\x10\x20", 4)}) {
    auto d = DecodeBase64(EncodeBase64(s));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, s);
  }
  EXPECT_FALSE(DecodeBase64("a").ok());
  EXPECT_FALSE(DecodeBase64("a b=").ok());
}

// EventParser reads through simdjson and falls back to nlohmann for what simdjson refuses: both
// give what ParseEvent always gave.
TEST(ChirpstackEvent, ParserKeepsNlohmannsMeaning) {
  auto t = *ParseEventTopic("application/a/device/0101010101010101/event/up");
  EventParser parser;
  // A member given twice: the last one counts, as with nlohmann.
  auto e = parser.Parse(t, R"({"fCnt":1,"fCnt":2,"data":"AQ==",
      "rxInfo":[{"gatewayId":"g1","gatewayId":"g2","rssi":-70}]})");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(*e->fcnt, 2);
  ASSERT_EQ(e->gateways.size(), 1u);
  EXPECT_EQ(e->gateways[0].gateway_id, "g2");
  EXPECT_EQ(*e->gateways[0].rssi, -70.0);
  // The parser is reused: nothing of the previous event remains.
  e = parser.Parse(t, R"({"data":"AgM=","rxInfo":[]})");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_FALSE(e->fcnt.has_value());
  EXPECT_TRUE(e->gateways.empty());
  EXPECT_EQ(e->frame, std::string("\x02\x03", 2));
  // An unsigned beyond int64 wraps as nlohmann's get<int64_t> does; an integer beyond 64 bits
  // (simdjson refuses it, nlohmann reads a float) is not an integer.
  e = parser.Parse(t, R"({"fCnt":18446744073709551615})");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(*e->fcnt, -1);
  EXPECT_EQ(parser.Parse(t, R"({"fCnt":123456789012345678901234567890})").status().message(),
            "ChirpStack event: field 'fCnt' must be an integer");
  // Invalid JSON and wrong shapes keep their errors.
  EXPECT_EQ(parser.Parse(t, R"({"fCnt":1,})").status().message(),
            "ChirpStack event: payload is not valid JSON");
  EXPECT_EQ(parser.Parse(t, "[1]").status().message(),
            "ChirpStack event: payload is not a JSON object");
  EXPECT_EQ(parser.Parse(t, R"({"rxInfo":{}})").status().message(),
            "ChirpStack event: field 'rxInfo' must be an array");
  EXPECT_EQ(parser.Parse(t, R"({"rxInfo":[{"snr":"x"}]})").status().message(),
            "ChirpStack event: field 'snr' must be a number");
}

// An event `levels` deep in all: the object, then levels - 1 nested arrays in "tags".
std::string EventNested(int levels) {
  return R"({"data":"AQ==","tags":)" + std::string(levels - 1, '[') + std::string(levels - 1, ']') +
         "}";
}

TEST(ChirpstackEvent, NestingIsLimitedAsEverywhereElse) {
  auto t = *ParseEventTopic("application/a/device/0101010101010101/event/up");
  EventParser parser;
  // simdjson enforces the limit on the fast path; it must be exactly CheckJsonDepth's.
  auto ok = parser.Parse(t, EventNested(kMaxJsonDepth));
  EXPECT_TRUE(ok.ok()) << ok.status().message();
  const std::string deeper = "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
  EXPECT_EQ(parser.Parse(t, EventNested(kMaxJsonDepth + 1)).status().message(), deeper);
  EXPECT_EQ(parser.Parse(t, EventNested(5000)).status().message(), deeper);
  // Invalid and too deep: the depth is the reason given, as before simdjson.
  EXPECT_EQ(parser.Parse(t, EventNested(200) + ",").status().message(), deeper);
  // The parser still reads events after refusing one.
  EXPECT_TRUE(parser.Parse(t, EventNested(3)).ok());
}

}  // namespace
}  // namespace bysans::lorawan
