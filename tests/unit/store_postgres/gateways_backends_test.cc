// LoRaWAN gateways on both backends (moved from tests/unit/store/gateways_test.cc,
// gateway_health_test.cc and lorawan_routes_test.cc): gateways seen and LoRaWAN routes kept in
// memory and written in batches (about once a second, before a listing, at close); gateway
// health (state transitions, hourly stats, location, heard devices), tenancy and housekeeping.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "unit/store_postgres/mqtt_backend_fixture.h"

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

namespace bysans::testing {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr TimeMs kT0 = 1'700'000'000'000 - (1'700'000'000'000 % (24 * kHour));  // a UTC midnight
const std::string kGw = "0016c001ff10a235";

// The value, or `otherwise` when there is none.
template <typename T, typename U>
T Or(const Result<T>& r, U otherwise) {
  return r.ok() ? *r : T(otherwise);
}

class GatewaysTest : public MqttBackendTest {};
BYSANS_MQTT_ON_BOTH_BACKENDS(GatewaysTest);

TEST_P(GatewaysTest, ListsEveryTouchAndKeepsThemAcrossRestart) {
  const Id o1 = MakeOrg("one"), o2 = MakeOrg("two");
  ASSERT_TRUE(m().TouchGateway(o1, "gw-a", 2000, kLocal).ok());
  ASSERT_TRUE(m().TouchGateway(o1, "gw-a", 1000, kLocal).ok());  // older: last seen stays 2000
  ASSERT_TRUE(m().TouchGateway(o1, "gw-b", 1500, kLocal).ok());
  ASSERT_TRUE(m().TouchGateway(o2, "gw-a", 3000, kLocal).ok());
  auto gws = m().ListGateways(o1);
  ASSERT_TRUE(gws.ok()) << gws.status().message();
  ASSERT_EQ(gws->size(), 2u);
  EXPECT_EQ((*gws)[0].gateway_id, "gw-a");
  EXPECT_EQ((*gws)[0].org_id, o1);
  EXPECT_EQ((*gws)[0].first_seen_ms, 2000);
  EXPECT_EQ((*gws)[0].last_seen_ms, 2000);
  EXPECT_EQ((*gws)[0].uplinks, 2);
  EXPECT_EQ((*gws)[1].gateway_id, "gw-b");
  EXPECT_EQ((*gws)[1].uplinks, 1);

  // Touches after a flush add to the stored row; those not yet written are written at close.
  ASSERT_TRUE(m().TouchGateway(o1, "gw-a", 4000, kLocal).ok());
  ASSERT_TRUE(m().TouchGateway(o2, "gw-a", 3500, kLocal).ok());
  Reopen();
  gws = m().ListGateways(o1);
  ASSERT_TRUE(gws.ok());
  ASSERT_EQ(gws->size(), 2u);
  EXPECT_EQ((*gws)[0].first_seen_ms, 2000);
  EXPECT_EQ((*gws)[0].last_seen_ms, 4000);
  EXPECT_EQ((*gws)[0].uplinks, 3);
  gws = m().ListGateways(o2);
  ASSERT_TRUE(gws.ok());
  ASSERT_EQ(gws->size(), 1u);
  EXPECT_EQ((*gws)[0].first_seen_ms, 3000);
  EXPECT_EQ((*gws)[0].last_seen_ms, 3500);
  EXPECT_EQ((*gws)[0].uplinks, 2);
}

// Without a listing, the store's flusher (SQLite: its checkpoint thread) writes them about once
// a second; read here past the store, from the database itself.
TEST_P(GatewaysTest, WrittenWithinAboutASecond) {
  const Id org = MakeOrg("seven");
  ASSERT_TRUE(m().TouchGateway(org, "gw-t", 1000, kLocal).ok());
  int64_t uplinks = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (uplinks == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (postgres()) {
      const std::string n =
          Sql("SELECT coalesce(sum(uplinks), 0) FROM lorawan_gateways WHERE "
              "org_id = " +
              std::to_string(org));
      uplinks = n.empty() ? 0 : std::stoll(n);
    } else {
      uplinks =
          SqliteCount("SELECT uplinks FROM lorawan_gateways WHERE org_id = " + std::to_string(org));
    }
  }
  EXPECT_EQ(uplinks, 1);
}

class GatewayHealthTest : public MqttBackendTest {
 protected:
  void SetUp() override {
    MqttBackendTest::SetUp();
    org_ = MakeOrg("o");
    other_ = MakeOrg("p");
    app_ = MakeApp(org_, "a");
    dev_ = MakeDevice(app_, "meter", "0101010101010101");
    dev2_ = MakeDevice(app_, "bin", "0202020202020202");
  }
  Id org_ = 0, other_ = 0, app_ = 0, dev_ = 0, dev2_ = 0;
};
BYSANS_MQTT_ON_BOTH_BACKENDS(GatewayHealthTest);

TEST_P(GatewayHealthTest, TransitionsAreKeptOnlyWhenTheStateChanges) {
  ASSERT_TRUE(g().RecordGatewayState(org_, kGw, true, kT0).ok());
  ASSERT_TRUE(g().RecordGatewayState(org_, kGw, true, kT0 + 10).ok());  // same: no row
  ASSERT_TRUE(g().RecordGatewayState(org_, kGw, false, kT0 + 20).ok());
  ASSERT_TRUE(g().RecordGatewayState(org_, kGw, true, kT0 + 30).ok());
  auto h = g().GatewayHistory(org_, kGw, kT0, kT0 + 100);
  ASSERT_TRUE(h.ok()) << h.status().message();
  ASSERT_EQ(h->size(), 3u);
  EXPECT_TRUE((*h)[0].online);
  EXPECT_EQ((*h)[1].ts, kT0 + 20);
  EXPECT_FALSE((*h)[1].online);
  EXPECT_EQ((*h)[2].ts, kT0 + 30);
  auto one = g().GetGatewayHealth(org_, kGw);
  ASSERT_TRUE(one.ok()) << one.status().message();
  ASSERT_TRUE(one->online.has_value());
  EXPECT_TRUE(*one->online);
  EXPECT_EQ(one->state_ms, kT0 + 30);
  EXPECT_EQ(one->last_seen_ms, kT0 + 30);
  EXPECT_EQ(one->uplinks, 0);
  // A window narrower than the history.
  h = g().GatewayHistory(org_, kGw, kT0 + 15, kT0 + 25);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].ts, kT0 + 20);
}

