// LoRaWAN gateways seen: kept in memory, written in batches (store/sqlite/gateway_touches.h).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <thread>

#include "store/mqtt_store.h"
#include "unit/store/temp_store.h"

namespace bysans::testing {
namespace {

class GatewaysTest : public StoreTest {};

TEST_F(GatewaysTest, ListsEveryTouchAndKeepsThemAcrossRestart) {
  MqttStore& m = store_->mqtt();
  ASSERT_TRUE(m.TouchGateway(1, "gw-a", 2000).ok());
  ASSERT_TRUE(m.TouchGateway(1, "gw-a", 1000).ok());  // older: last seen stays 2000
  ASSERT_TRUE(m.TouchGateway(1, "gw-b", 1500).ok());
  ASSERT_TRUE(m.TouchGateway(2, "gw-a", 3000).ok());
  auto gws = m.ListGateways(1);
  ASSERT_TRUE(gws.ok()) << gws.status().message();
  ASSERT_EQ(gws->size(), 2u);
  EXPECT_EQ((*gws)[0].gateway_id, "gw-a");
  EXPECT_EQ((*gws)[0].first_seen_ms, 2000);
  EXPECT_EQ((*gws)[0].last_seen_ms, 2000);
  EXPECT_EQ((*gws)[0].uplinks, 2);
  EXPECT_EQ((*gws)[1].gateway_id, "gw-b");
  EXPECT_EQ((*gws)[1].uplinks, 1);

  // Touches after a flush add to the stored row; those not yet written are written at close.
  ASSERT_TRUE(m.TouchGateway(1, "gw-a", 4000).ok());
  ASSERT_TRUE(m.TouchGateway(2, "gw-a", 3500).ok());
  Reopen();
  gws = store_->mqtt().ListGateways(1);
  ASSERT_TRUE(gws.ok());
  ASSERT_EQ(gws->size(), 2u);
  EXPECT_EQ((*gws)[0].first_seen_ms, 2000);
  EXPECT_EQ((*gws)[0].last_seen_ms, 4000);
  EXPECT_EQ((*gws)[0].uplinks, 3);
  gws = store_->mqtt().ListGateways(2);
  ASSERT_TRUE(gws.ok());
  ASSERT_EQ(gws->size(), 1u);
  EXPECT_EQ((*gws)[0].first_seen_ms, 3000);
  EXPECT_EQ((*gws)[0].last_seen_ms, 3500);
  EXPECT_EQ((*gws)[0].uplinks, 2);
}

// Without a listing, the store's checkpoint thread writes them about once a second.
TEST_F(GatewaysTest, WrittenWithinAboutASecond) {
  ASSERT_TRUE(store_->mqtt().TouchGateway(7, "gw-t", 1000).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(Options().path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  int64_t uplinks = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (uplinks == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT uplinks FROM lorawan_gateways WHERE org_id = 7", -1,
                                 &st, nullptr),
              SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) uplinks = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  EXPECT_EQ(uplinks, 1);
}

}  // namespace
}  // namespace bysans::testing
