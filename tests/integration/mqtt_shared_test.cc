// Several bysans nodes on one broker (issue 19): two servers subscribe to one external Mosquitto as
// members of one shared-subscription group (mqtt.shared_group), so the broker hands each message to
// one of them. A flood of QoS 1 messages for one device is stored exactly once across the two nodes
// (each node here has its own SQLite store, so a message handled by both would be stored twice),
// and both nodes take part. Without the group every node would store every message.
#include <gtest/gtest.h>

#include <set>

#include "mqtt_fixture.h"

namespace bysans::testing {
namespace {

constexpr int kMessages = 200;

struct Node {
  std::unique_ptr<ServerProcess> server;
  std::unique_ptr<HttpClient> admin;
  int64_t device_id = 0;
};

Node StartNode(const std::string& name, const std::string& secret, int port) {
  Node n;
  n.server = std::make_unique<ServerProcess>();
  n.server->SetEnv(
      {"BYSANS_MQTT_URL=mqtt://" + name + ":" + secret + "@127.0.0.1:" + std::to_string(port),
       "BYSANS_MQTT_CLIENT_ID=" + name, "BYSANS_MQTT_SHARED_GROUP=bysans"});
  EXPECT_TRUE(n.server->Start()) << n.server->log();
  n.admin = std::make_unique<HttpClient>(n.server->url());
  EXPECT_EQ(n.admin->Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword).status, 200);
  auto org = n.admin->PostJson("/api/v1/organizations", {{"name", "Kommune"}});
  auto app =
      n.admin->PostJson("/api/v1/organizations/" +
                            std::to_string(org.Json().value("id", int64_t{0})) + "/applications",
                        {{"name", "Sensorer"}});
  auto dev = n.admin->PostJson(
      "/api/v1/applications/" + std::to_string(app.Json().value("id", int64_t{0})) + "/devices",
      {{"name", "Måler"}, {"transport", "mqtt"}});
  EXPECT_EQ(dev.status, 201) << dev.body;
  n.device_id = dev.Json().value("id", int64_t{0});
  return n;
}

// The "seq" readings node `n` stored for its device.
std::set<int> StoredSeqs(Node& n) {
  std::set<int> out;
  auto r = n.admin->Get("/api/v1/devices/" + std::to_string(n.device_id) +
                        "/readings?key=seq&limit=100000");
  if (r.status != 200) return out;
  for (const auto& item : r.Json().value("items", json::array()))
    out.insert(static_cast<int>(item.value("value", 0.0)));
  return out;
}

TEST(MqttSharedSubscriptionTest, EachMessageIsHandledByOneNodeOfTheGroup) {
  TestBroker broker({{"node-a", "a-secret"}, {"node-b", "b-secret"}, {"sensor", "s-secret"}});
  ASSERT_TRUE(broker.ok());
  Node a = StartNode("node-a", "a-secret", broker.port());
  Node b = StartNode("node-b", "b-secret", broker.port());
  ASSERT_GT(a.device_id, 0);
  ASSERT_EQ(a.device_id, b.device_id) << "both stores give the first device the same id";
  const std::string topic = "devices/" + std::to_string(a.device_id) + "/up";

  Peer sensor("sensor-1");
  ASSERT_EQ(sensor.Connect(broker.url(), "sensor", "s-secret"), 0);
  // Until both nodes' subscriptions are in place, a message may reach one node only: start
  // counting once each node has stored a probe.
  int probes = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        sensor.WaitAcked(sensor.Publish(topic, R"({"probe": 1})"));
        ++probes;
        auto stored = [&](Node& n) {
          auto r = n.admin->Get("/api/v1/devices/" + std::to_string(n.device_id) +
                                "/readings?key=probe&limit=1");
          return r.status == 200 && !r.Json().value("items", json::array()).empty();
        };
        return stored(a) && stored(b);
      },
      60))
      << "probes sent: " << probes << "\n"
      << a.server->log() << b.server->log();

  // Each message has its own time: readings of one series at one time replace each other.
  const int64_t t0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() -
                     600'000;
  std::vector<int> mids;
  for (int i = 0; i < kMessages; ++i) {
    mids.push_back(sensor.Publish(
        topic, "{\"seq\": " + std::to_string(i) + ", \"ts\": " + std::to_string(t0 + i) + "}"));
  }
  for (int mid : mids) ASSERT_TRUE(sensor.WaitAcked(mid));

  std::set<int> on_a, on_b;
  EXPECT_TRUE(WaitFor(
      [&] {
        on_a = StoredSeqs(a);
        on_b = StoredSeqs(b);
        return on_a.size() + on_b.size() >= static_cast<size_t>(kMessages);
      },
      60));
  // Give a late duplicate the time to show up before judging.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  on_a = StoredSeqs(a);
  on_b = StoredSeqs(b);
  std::set<int> both;
  std::set_intersection(on_a.begin(), on_a.end(), on_b.begin(), on_b.end(),
                        std::inserter(both, both.begin()));
  EXPECT_TRUE(both.empty()) << both.size() << " messages were handled by both nodes";
  std::set<int> all(on_a);
  all.insert(on_b.begin(), on_b.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kMessages));
  EXPECT_GT(on_a.size(), 0u) << "node a took no part";
  EXPECT_GT(on_b.size(), 0u) << "node b took no part";
}

}  // namespace
}  // namespace bysans::testing