TEST_P(GatewayHealthTest, StatsAreSummedPerHourAndDayAndLocationKept) {
  GatewayPosition aarhus{56.1572, 10.2107, 52.5};
  ASSERT_TRUE(g().RecordGatewayStats(org_, kGw, kT0 + 60'000, {10, 9, 2, 1}, aarhus).ok());
  ASSERT_TRUE(g().RecordGatewayStats(org_, kGw, kT0 + 90'000, {5, 5, 1, 1}, std::nullopt).ok());
  ASSERT_TRUE(g().RecordGatewayStats(org_, kGw, kT0 + 3 * kHour, {7, 6, 0, 0}, std::nullopt).ok());
  auto hours = g().GatewayStatsHistory(org_, kGw, kT0, kT0 + 24 * kHour, kHour);
  ASSERT_TRUE(hours.ok()) << hours.status().message();
  ASSERT_EQ(hours->size(), 2u);  // the hours without stats are left out
  EXPECT_EQ((*hours)[0].start_ms, kT0);
  EXPECT_EQ((*hours)[0].counters.rx_received, 15);
  EXPECT_EQ((*hours)[0].counters.rx_received_ok, 14);
  EXPECT_EQ((*hours)[0].counters.tx_received, 3);
  EXPECT_EQ((*hours)[0].counters.tx_emitted, 2);
  EXPECT_EQ((*hours)[1].start_ms, kT0 + 3 * kHour);
  auto days = g().GatewayStatsHistory(org_, kGw, kT0, kT0 + 24 * kHour, 24 * kHour);
  ASSERT_TRUE(days.ok());
  ASSERT_EQ(days->size(), 1u);
  EXPECT_EQ((*days)[0].counters.rx_received, 22);
  EXPECT_EQ(g().GatewayStatsHistory(org_, kGw, kT0, kT0, 1000).status().code(),
            Code::kInvalidArgument);
  auto one = g().GetGatewayHealth(org_, kGw);
  ASSERT_TRUE(one.ok());
  ASSERT_TRUE(one->location.has_value());  // a stats message without location keeps it
  EXPECT_DOUBLE_EQ(one->location->latitude, 56.1572);
  EXPECT_DOUBLE_EQ(one->location->longitude, 10.2107);
  EXPECT_DOUBLE_EQ(one->location->altitude, 52.5);
  EXPECT_FALSE(one->online.has_value());
  EXPECT_EQ(one->last_seen_ms, kT0 + 3 * kHour);
}

TEST_P(GatewayHealthTest, HeardDevicesFromUplinksBatched) {
  ASSERT_TRUE(m().TouchGateway(org_, kGw, kT0 + 1000, kLocal, dev_, -90.0, 7.5).ok());
  ASSERT_TRUE(m().TouchGateway(org_, kGw, kT0 + 500, kLocal, dev_, -50.0, 9.0).ok());  // older
  ASSERT_TRUE(m().TouchGateway(org_, kGw, kT0 + 2000, kLocal, dev2_, -100.0, std::nullopt).ok());
  auto heard = g().HeardDevices(org_, kGw);
  ASSERT_TRUE(heard.ok()) << heard.status().message();
  ASSERT_EQ(heard->size(), 2u);
  EXPECT_EQ((*heard)[0].device_id, dev2_);  // newest first
  EXPECT_FALSE((*heard)[0].snr.has_value());
  EXPECT_EQ((*heard)[1].device_id, dev_);
  EXPECT_EQ((*heard)[1].name, "meter");
  EXPECT_EQ((*heard)[1].dev_eui, "0101010101010101");
  EXPECT_DOUBLE_EQ(*(*heard)[1].rssi, -90.0);  // of the newest uplink
  EXPECT_DOUBLE_EQ(*(*heard)[1].snr, 7.5);
  EXPECT_EQ((*heard)[1].uplinks, 2);
  EXPECT_EQ((*heard)[1].last_seen_ms, kT0 + 1000);

  // After a flush: a newer uplink replaces RSSI/SNR, an older one only counts.
  ASSERT_TRUE(m().TouchGateway(org_, kGw, kT0 + 3000, kLocal, dev_, -80.0, 1.0).ok());
  ASSERT_TRUE(m().TouchGateway(org_, kGw, kT0 + 100, kLocal, dev2_, -40.0, 3.0).ok());
  Reopen();  // pending touches are written at close
  heard = g().HeardDevices(org_, kGw);
  ASSERT_TRUE(heard.ok());
  ASSERT_EQ(heard->size(), 2u);
  EXPECT_EQ((*heard)[0].device_id, dev_);
  EXPECT_DOUBLE_EQ(*(*heard)[0].rssi, -80.0);
  EXPECT_EQ((*heard)[0].uplinks, 3);
  EXPECT_DOUBLE_EQ(*(*heard)[1].rssi, -100.0);
  EXPECT_FALSE((*heard)[1].snr.has_value());
  EXPECT_EQ((*heard)[1].uplinks, 2);
  // The gateway is listed with its uplinks.
  auto list = g().ListGatewayHealth(org_);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].uplinks, 5);
  EXPECT_EQ((*list)[0].first_seen_ms, kT0 + 1000);
  EXPECT_EQ((*list)[0].last_seen_ms, kT0 + 3000);
}

TEST_P(GatewayHealthTest, ADeletedDeviceDoesNotBlockTheBatch) {
  ASSERT_TRUE(m().TouchGateway(org_, kGw, kT0, kLocal, dev_, -90.0, 7.5).ok());
  ASSERT_TRUE(m().TouchGateway(org_, kGw, kT0, kLocal, dev2_, -91.0, 7.0).ok());
  DeleteDevice(dev2_);
  auto heard = g().HeardDevices(org_, kGw);
  ASSERT_TRUE(heard.ok()) << heard.status().message();
  ASSERT_EQ(heard->size(), 1u);
  EXPECT_EQ((*heard)[0].device_id, dev_);
  // Deleting a heard device removes its rows.
  DeleteDevice(dev_);
  heard = g().HeardDevices(org_, kGw);
  ASSERT_TRUE(heard.ok());
  EXPECT_TRUE(heard->empty());
}

TEST_P(GatewayHealthTest, OrganisationsAreSeparate) {
  ASSERT_TRUE(m().TouchGateway(org_, kGw, kT0, kLocal, dev_, -90.0, 7.5).ok());
  ASSERT_TRUE(g().RecordGatewayState(other_, "00000000000000aa", true, kT0).ok());
  auto mine = g().ListGatewayHealth(org_);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].gateway_id, kGw);
  auto theirs = g().ListGatewayHealth(other_);
  ASSERT_TRUE(theirs.ok());
  ASSERT_EQ(theirs->size(), 1u);
  EXPECT_EQ((*theirs)[0].gateway_id, "00000000000000aa");
  EXPECT_EQ(g().GetGatewayHealth(other_, kGw).status().code(), Code::kNotFound);
  auto heard = g().HeardDevices(other_, kGw);
  ASSERT_TRUE(heard.ok());
  EXPECT_TRUE(heard->empty());
  // Who brought the gateway (the supervised broker's routing).
  auto orgs = g().OrganizationsOfGateway(kGw);
  ASSERT_TRUE(orgs.ok());
  ASSERT_EQ(orgs->size(), 1u);
  EXPECT_EQ(orgs->front(), org_);
  ASSERT_TRUE(m().TouchGateway(other_, kGw, kT0, kLocal).ok());
  ASSERT_TRUE(m().ListGateways(other_).ok());  // flushes
  orgs = g().OrganizationsOfGateway(kGw);
  ASSERT_TRUE(orgs.ok());
  EXPECT_EQ(orgs->size(), 2u);
  // Deleting an organisation removes its gateway health.
  DeleteOrg(other_);
  auto gone = g().GetGatewayHealth(other_, "00000000000000aa");
  EXPECT_EQ(gone.status().code(), Code::kNotFound);
}

