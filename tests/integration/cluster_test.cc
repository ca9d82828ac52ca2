// Several bysans nodes on one PostgreSQL (issue 19): three real servers, each with its own data
// directory and the same secret key, share one database. Readings sent to any node are evaluated
// by the node holding the device's rule partition: each device's alarm is raised and cleared once.
// One node is killed with SIGKILL in the middle: nothing acknowledged is lost, and the survivors
// take its partitions over within 10 s (lease 6 s, renewed every 2 s) — its devices' alarms clear
// and raise again, once each.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fixture.h"
#include "unit/store_postgres/shared_postgres.h"

namespace bysans::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr int kDevices = 12;

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = SharedPostgres::NewDatabase();
    ASSERT_FALSE(url_.empty());
    ASSERT_NO_FATAL_FAILURE(StartNode("a"));
    HttpClient& admin = *admins_[0];
    auto org = admin.PostJson("/api/v1/organizations", {{"name", "Kommune"}});
    ASSERT_EQ(org.status, 201) << org.body;
    org_ = org.Json().value("id", int64_t{0});
    auto app = admin.PostJson("/api/v1/organizations/" + std::to_string(org_) + "/applications",
                              {{"name", "Skoler"}});
    ASSERT_EQ(app.status, 201) << app.body;
    const int64_t app_id = app.Json().value("id", int64_t{0});
    for (int i = 0; i < kDevices; ++i) {
      auto dev = admin.PostJson("/api/v1/applications/" + std::to_string(app_id) + "/devices",
                                {{"name", "Lokale " + std::to_string(i)}, {"transport", "http"}});
      ASSERT_EQ(dev.status, 201) << dev.body;
      keys_.push_back(dev.Json().value("apiKey", ""));
      ids_.push_back(dev.Json().value("id", int64_t{0}));
    }
    auto rule = admin.PostJson("/api/v1/organizations/" + std::to_string(org_) + "/rules",
                               {{"name", "CO2"},
                                {"scope", {{"kind", "application"}, {"id", app_id}}},
                                {"severity", "warning"},
                                {"expression", "co2 > 1000"},
                                {"clearExpression", "co2 < 900"}});
    ASSERT_EQ(rule.status, 201) << rule.body;
    // The other nodes join with the first one's secret key (docs/SCALE.md).
    ASSERT_NO_FATAL_FAILURE(StartNode("b"));
    ASSERT_NO_FATAL_FAILURE(StartNode("c"));
  }

  void StartNode(const std::string& id) {
    auto dir =
        fs::temp_directory_path() / ("bysans-cluster-" + std::to_string(::getpid()) + "-" + id);
    fs::remove_all(dir);
    fs::create_directories(dir);
    if (!servers_.empty()) {
      fs::copy_file(fs::path(servers_[0]->data_dir()) / "secret.key", dir / "secret.key");
      fs::permissions(dir / "secret.key", fs::perms::owner_read | fs::perms::owner_write);
    }
    dirs_.push_back(dir);
    auto server = std::make_unique<ServerProcess>(dir.string());
    server->SetEnv({"BYSANS_STORE_URL=" + url_, "BYSANS_NODE_ID=" + id});
    ASSERT_TRUE(server->Start()) << server->log();
    auto admin = std::make_unique<HttpClient>(server->url());
    ASSERT_EQ(admin->Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword).status, 200);
    servers_.push_back(std::move(server));
    admins_.push_back(std::move(admin));
  }
  void TearDown() override {
    admins_.clear();
    servers_.clear();
    for (const auto& d : dirs_) fs::remove_all(d);
  }

  // Sends co2 for every device, device i through node (i + shift) % nodes alive; each must be
  // acknowledged (204).
  void SendAll(double co2, const std::vector<size_t>& via) {
    for (int i = 0; i < kDevices; ++i) {
      HttpClient device(servers_[via[i % via.size()]]->url());
      auto r = device.Request("POST", "/api/v1/receive-data?apiKey=" + keys_[i],
                              json{{"co2", co2}}.dump(), {"Content-Type: application/json"});
      ASSERT_EQ(r.status, 204) << r.body;
      ++sent_[ids_[i]];
    }
  }
  // Alarms per device in `state` ("" = all), as node `n` answers.
  std::map<int64_t, int> Alarms(size_t n, const std::string& state = "") {
    auto r = admins_[n]->Get("/api/v1/organizations/" + std::to_string(org_) +
                             "/alarms?limit=1000" + (state.empty() ? "" : "&state=" + state));
    std::map<int64_t, int> out;
    if (r.status != 200) return out;
    for (const auto& a : r.Json().value("items", json::array()))
      ++out[a.value("deviceId", int64_t{0})];
    return out;
  }
  // The rule partitions a node said it holds last ("… lease(s) (N rule partition(s))"), -1 none.
  static int PartitionsHeld(const std::string& log) {
    const size_t end = log.rfind(" rule partition(s))");
    if (end == std::string::npos) return -1;
    const size_t start = log.rfind('(', end);
    return start == std::string::npos ? -1 : std::stoi(log.substr(start + 1, end - start - 1));
  }
  template <typename Pred>
  static bool WaitFor(Pred pred, std::chrono::seconds within) {
    const auto end = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return pred();
  }

  std::string url_;
  std::vector<fs::path> dirs_;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
  std::vector<std::unique_ptr<HttpClient>> admins_;
  int64_t org_ = 0;
  std::vector<std::string> keys_;
  std::vector<int64_t> ids_;
  std::map<int64_t, int> sent_;  // readings acknowledged per device
};

