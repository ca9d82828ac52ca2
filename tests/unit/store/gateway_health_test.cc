// LoRaWAN gateway health (store/gateway_store.h, migration 30): state transitions, hourly stats,
// location, heard devices (batched through MqttStore::TouchGateway), tenancy and housekeeping.
#include <gtest/gtest.h>

#include "store/gateway_store.h"
#include "store/mqtt_store.h"
#include "unit/store/temp_store.h"

namespace bysans::testing {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr TimeMs kT0 = 1'700'000'000'000 - (1'700'000'000'000 % (24 * kHour));  // a UTC midnight
const std::string kGw = "0016c001ff10a235";

class GatewayHealthTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    org_ = store_->CreateOrganization({0, "o", 0}).value();
    other_ = store_->CreateOrganization({0, "p", 0}).value();
    app_ = store_->CreateApplication({0, org_.id, "a", "d", 0}).value();
    Device d;
    d.app_id = app_.id;
    d.name = "meter";
    d.dev_eui = "0101010101010101";
    d.transport = Transport::kLorawan;
    dev_ = store_->CreateDevice(d, "").value();
    d.name = "bin";
    d.dev_eui = "0202020202020202";
    dev2_ = store_->CreateDevice(d, "").value();
  }
  GatewayStore& g() { return store_->gateways(); }

  Organization org_, other_;
  Application app_;
  Device dev_, dev2_;
};

TEST_F(GatewayHealthTest, TransitionsAreKeptOnlyWhenTheStateChanges) {
  ASSERT_TRUE(g().RecordGatewayState(org_.id, kGw, true, kT0).ok());
  ASSERT_TRUE(g().RecordGatewayState(org_.id, kGw, true, kT0 + 10).ok());  // same: no row
  ASSERT_TRUE(g().RecordGatewayState(org_.id, kGw, false, kT0 + 20).ok());
  ASSERT_TRUE(g().RecordGatewayState(org_.id, kGw, true, kT0 + 30).ok());
  auto h = g().GatewayHistory(org_.id, kGw, kT0, kT0 + 100);
  ASSERT_TRUE(h.ok()) << h.status().message();
  ASSERT_EQ(h->size(), 3u);
  EXPECT_TRUE((*h)[0].online);
  EXPECT_EQ((*h)[1].ts, kT0 + 20);
  EXPECT_FALSE((*h)[1].online);
  EXPECT_EQ((*h)[2].ts, kT0 + 30);
  auto one = g().GetGatewayHealth(org_.id, kGw);
  ASSERT_TRUE(one.ok()) << one.status().message();
  ASSERT_TRUE(one->online.has_value());
  EXPECT_TRUE(*one->online);
  EXPECT_EQ(one->state_ms, kT0 + 30);
  EXPECT_EQ(one->last_seen_ms, kT0 + 30);
  EXPECT_EQ(one->uplinks, 0);
  // A window narrower than the history.
  h = g().GatewayHistory(org_.id, kGw, kT0 + 15, kT0 + 25);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].ts, kT0 + 20);
}