// OrganizationsOfGateway routes the gateway events of bysans' own broker: only organisations
// whose uplinks came through the gateway on that broker count. What another organisation's own
// ChirpStack integration reports is that organisation's claim only (its list shows the gateway)
// and must not make the gateway "known to several", which would have its events ignored.
TEST_P(GatewayHealthTest, OnlyLocalSightingsRouteGatewayEventsOfOwnBroker) {
  const std::string kOnlyClaimed = "00000000000000cc";
  ASSERT_TRUE(m().TouchGateway(org_, kGw, kT0, kLocal, dev_, -90.0, 7.5).ok());
  ASSERT_TRUE(m().TouchGateway(other_, kGw, kT0 + 1, kViaIntegration).ok());
  ASSERT_TRUE(m().TouchGateway(other_, kOnlyClaimed, kT0 + 2, kViaIntegration).ok());
  auto claimed = m().ListGateways(other_);  // flushes
  ASSERT_TRUE(claimed.ok()) << claimed.status().message();
  ASSERT_EQ(claimed->size(), 2u);
  EXPECT_FALSE((*claimed)[0].seen_locally);
  EXPECT_FALSE((*claimed)[1].seen_locally);
  auto orgs = g().OrganizationsOfGateway(kGw);
  ASSERT_TRUE(orgs.ok()) << orgs.status().message();
  EXPECT_EQ(*orgs, std::vector<Id>{org_});
  orgs = g().OrganizationsOfGateway(kOnlyClaimed);
  ASSERT_TRUE(orgs.ok());
  EXPECT_TRUE(orgs->empty());
  // The claimant's own view keeps the gateways its integration reported.
  auto health = g().ListGatewayHealth(other_);
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->size(), 2u);
  // Also after a restart (read back from the table, not from memory).
  ASSERT_TRUE(m().TouchGateway(other_, kGw, kT0 + 3, kViaIntegration).ok());
  Reopen();
  orgs = g().OrganizationsOfGateway(kGw);
  ASSERT_TRUE(orgs.ok());
  EXPECT_EQ(*orgs, std::vector<Id>{org_});
}

