// PostgreSQL restarted mid-stream, MQTT side (issue 19): a device publishes sequence-numbered
// QoS 1 messages into the supervised broker while the server's database goes down for a few
// seconds. The broker acknowledges the device's messages and keeps them for bysans' persistent
// session; bysans acknowledges each to the broker only after its commit, so while the database is
// down the broker holds them (back-pressure) and redelivers what bysans had not acknowledged.
// Once the database is back every acknowledged message is stored, and each once.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "mqtt_fixture.h"
#include "support/postgres_instance.h"

namespace bysans::testing {
namespace {

using namespace std::chrono_literals;

class MqttPostgresRestartTest : public MqttTest {
 protected:
  void SetUp() override {
    auto pg = PostgresInstance::Start();
    ASSERT_TRUE(pg.ok()) << pg.status().message();
    pg_ = std::move(pg).value();
    auto url = pg_->CreateDatabase("mqtt_restart");
    ASSERT_TRUE(url.ok()) << url.status().message();
    server_env_.push_back("BYSANS_STORE_URL=" + *url);
    MqttTest::SetUp();
  }
  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->Terminate(), 0) << server_->log();
    }
    server_.reset();
    pg_.reset();
  }
  std::unique_ptr<PostgresInstance> pg_;
};

TEST_F(MqttPostgresRestartTest, AcknowledgedMessagesAreStoredOnceAcrossADatabaseRestart) {
  MqttDevice d = CreateMqttDevice(CreateApp("Kommune"), "Måler");
  auto peer = ConnectDevice(d);
  ASSERT_TRUE(peer) << BrokerLog();
  const std::string topic = d.mqtt["upTopic"];
  const int64_t t0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() -
                     3'600'000;
  std::map<int, int> mid_of;  // seq → publish id
  auto publish = [&](int seq) {
    int mid = peer->Publish(
        topic, "{\"seq\": " + std::to_string(seq) + ", \"ts\": " + std::to_string(t0 + seq) + "}");
    ASSERT_GE(mid, 0);
    mid_of[seq] = mid;
  };
  for (int seq = 0; seq < 100; ++seq) {
    publish(seq);
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(peer->WaitAcked(mid_of[99])) << server_->log();
  ASSERT_TRUE(pg_->Down().ok());
  for (int seq = 100; seq < 200; ++seq) {  // published while the database is down
    publish(seq);
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(pg_->Up().ok());
  for (int seq = 200; seq < 300; ++seq) {
    publish(seq);
    std::this_thread::sleep_for(5ms);
  }
  std::set<int> acked;
  for (const auto& [seq, mid] : mid_of)
    if (peer->WaitAcked(mid, 60)) acked.insert(seq);
  EXPECT_EQ(acked.size(), 300u) << "every message is acknowledged once the database is back\n"
                                << server_->log();
  SeqTally t = TallyAckedSeqs(d.device_id, acked);
  EXPECT_TRUE(t.missing.empty()) << t.missing.size() << " acknowledged messages lost";
  EXPECT_EQ(t.raw, t.stored.size()) << "each stored once";
}

}  // namespace
}  // namespace bysans::testing
