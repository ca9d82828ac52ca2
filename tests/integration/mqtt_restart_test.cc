// The supervised Mosquitto is stopped (SIGTERM) while a device publishes steadily: the
// supervisor restarts it, bysans' client reconnects with backoff and resumes, the publisher
// (persistent session, QoS 1) reconnects and goes on; every message it got a PUBACK for is
// stored exactly once. On each store.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "backend_fixture.h"
#include "mqtt_fixture.h"

namespace bysans::testing {
namespace {

int ReadPid(const fs::path& p) {
  std::string s = ReadLine(p);
  return s.empty() ? -1 : std::atoi(s.c_str());
}

class BrokerRestartTest : public OnBothStores<MqttTest> {};
BYSANS_ON_BOTH_STORES(BrokerRestartTest);

TEST_P(BrokerRestartTest, BrokerRestartMidStreamLosesNothingAcknowledged) {
  int64_t app = CreateApp("Esbjerg");
  MqttDevice d = CreateMqttDevice(app, "Stream");
  std::unique_ptr<Peer> pub;
  for (int attempt = 0; attempt < 100 && !pub; ++attempt) {
    auto p = std::make_unique<Peer>("stream-publisher", /*clean_session=*/false);
    if (p->Connect(MqttUrl(), d.mqtt["username"], d.mqtt["password"]) == 0) {
      pub = std::move(p);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ASSERT_TRUE(pub) << server_->log();
  const double connects_before = Metric("bysans_mqtt_connections_total{client=\"service\"}");
  ASSERT_GE(connects_before, 1);

  constexpr int kTotal = 3000;
  constexpr int64_t kBase = 1'710'000'000'000;
  std::mutex mu;
  std::map<int, int> seq_of_mid;
  std::atomic<int> sent{0};
  std::atomic<bool> stop{false};
  std::thread flood([&] {
    for (int seq = 0; seq < kTotal && !stop.load(); ++seq) {
      json body = {{"seq", seq}, {"timestamp", kBase + seq}};
      int mid = -1;
      // While the broker is down libmosquitto may refuse the publish: retry the same message.
      while ((mid = pub->Publish(d.mqtt["upTopic"], body.dump())) < 0 && !stop.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (mid < 0) break;
      {
        std::lock_guard lock(mu);
        seq_of_mid[mid] = seq;
      }
      sent = seq + 1;
      if (seq % 20 == 19) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });

  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& t;
    ~Joiner() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } joiner{stop, flood};

  const fs::path pid_file = fs::path(server_->data_dir()) / "mosquitto" / "mosquitto.pid";
  ASSERT_TRUE(WaitFor([&] { return Readings(d.device_id, "seq").size() >= 300; }, 120))
      << server_->log();
  const int old_pid = ReadPid(pid_file);
  ASSERT_GT(old_pid, 0);
  // SIGTERM: Mosquitto saves its persistence (sessions and queued messages) before exiting.
  // A SIGKILL would lose what arrived since its last autosave: a Mosquitto property.
  ASSERT_EQ(::kill(old_pid, SIGTERM), 0);
  const int sent_at_stop = sent.load();
  EXPECT_TRUE(WaitFor([&] {
    int p = ReadPid(pid_file);
    return p > 0 && p != old_pid;
  })) << "the supervisor did not restart the broker";
  EXPECT_TRUE(WaitFor(
      [&] {
        return Metric("bysans_mqtt_connections_total{client=\"service\"}") > connects_before &&
               Metric("bysans_mqtt_connected{client=\"service\"}") == 1;
      },
      120))
      << "bysans did not reconnect";
  flood.join();
  ASSERT_EQ(sent.load(), kTotal);
  EXPECT_LT(sent_at_stop, kTotal) << "the broker stopped after the stream ended";
  EXPECT_GE(Metric("bysans_mqtt_broker_restarts"), 1);

  // Drain: the publisher's persistent session resends what the broker never acknowledged.
  std::set<int> acked;
  auto collect_acked = [&] {
    acked.clear();
    std::lock_guard lock(mu);
    for (auto& [mid, seq] : seq_of_mid)
      if (pub->Acked(mid)) acked.insert(seq);
    return acked.size() == seq_of_mid.size();
  };
  WaitFor(collect_acked, 120);
  const SeqTally t = TallyAckedSeqs(d.device_id, acked);
  std::printf(
      "broker restart: sent %d (%d before the stop), broker-acked %zu, stored distinct %zu, "
      "raw messages %zu, acked missing %zu\n",
      sent.load(), sent_at_stop, acked.size(), t.stored.size(), t.raw, t.missing.size());
  EXPECT_TRUE(t.missing.empty()) << "first missing seq " << t.missing.front();
  EXPECT_EQ(t.raw, t.stored.size());
  EXPECT_EQ(acked.size(), static_cast<size_t>(kTotal));
  EXPECT_EQ(Metric("bysans_mqtt_connected{client=\"service\"}"), 1);
}

}  // namespace
}  // namespace bysans::testing