// seen_locally is only ever set: a local touch after an integration's sets it (in the same batch
// or a later one), an integration's touch after a local one leaves it set.
TEST_P(GatewayHealthTest, ALocalTouchSetsSeenLocallyForGood) {
  const std::string kLater = "00000000000000a1", kSameBatch = "00000000000000a2",
                    kKept = "00000000000000a3";
  ASSERT_TRUE(m().TouchGateway(org_, kLater, kT0, kViaIntegration).ok());
  ASSERT_TRUE(m().TouchGateway(org_, kKept, kT0, kLocal).ok());
  ASSERT_TRUE(m().ListGateways(org_).ok());  // flushes
  ASSERT_TRUE(m().TouchGateway(org_, kLater, kT0 + 1, kLocal, dev_, -80.0, 3.0).ok());
  ASSERT_TRUE(m().TouchGateway(org_, kSameBatch, kT0 + 1, kViaIntegration).ok());
  ASSERT_TRUE(m().TouchGateway(org_, kSameBatch, kT0 + 2, kLocal).ok());
  ASSERT_TRUE(m().TouchGateway(org_, kSameBatch, kT0 + 3, kViaIntegration).ok());
  ASSERT_TRUE(m().TouchGateway(org_, kKept, kT0 + 1, kViaIntegration, dev_, -81.0, 2.0).ok());
  Reopen();  // written at close
  auto gws = m().ListGateways(org_);
  ASSERT_TRUE(gws.ok()) << gws.status().message();
  ASSERT_EQ(gws->size(), 3u);
  for (const LorawanGateway& gw : *gws) {
    EXPECT_TRUE(gw.seen_locally) << gw.gateway_id;
    auto orgs = g().OrganizationsOfGateway(gw.gateway_id);
    ASSERT_TRUE(orgs.ok());
    EXPECT_EQ(*orgs, std::vector<Id>{org_}) << gw.gateway_id;
  }
  EXPECT_EQ((*gws)[1].uplinks, 3);  // kSameBatch: every touch counts, wherever it came from
}

