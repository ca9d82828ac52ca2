// The demo's gateways (src/sim/demo_gateways.h): the history a fresh demo gets, in a real SQLite
// store, and the ChirpStack gateway events and uplinks the simulator publishes for them, read
// back by bysans' own parsers.
#include "sim/demo_gateways.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "lorawan/chirpstack.h"
#include "lorawan/gateway_events.h"
#include "sim/simulator.h"
#include "unit/store/temp_store.h"

namespace bysans::sim {
namespace {

constexpr TimeMs kHour = 3'600'000;
constexpr TimeMs kDay = 24 * kHour;
constexpr TimeMs kNow = 1'764'000'000'000 + 17 * 60'000;  // not on an hour

class DemoGatewaysTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    org_ = store_->CreateOrganization({0, "Demo", 0}).value();
    ASSERT_TRUE(SeedDemoGatewayHistory(store_->gateways(), org_.id, kNow).ok());
  }
  Organization org_;
};

TEST_F(DemoGatewaysTest, BothGatewaysAreOnlineAndLocated) {
  auto list = store_->gateways().ListGatewayHealth(org_.id);
  ASSERT_TRUE(list.ok()) << list.status().message();
  ASSERT_EQ(list->size(), DemoGateways().size());
  for (const GatewayHealth& g : *list) {
    ASSERT_TRUE(g.online.has_value()) << g.gateway_id;
    EXPECT_TRUE(*g.online) << g.gateway_id;
    ASSERT_TRUE(g.location.has_value()) << g.gateway_id;
    EXPECT_NEAR(g.location->latitude, 56.16, 0.05);
  }
}

TEST_F(DemoGatewaysTest, TheSecondGatewayHadOneOutageThreeDaysAgo) {
  const DemoGateway& first = DemoGateways()[0];
  const DemoGateway& second = DemoGateways()[1];
  auto one = store_->gateways().GatewayHistory(org_.id, first.id, 0, kNow);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_TRUE(one->front().online);
  EXPECT_LE(one->front().ts, kNow - 30 * kDay + kHour);

  auto two = store_->gateways().GatewayHistory(org_.id, second.id, 0, kNow);
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->size(), 3u);
  EXPECT_FALSE((*two)[1].online);
  EXPECT_TRUE((*two)[2].online);
  EXPECT_EQ((*two)[2].ts - (*two)[1].ts, 2 * kHour + 20 * 60'000);
  EXPECT_GT((*two)[1].ts, kNow - 4 * kDay);
  EXPECT_LT((*two)[1].ts, kNow - 2 * kDay);
}

TEST_F(DemoGatewaysTest, PacketsPerHourForAWeekWithAGapInTheOutageAndPerDayBefore) {
  const DemoGateway& second = DemoGateways()[1];
  auto history = store_->gateways().GatewayHistory(org_.id, second.id, 0, kNow);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  const TimeMs down = (*history)[1].ts, up = (*history)[2].ts;

  auto hours = store_->gateways().GatewayStatsHistory(org_.id, second.id, kNow - 7 * kDay + kHour,
                                                      kNow, kHour);
  ASSERT_TRUE(hours.ok());
  // Every whole hour of the week but the three the outage touched.
  EXPECT_GE(hours->size(), 7u * 24 - 5);
  EXPECT_LE(hours->size(), 7u * 24);
  for (const GatewayStatsBucket& b : *hours) {
    EXPECT_FALSE(b.start_ms + kHour > down && b.start_ms < up) << "a bucket during the outage";
    EXPECT_GT(b.counters.rx_received_ok, 0);
    EXPECT_GE(b.counters.rx_received, b.counters.rx_received_ok);
  }
  auto days =
      store_->gateways().GatewayStatsHistory(org_.id, second.id, kNow - 30 * kDay, kNow, kDay);
  ASSERT_TRUE(days.ok());
  EXPECT_GE(days->size(), 29u);
  EXPECT_LE(days->size(), 31u);
}

TEST(DemoGatewayEventsTest, ConnAndStatsParseAsChirpstackGatewayEvents) {
  const DemoGateway& g = DemoGateways()[1];
  auto conn_topic = lorawan::ParseGatewayTopic(GatewayConnTopic(g));
  ASSERT_TRUE(conn_topic.ok()) << conn_topic.status().message();
  EXPECT_EQ(conn_topic->type, lorawan::GatewayEventType::kConn);
  for (bool online : {true, false}) {
    auto conn = lorawan::ParseConnState(*conn_topic, GatewayConnJson(g, online));
    ASSERT_TRUE(conn.ok()) << conn.status().message();
    EXPECT_EQ(conn->online, online);
    EXPECT_EQ(conn->gateway_id, g.id);
  }
  auto stats_topic = lorawan::ParseGatewayTopic(GatewayStatsTopic(g));
  ASSERT_TRUE(stats_topic.ok());
  EXPECT_EQ(stats_topic->type, lorawan::GatewayEventType::kStats);
  auto stats = lorawan::ParseGatewayStats(*stats_topic, GatewayStatsJson(g, kNow, 40, 2));
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_EQ(stats->rx_received_ok, 40);
  EXPECT_EQ(stats->rx_received, 41);
  EXPECT_EQ(stats->tx_emitted, 2);
  ASSERT_TRUE(stats->time_ms.has_value());
  EXPECT_EQ(*stats->time_ms, kNow);
  ASSERT_TRUE(stats->location.has_value());
  EXPECT_DOUBLE_EQ(stats->location->latitude, g.latitude);
}

TEST(DemoGatewayEventsTest, EachDevicesUplinksComeThroughItsGateway) {
  std::mt19937_64 rng(7);
  std::set<std::string> seen;
  for (Id id : {Id{4}, Id{5}}) {
    DemoDevice d;
    d.id = id;
    d.name = "Klasselokale";
    d.codec = DemoCodec::kElsysErsCo2;
    d.dev_eui = "a81758fffede0001";
    d.chirpstack_app_id = "app";
    LorawanFrame frame = EncodeFrame(d.codec, {{"temperature", 21.4}, {"co2", 812}});
    auto topic = lorawan::ParseEventTopic("application/app/device/" + d.dev_eui + "/event/up");
    ASSERT_TRUE(topic.ok());
    auto event = lorawan::ParseEvent(*topic, ChirpstackUplinkJson(d, frame, 1, kNow, rng));
    ASSERT_TRUE(event.ok()) << event.status().message();
    ASSERT_EQ(event->gateways.size(), 1u);
    EXPECT_EQ(event->gateways[0].gateway_id, GatewayOfDevice(id).id);
    seen.insert(event->gateways[0].gateway_id);
  }
  EXPECT_EQ(seen.size(), 2u) << "the demo's devices are spread over both gateways";
}

}  // namespace
}  // namespace bysans::sim