TEST_F(GatewayHealthTest, StatsAreSummedPerHourAndDayAndLocationKept) {
  GatewayPosition aarhus{56.1572, 10.2107, 52.5};
  ASSERT_TRUE(g().RecordGatewayStats(org_.id, kGw, kT0 + 60'000, {10, 9, 2, 1}, aarhus).ok());
  ASSERT_TRUE(g().RecordGatewayStats(org_.id, kGw, kT0 + 90'000, {5, 5, 1, 1}, std::nullopt).ok());
  ASSERT_TRUE(
      g().RecordGatewayStats(org_.id, kGw, kT0 + 3 * kHour, {7, 6, 0, 0}, std::nullopt).ok());
  auto hours = g().GatewayStatsHistory(org_.id, kGw, kT0, kT0 + 24 * kHour, kHour);
  ASSERT_TRUE(hours.ok()) << hours.status().message();
  ASSERT_EQ(hours->size(), 2u);  // the hours without stats are left out
  EXPECT_EQ((*hours)[0].start_ms, kT0);
  EXPECT_EQ((*hours)[0].counters.rx_received, 15);
  EXPECT_EQ((*hours)[0].counters.rx_received_ok, 14);
  EXPECT_EQ((*hours)[0].counters.tx_received, 3);
  EXPECT_EQ((*hours)[0].counters.tx_emitted, 2);
  EXPECT_EQ((*hours)[1].start_ms, kT0 + 3 * kHour);
  auto days = g().GatewayStatsHistory(org_.id, kGw, kT0, kT0 + 24 * kHour, 24 * kHour);
  ASSERT_TRUE(days.ok());
  ASSERT_EQ(days->size(), 1u);
  EXPECT_EQ((*days)[0].counters.rx_received, 22);
  EXPECT_FALSE(g().GatewayStatsHistory(org_.id, kGw, kT0, kT0, 1000).ok());
  auto one = g().GetGatewayHealth(org_.id, kGw);
  ASSERT_TRUE(one.ok());
  ASSERT_TRUE(one->location.has_value());  // a stats message without location keeps it
  EXPECT_DOUBLE_EQ(one->location->latitude, 56.1572);
  EXPECT_DOUBLE_EQ(one->location->altitude, 52.5);
  EXPECT_FALSE(one->online.has_value());
  EXPECT_EQ(one->last_seen_ms, kT0 + 3 * kHour);
}

TEST_F(GatewayHealthTest, HeardDevicesFromUplinksBatched) {
  MqttStore& m = store_->mqtt();
  ASSERT_TRUE(m.TouchGateway(org_.id, kGw, kT0 + 1000, dev_.id, -90.0, 7.5).ok());
  ASSERT_TRUE(m.TouchGateway(org_.id, kGw, kT0 + 500, dev_.id, -50.0, 9.0).ok());  // older
  ASSERT_TRUE(m.TouchGateway(org_.id, kGw, kT0 + 2000, dev2_.id, -100.0, std::nullopt).ok());
  auto heard = g().HeardDevices(org_.id, kGw);
  ASSERT_TRUE(heard.ok()) << heard.status().message();
  ASSERT_EQ(heard->size(), 2u);
  EXPECT_EQ((*heard)[0].device_id, dev2_.id);  // newest first
  EXPECT_FALSE((*heard)[0].snr.has_value());
  EXPECT_EQ((*heard)[1].device_id, dev_.id);
  EXPECT_EQ((*heard)[1].name, "meter");
  EXPECT_EQ((*heard)[1].dev_eui, "0101010101010101");
  EXPECT_DOUBLE_EQ(*(*heard)[1].rssi, -90.0);  // of the newest uplink
  EXPECT_DOUBLE_EQ(*(*heard)[1].snr, 7.5);
  EXPECT_EQ((*heard)[1].uplinks, 2);
  EXPECT_EQ((*heard)[1].last_seen_ms, kT0 + 1000);

  // After a flush: a newer uplink replaces RSSI/SNR, an older one only counts.
  ASSERT_TRUE(m.TouchGateway(org_.id, kGw, kT0 + 3000, dev_.id, -80.0, 1.0).ok());
  ASSERT_TRUE(m.TouchGateway(org_.id, kGw, kT0 + 100, dev2_.id, -40.0, 3.0).ok());
  Reopen();  // pending touches are written at close
  heard = store_->gateways().HeardDevices(org_.id, kGw);
  ASSERT_TRUE(heard.ok());
  ASSERT_EQ(heard->size(), 2u);
  EXPECT_EQ((*heard)[0].device_id, dev_.id);
  EXPECT_DOUBLE_EQ(*(*heard)[0].rssi, -80.0);
  EXPECT_EQ((*heard)[0].uplinks, 3);
  EXPECT_DOUBLE_EQ(*(*heard)[1].rssi, -100.0);
  EXPECT_EQ((*heard)[1].uplinks, 2);
  // The gateway is listed with its uplinks.
  auto list = store_->gateways().ListGatewayHealth(org_.id);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].uplinks, 5);
  EXPECT_EQ((*list)[0].first_seen_ms, kT0 + 1000);
  EXPECT_EQ((*list)[0].last_seen_ms, kT0 + 3000);
}

TEST_F(GatewayHealthTest, ADeletedDeviceDoesNotBlockTheBatch) {
  MqttStore& m = store_->mqtt();
  ASSERT_TRUE(m.TouchGateway(org_.id, kGw, kT0, dev_.id, -90.0, 7.5).ok());
  ASSERT_TRUE(m.TouchGateway(org_.id, kGw, kT0, dev2_.id, -91.0, 7.0).ok());
  ASSERT_TRUE(store_->DeleteDevice(dev2_.id).ok());
  auto heard = g().HeardDevices(org_.id, kGw);
  ASSERT_TRUE(heard.ok()) << heard.status().message();
  ASSERT_EQ(heard->size(), 1u);
  EXPECT_EQ((*heard)[0].device_id, dev_.id);
  // Deleting a heard device removes its rows.
  ASSERT_TRUE(store_->DeleteDevice(dev_.id).ok());
  heard = g().HeardDevices(org_.id, kGw);
  ASSERT_TRUE(heard.ok());
  EXPECT_TRUE(heard->empty());
}

TEST_F(GatewayHealthTest, OrganisationsAreSeparate) {
  ASSERT_TRUE(store_->mqtt().TouchGateway(org_.id, kGw, kT0, dev_.id, -90.0, 7.5).ok());
  ASSERT_TRUE(g().RecordGatewayState(other_.id, "00000000000000aa", true, kT0).ok());
  auto mine = g().ListGatewayHealth(org_.id);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].gateway_id, kGw);
  auto theirs = g().ListGatewayHealth(other_.id);
  ASSERT_TRUE(theirs.ok());
  ASSERT_EQ(theirs->size(), 1u);
  EXPECT_EQ((*theirs)[0].gateway_id, "00000000000000aa");
  EXPECT_EQ(g().GetGatewayHealth(other_.id, kGw).status().code(), Code::kNotFound);
  auto heard = g().HeardDevices(other_.id, kGw);
  ASSERT_TRUE(heard.ok());
  EXPECT_TRUE(heard->empty());
  // Who brought the gateway (the supervised broker's routing).
  auto orgs = g().OrganizationsOfGateway(kGw);
  ASSERT_TRUE(orgs.ok());
  ASSERT_EQ(orgs->size(), 1u);
  EXPECT_EQ(orgs->front(), org_.id);
  ASSERT_TRUE(store_->mqtt().TouchGateway(other_.id, kGw, kT0).ok());
  ASSERT_TRUE(store_->mqtt().ListGateways(other_.id).ok());  // flushes
  orgs = g().OrganizationsOfGateway(kGw);
  ASSERT_TRUE(orgs.ok());
  EXPECT_EQ(orgs->size(), 2u);
  // Deleting an organisation removes its gateway health.
  ASSERT_TRUE(store_->DeleteOrganization(other_.id).ok());
  auto gone = g().GetGatewayHealth(other_.id, "00000000000000aa");
  EXPECT_EQ(gone.status().code(), Code::kNotFound);
}

TEST_F(GatewayHealthTest, HousekeepingRemovesOldHistory) {
  ASSERT_TRUE(g().RecordGatewayState(org_.id, kGw, true, kT0).ok());
  ASSERT_TRUE(g().RecordGatewayState(org_.id, kGw, false, kT0 + 40 * 24 * kHour).ok());
  ASSERT_TRUE(g().RecordGatewayStats(org_.id, kGw, kT0, {1, 1, 0, 0}, std::nullopt).ok());
  ASSERT_TRUE(
      g().RecordGatewayStats(org_.id, kGw, kT0 + 40 * 24 * kHour, {2, 2, 0, 0}, std::nullopt).ok());
  auto removed = g().DeleteGatewayHistoryBefore(kT0 + 10 * 24 * kHour);
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_EQ(*removed, 2);
  auto h = g().GatewayHistory(org_.id, kGw, 0, INT64_MAX);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_FALSE((*h)[0].online);
  auto s = g().GatewayStatsHistory(org_.id, kGw, 0, INT64_MAX, kHour);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->size(), 1u);
  EXPECT_EQ(s->front().counters.rx_received, 2);
}

}  // namespace
}  // namespace bysans::testing