TEST_F(ClusterTest, AlarmsOnceAcrossNodesAndASurvivorTakesOverAKilledNode) {
  // Every node starts with the rule; the partitions are shared out within a few renewals.
  ASSERT_TRUE(WaitFor(
      [&] {
        int total = 0;
        for (auto& s : servers_) {
          const int held = PartitionsHeld(s->log());
          if (held <= 0) return false;
          total += held;
        }
        return total == 16;
      },
      std::chrono::seconds(20)))
      << servers_[2]->log();
  SendAll(1500, {0, 1, 2});
  ASSERT_TRUE(
      WaitFor([&] { return Alarms(1, "active").size() == kDevices; }, std::chrono::seconds(20)))
      << Alarms(1, "active").size() << " active";
  std::this_thread::sleep_for(std::chrono::seconds(1));  // a second raise would show by now
  for (const auto& [device, n] : Alarms(2)) EXPECT_EQ(n, 1) << "device " << device;

  // Node a dies mid-stream: readings sent to it just before are acknowledged, so they count.
  SendAll(1600, {0});
  servers_[0]->Kill9();
  const auto killed = std::chrono::steady_clock::now();
  SendAll(400, {1, 2});  // every device clears, through the survivors
  ASSERT_TRUE(
      WaitFor([&] { return Alarms(1, "cleared").size() == kDevices; }, std::chrono::seconds(10)))
      << Alarms(1, "cleared").size() << " of " << kDevices << " cleared within 10 s of the kill\n"
      << servers_[1]->log() << servers_[2]->log();
  const auto took = std::chrono::steady_clock::now() - killed;
  std::cout << "every alarm cleared "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
            << " ms after the kill\n";
  SendAll(1700, {2, 1});
  ASSERT_TRUE(
      WaitFor([&] { return Alarms(2, "active").size() == kDevices; }, std::chrono::seconds(10)));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  for (const auto& [device, n] : Alarms(1)) EXPECT_EQ(n, 2) << "device " << device;
  // Nothing acknowledged is lost: every reading of every device is stored once.
  for (int i = 0; i < kDevices; ++i) {
    auto r = admins_[1]->Get("/api/v1/devices/" + std::to_string(ids_[i]) +
                             "/readings?key=co2&limit=1000");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(static_cast<int>(r.Json().value("items", json::array()).size()), sent_[ids_[i]])
        << "device " << ids_[i];
  }
}

}  // namespace
}  // namespace bysans::testing
