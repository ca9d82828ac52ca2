#include "lorawan/gateway_events.h"

#include <gtest/gtest.h>

#include <string>

namespace bysans::lorawan {
namespace {

GatewayTopic Topic(const char* t) {
  auto r = ParseGatewayTopic(t);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : GatewayTopic{};
}

TEST(GatewayTopic, ParsesConnAndStats) {
  auto c = ParseGatewayTopic("eu868/gateway/0016C001FF10A235/state/conn");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->region_prefix, "eu868");
  EXPECT_EQ(c->gateway_id, "0016c001ff10a235");
  EXPECT_EQ(c->type, GatewayEventType::kConn);
  auto s = ParseGatewayTopic("eu868/gateway/0016c001ff10a235/event/stats");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->type, GatewayEventType::kStats);
}

TEST(GatewayTopic, RefusesOtherShapes) {
  for (const char* t :
       {"eu868/gateway/0016c001ff10a235/event/up", "eu868/gateway/0016c001ff10a235/state/conn/x",
        "/gateway/0016c001ff10a235/state/conn", "eu868/gateway/xyz/state/conn",
        "eu868/gw/0016c001ff10a235/state/conn", "application/1/device/0016c001ff10a235/event/up",
        ""}) {
    EXPECT_FALSE(ParseGatewayTopic(t).ok()) << t;
  }
}

TEST(GatewayConnState, OnlineOfflineAndProtojsonDefault) {
  GatewayTopic t = Topic("eu868/gateway/0016c001ff10a235/state/conn");
  auto on = ParseConnState(t, R"({"gatewayId":"0016c001ff10a235","state":"ONLINE"})");
  ASSERT_TRUE(on.ok()) << on.status().message();
  EXPECT_TRUE(on->online);
  EXPECT_EQ(on->gateway_id, "0016c001ff10a235");
  auto off = ParseConnState(t, R"({"gatewayId":"0016c001ff10a235","state":"OFFLINE"})");
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->online);
  // protojson omits the enum's default value (OFFLINE = 0).
  auto omitted = ParseConnState(t, R"({"gatewayId":"0016c001ff10a235"})");
  ASSERT_TRUE(omitted.ok());
  EXPECT_FALSE(omitted->online);
  auto numeric = ParseConnState(t, R"({"state":1})");
  ASSERT_TRUE(numeric.ok());
  EXPECT_TRUE(numeric->online);
}

TEST(GatewayConnState, ErrorsNameTheField) {
  GatewayTopic t = Topic("eu868/gateway/0016c001ff10a235/state/conn");
  auto bad_state = ParseConnState(t, R"({"state":"MAYBE"})");
  ASSERT_FALSE(bad_state.ok());
  EXPECT_NE(bad_state.status().message().find("'state'"), std::string::npos);
  auto other_gw = ParseConnState(t, R"({"gatewayId":"0016c001ff10a236","state":"ONLINE"})");
  ASSERT_FALSE(other_gw.ok());
  EXPECT_NE(other_gw.status().message().find("'gatewayId'"), std::string::npos);
  EXPECT_FALSE(ParseConnState(t, "not json").ok());
  EXPECT_FALSE(ParseConnState(t, "[1]").ok());
  EXPECT_FALSE(ParseConnState(t, R"({"state":2})").ok());
}

// As ChirpStack's MQTT forwarder publishes it with the JSON marshaler.
constexpr const char* kStats = R"({
  "gatewayId": "0016c001ff10a235",
  "time": "2026-12-04T10:15:30.123Z",
  "location": {"latitude": 56.1572, "longitude": 10.2107, "altitude": 52.5, "source": "CONFIG", "accuracy": 0},
  "configVersion": "",
  "rxPacketsReceived": 42,
  "rxPacketsReceivedOk": 40,
  "txPacketsReceived": 3,
  "txPacketsEmitted": 2,
  "metadata": {"concentratord_version": "4.3.0"},
  "txPacketsPerFrequency": {"868100000": 1, "868300000": 1},
  "rxPacketsPerFrequency": {"868100000": 20, "868300000": 22},
  "txPacketsPerModulation": [],
  "rxPacketsPerModulation": [],
  "txPacketsPerStatus": {"OK": 2}
})";

TEST(GatewayStats, ParsesARealisticMessage) {
  GatewayTopic t = Topic("eu868/gateway/0016c001ff10a235/event/stats");
  auto s = ParseGatewayStats(t, kStats);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->gateway_id, "0016c001ff10a235");
  ASSERT_TRUE(s->time_ms.has_value());
  EXPECT_EQ(*s->time_ms % 1000, 123);
  ASSERT_TRUE(s->location.has_value());
  EXPECT_DOUBLE_EQ(s->location->latitude, 56.1572);
  EXPECT_DOUBLE_EQ(s->location->longitude, 10.2107);
  EXPECT_DOUBLE_EQ(s->location->altitude, 52.5);
  EXPECT_EQ(s->rx_received, 42);
  EXPECT_EQ(s->rx_received_ok, 40);
  EXPECT_EQ(s->tx_received, 3);
  EXPECT_EQ(s->tx_emitted, 2);
}

TEST(GatewayStats, OmittedCountersAreZeroAndZeroLocationIsUnset) {
  GatewayTopic t = Topic("eu868/gateway/0016c001ff10a235/event/stats");
  auto s = ParseGatewayStats(
      t, R"({"gatewayId":"0016c001ff10a235","location":{},"rxPacketsReceived":"5"})");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_FALSE(s->location.has_value());
  EXPECT_FALSE(s->time_ms.has_value());
  EXPECT_EQ(s->rx_received, 5);
  EXPECT_EQ(s->rx_received_ok, 0);
  EXPECT_EQ(s->tx_emitted, 0);
}

TEST(GatewayStats, ErrorsNameTheField) {
  GatewayTopic t = Topic("eu868/gateway/0016c001ff10a235/event/stats");
  struct Case {
    const char* payload;
    const char* field;
  };
  for (const Case& c :
       {Case{R"({"rxPacketsReceived":-1})", "'rxPacketsReceived'"},
        Case{R"({"txPacketsEmitted":1.5})", "'txPacketsEmitted'"},
        Case{R"({"rxPacketsReceivedOk":"x"})", "'rxPacketsReceivedOk'"},
        Case{R"({"txPacketsReceived":4294967296})", "'txPacketsReceived'"},
        Case{R"({"time":"yesterday"})", "'time'"}, Case{R"({"location":[1,2]})", "'location'"},
        Case{R"({"location":{"latitude":91}})", "'location.latitude'"},
        Case{R"({"location":{"longitude":"east"}})", "'location.longitude'"}}) {
    auto s = ParseGatewayStats(t, c.payload);
    ASSERT_FALSE(s.ok()) << c.payload;
    EXPECT_NE(s.status().message().find(c.field), std::string::npos) << s.status().message();
  }
}

TEST(GatewayStats, SizeAndDepthLimits) {
  GatewayTopic t = Topic("eu868/gateway/0016c001ff10a235/event/stats");
  std::string big = R"({"metadata":{"x":")" + std::string(kMaxGatewayEventBytes, 'a') + "\"}}";
  auto s = ParseGatewayStats(t, big);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("exceeds"), std::string::npos);
  std::string deep = R"({"metadata":)" + std::string(100, '[') + std::string(100, ']') + "}";
  auto d = ParseGatewayStats(t, deep);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("deeper"), std::string::npos) << d.status().message();
}

}  // namespace
}  // namespace bysans::lorawan
