// Several nodes on one broker and one PostgreSQL (issue 19, mqtt/session_rescue.h): a node killed
// with SIGKILL leaves its persistent session at the broker, and Mosquitto goes on queueing that
// session's share of the group's messages. A surviving node drains the session once its lease has
// run out: every message published after the kill is stored, none waits for the dead node. The
// dead node, started again, takes its session lease back, connects and takes part again.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "mqtt_fixture.h"
#include "support/postgres_instance.h"

namespace bysans::testing {
namespace {

namespace fs = std::filesystem;

class MqttSessionRescueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pg = PostgresInstance::Start();
    ASSERT_TRUE(pg.ok()) << pg.status().message();
    pg_ = std::move(pg).value();
    auto url = pg_->CreateDatabase("rescue");
    ASSERT_TRUE(url.ok()) << url.status().message();
    url_ = *url;
    ASSERT_TRUE(broker_.ok());
  }
  void TearDown() override {
    servers_.clear();
    for (const auto& d : dirs_) fs::remove_all(d);
  }

  // Starts node `id` (client id node-<id>, its own broker user) on the shared database.
  ServerProcess& StartNode(const std::string& id) {
    const fs::path dir =
        fs::temp_directory_path() / ("bysans-rescue-" + std::to_string(::getpid()) + "-" + id);
    if (!servers_.count(id)) {
      fs::remove_all(dir);
      fs::create_directories(dir);
      if (!servers_.empty()) {  // the nodes of one database share the secret key
        fs::copy_file(fs::path(servers_.begin()->second->data_dir()) / "secret.key",
                      dir / "secret.key");
        fs::permissions(dir / "secret.key", fs::perms::owner_read | fs::perms::owner_write);
      }
      dirs_.push_back(dir);
      servers_[id] = std::make_unique<ServerProcess>(dir.string());
    }
    ServerProcess& s = *servers_[id];
    s.SetEnv({"BYSANS_STORE_URL=" + url_, "BYSANS_NODE_ID=" + id,
              "BYSANS_MQTT_URL=mqtt://node-" + id + ":" + id +
                  "-secret@127.0.0.1:" + std::to_string(broker_.port()),
              "BYSANS_MQTT_CLIENT_ID=node-" + id, "BYSANS_MQTT_SHARED_GROUP=bysans"});
    EXPECT_TRUE(s.Start()) << s.log();
    return s;
  }
  // Whether node `id`'s log says its client connected (`times` connections at least).
  bool Connected(const std::string& id, size_t times = 1) {
    const std::string log = servers_[id]->log();
    size_t n = 0;
    for (size_t at = log.find("as 'node-" + id + "'"); at != std::string::npos;
         at = log.find("as 'node-" + id + "'", at + 1))
      ++n;
    return n >= times;
  }
  std::set<int> StoredSeqs(HttpClient& admin) {
    std::set<int> out;
    auto r = admin.Get("/api/v1/devices/" + std::to_string(device_id_) +
                       "/readings?key=seq&limit=100000");
    if (r.status != 200) return out;
    for (const auto& item : r.Json().value("items", json::array()))
      out.insert(static_cast<int>(item.value("value", 0.0)));
    return out;
  }
  // Publishes seq [from, to) with their own times; each acknowledged by the broker.
  void Publish(Peer& sensor, int from, int to) {
    std::vector<int> mids;
    for (int i = from; i < to; ++i)
      mids.push_back(sensor.Publish(
          topic_, "{\"seq\": " + std::to_string(i) + ", \"ts\": " + std::to_string(t0_ + i) + "}"));
    for (int mid : mids) ASSERT_TRUE(sensor.WaitAcked(mid));
  }

  std::unique_ptr<PostgresInstance> pg_;
  std::string url_;
  TestBroker broker_{{{"node-a", "a-secret"}, {"node-b", "b-secret"}, {"sensor", "s-secret"}}};
  std::map<std::string, std::unique_ptr<ServerProcess>> servers_;
  std::vector<fs::path> dirs_;
  int64_t device_id_ = 0;
  std::string topic_;
  const int64_t t0_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count() -
                      3'600'000;
};

TEST_F(MqttSessionRescueTest, ASurvivorDrainsAKilledNodesSessionAndTheNodeComesBack) {
  ServerProcess& a = StartNode("a");
  HttpClient admin(a.url());
  ASSERT_EQ(admin.Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword).status, 200);
  auto org = admin.PostJson("/api/v1/organizations", {{"name", "Kommune"}});
  auto app =
      admin.PostJson("/api/v1/organizations/" + std::to_string(org.Json().value("id", int64_t{0})) +
                         "/applications",
                     {{"name", "Sensorer"}});
  auto dev = admin.PostJson(
      "/api/v1/applications/" + std::to_string(app.Json().value("id", int64_t{0})) + "/devices",
      {{"name", "Faldsensor"}, {"transport", "mqtt"}});
  ASSERT_EQ(dev.status, 201) << dev.body;
  device_id_ = dev.Json().value("id", int64_t{0});
  topic_ = "devices/" + std::to_string(device_id_) + "/up";
  ServerProcess& b = StartNode("b");
  HttpClient admin_b(b.url());
  ASSERT_EQ(admin_b.Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword).status, 200);
  ASSERT_TRUE(WaitFor([&] { return Connected("a") && Connected("b"); }, 30)) << a.log() << b.log();
  std::this_thread::sleep_for(std::chrono::seconds(1));  // both subscriptions in place

  Peer sensor("sensor-1");
  ASSERT_EQ(sensor.Connect(broker_.url(), "sensor", "s-secret"), 0);
  Publish(sensor, 0, 20);
  ASSERT_TRUE(WaitFor([&] { return StoredSeqs(admin_b).size() == 20; }, 30));

  a.Kill9();
  // The broker queues about half of these for a's session (a shared-subscription member that is
  // offline), the other half go to b.
  Publish(sensor, 20, 80);
  std::set<int> stored;
  EXPECT_TRUE(WaitFor(
      [&] {
        stored = StoredSeqs(admin_b);
        return stored.size() == 80;
      },
      60))
      << stored.size() << " of 80 stored; the dead node's share was not drained\n"
      << b.log();
  EXPECT_TRUE(WaitFor(
      [&] { return b.log().find("drained the session of client id node-a") != std::string::npos; },
      30))
      << b.log();

  // a comes back: it takes its session lease again (b gave it up after the drain), connects
  // with a new session and gets its share again; every message is stored.
  StartNode("a");
  ASSERT_TRUE(WaitFor([&] { return Connected("a", 2); }, 30)) << a.log();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Publish(sensor, 80, 140);
  EXPECT_TRUE(WaitFor(
      [&] {
        stored = StoredSeqs(admin_b);
        return stored.size() == 140;
      },
      60))
      << stored.size() << " of 140 stored\n"
      << a.log() << b.log();
  auto messages =
      admin_b.Get("/api/v1/devices/" + std::to_string(device_id_) + "/messages?limit=1000");
  ASSERT_EQ(messages.status, 200) << messages.body;
  EXPECT_EQ(messages.Json().value("items", json::array()).size(), 140u)
      << "each message stored once";
}

}  // namespace
}  // namespace bysans::testing