// SQLite migration 42 / PostgreSQL migration 21 over a database of before: its gateways are
// marked seen locally, so each keeps the organisations it had (its events on bysans' broker still
// reach them); a gateway first reported by an integration after the upgrade is not.
TEST_P(GatewaysTest, GatewaysFromBeforeTheUpgradeStayAttributable) {
  constexpr int kPostgresVersionBefore = 20;
  Id org = 0;
  if (postgres()) {
    Close();
    url_ = SharedPostgres::NewDatabase();
    auto before = pg::ApplyMigrations(url_, kPostgresVersionBefore);
    ASSERT_TRUE(before.ok()) << before.status().message();
    Open();
    // The organisation as that schema holds it: the store's code writes today's columns.
    org = std::stoll(
        Sql("INSERT INTO organizations (name, created_ms) VALUES ('before', 1) RETURNING id"));
    Sql("INSERT INTO lorawan_gateways (org_id, gateway_id, first_seen_ms, last_seen_ms, uplinks) "
        "VALUES (" +
        std::to_string(org) + ", 'gw-old', 1, 2, 3)");
    Close();
    auto v = pg::ApplyMigrations(url_);
    ASSERT_TRUE(v.ok()) << v.status().message();
    Open();
  } else {
    org = MakeOrg("before");
    Close();
    ASSERT_NO_FATAL_FAILURE(SqliteExec(
        "ALTER TABLE lorawan_gateways DROP COLUMN seen_locally; DELETE FROM schema_version WHERE "
        "version = 42; INSERT INTO lorawan_gateways (org_id, gateway_id, first_seen_ms, "
        "last_seen_ms, uplinks) VALUES (" +
        std::to_string(org) + ", 'gw-old', 1, 2, 3)"));
    Open();
  }
  auto orgs = g().OrganizationsOfGateway("gw-old");
  ASSERT_TRUE(orgs.ok()) << orgs.status().message();
  EXPECT_EQ(*orgs, std::vector<Id>{org});
  ASSERT_TRUE(m().TouchGateway(org, "gw-new", 5, kViaIntegration).ok());
  auto gws = m().ListGateways(org);
  ASSERT_TRUE(gws.ok()) << gws.status().message();
  ASSERT_EQ(gws->size(), 2u);
  EXPECT_EQ((*gws)[1].gateway_id, "gw-old");
  EXPECT_TRUE((*gws)[1].seen_locally);
  EXPECT_EQ((*gws)[1].uplinks, 3);
  EXPECT_FALSE((*gws)[0].seen_locally);
  orgs = g().OrganizationsOfGateway("gw-new");
  ASSERT_TRUE(orgs.ok());
  EXPECT_TRUE(orgs->empty());
}

TEST_P(GatewayHealthTest, HousekeepingRemovesOldHistory) {
  ASSERT_TRUE(g().RecordGatewayState(org_, kGw, true, kT0).ok());
  ASSERT_TRUE(g().RecordGatewayState(org_, kGw, false, kT0 + 40 * 24 * kHour).ok());
  ASSERT_TRUE(g().RecordGatewayStats(org_, kGw, kT0, {1, 1, 0, 0}, std::nullopt).ok());
  ASSERT_TRUE(
      g().RecordGatewayStats(org_, kGw, kT0 + 40 * 24 * kHour, {2, 2, 0, 0}, std::nullopt).ok());
  auto removed = g().DeleteGatewayHistoryBefore(kT0 + 10 * 24 * kHour);
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_EQ(*removed, 2);
  auto h = g().GatewayHistory(org_, kGw, 0, INT64_MAX);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_FALSE((*h)[0].online);
  auto s = g().GatewayStatsHistory(org_, kGw, 0, INT64_MAX, kHour);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->size(), 1u);
  EXPECT_EQ(s->front().counters.rx_received, 2);
}

// Which ChirpStack application and connection last delivered a device's uplink
// (MqttStore::SetLorawanRoute): reads see a route at once; routes are written at close (and about
// once a second); a route of a device deleted before the write is skipped without holding up the
// rest.
class LorawanRoutesTest : public MqttBackendTest {
 protected:
  void SetUp() override {
    MqttBackendTest::SetUp();
    app_ = MakeApp(MakeOrg("o"), "a");
  }
  Id app_ = 0;
};
BYSANS_MQTT_ON_BOTH_BACKENDS(LorawanRoutesTest);

TEST_P(LorawanRoutesTest, ReadAtOnceNewestWinsAndKeptAcrossRestart) {
  const Id dev = MakeDevice(app_, "a");
  EXPECT_EQ(m().LorawanApplication(dev).status().code(), Code::kNotFound);  // none seen yet
  EXPECT_EQ(Or(m().LorawanIntegration(dev), -1), 0);
  ASSERT_TRUE(m().SetLorawanRoute(dev, "app-1", 0).ok());
  ASSERT_TRUE(m().SetLorawanRoute(dev, "app-2", 7).ok());
  EXPECT_EQ(Or(m().LorawanApplication(dev), ""), "app-2");
  EXPECT_EQ(Or(m().LorawanIntegration(dev), -1), 7);
  Reopen();
  EXPECT_EQ(Or(m().LorawanApplication(dev), ""), "app-2");
  EXPECT_EQ(Or(m().LorawanIntegration(dev), -1), 7);
  // SetLorawanApplication is a route through bysans' own broker client.
  ASSERT_TRUE(m().SetLorawanApplication(dev, "app-3").ok());
  Reopen();
  EXPECT_EQ(Or(m().LorawanApplication(dev), ""), "app-3");
  EXPECT_EQ(Or(m().LorawanIntegration(dev), -1), 0);
}

TEST_P(LorawanRoutesTest, ADeletedDevicesRouteIsSkippedAndTheOthersAreWritten) {
  const Id gone = MakeDevice(app_, "gone");
  const Id kept = MakeDevice(app_, "kept");
  ASSERT_TRUE(m().SetLorawanRoute(gone, "app-g", 0).ok());
  ASSERT_TRUE(m().SetLorawanRoute(kept, "app-k", 3).ok());
  DeleteDevice(gone);
  Reopen();
  EXPECT_FALSE(m().LorawanApplication(gone).ok());
  EXPECT_EQ(Or(m().LorawanApplication(kept), ""), "app-k");
  EXPECT_EQ(Or(m().LorawanIntegration(kept), -1), 3);
}

}  // namespace
}  // namespace bysans::testing
