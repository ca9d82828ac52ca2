// Issue 14, findings 6, 10 and 11 (integrations): outgoing connections pass one
// outbound-address policy on the resolved address (loopback, private and link-local
// targets are refused unless admitted; metadata never), errors do not tell closed from
// filtered ports, action targets do not cost a thread each, and an integration's stored
// password does not follow its URL to another broker.
#include <dirent.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "integration/rules_receiver.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

using namespace std::chrono_literals;

std::string Target(const std::string& url) { return url.substr(0, url.find('/', 8)); }

// A server with the given outbound.allow ("" = public addresses only).
class OutboundTest : public SecurityTest {
 protected:
  void SetUp() override {}
  void Start(const std::string& allow) {
    server_env_ = {"BYSANS_OUTBOUND_ALLOW=" + allow};
    ServerTest::SetUp();
    if (!HasFatalFailure()) BuildTenants();
  }
  json Rule(const json& actions) const {
    return {{"name", "CO2 high"},
            {"scope", {{"kind", "device"}, {"id", a_.device.device_id}}},
            {"expression", "co2 > 1000"},
            {"actions", actions}};
  }
  static json Hook(const std::string& url) { return {{"type", "webhook"}, {"url", url}}; }
  HttpResult CreateRule(const json& actions) {
    return Send(*a_.editor.client, "POST", a_.OrgPath() + "/rules", Rule(actions));
  }
  void Raise() { ASSERT_EQ(Ingest(a_.device.ingest_key, json{{"co2", 1500}}.dump()).status, 204); }
  // The first logged attempt per target.
  std::map<std::string, json> FirstAttempts() {
    json log = a_.viewer.client->Get(a_.OrgPath() + "/actions/log?limit=1000").Json();
    std::map<std::string, json> out;
    for (const auto& e : log.value("items", json::array())) {
      out.emplace(e.value("target", ""), e);
    }
    return out;
  }
  size_t ServerThreads() const {
    size_t n = 0;
    DIR* d = ::opendir(("/proc/" + std::to_string(server_->pid()) + "/task").c_str());
    if (d == nullptr) return 0;
    while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
    return n;
  }
};

TEST_F(OutboundTest, LoopbackLinkLocalAndNamesResolvingToThemAreRefusedByDefault) {
  ASSERT_NO_FATAL_FAILURE(Start(""));
  Receiver hook(Receiver::Mode::kOk);
  const std::string port = hook.url().substr(hook.url().rfind(':') + 1);  // "1234/hook"
  const std::vector<std::string> urls = {
      hook.url(),                                  // 127.0.0.1
      "http://localhost:" + port,                  // a name resolving to loopback
      "http://[::ffff:127.0.0.1]:" + port,         // IPv4-mapped IPv6
      "http://169.254.169.254/latest/meta-data/",  // cloud metadata
  };
  json actions = json::array();
  for (const auto& u : urls) actions.push_back(Hook(u));
  actions.push_back({{"type", "email"},
                     {"url", "smtp://127.0.0.1:" + port.substr(0, port.find('/'))},
                     {"from", "alarm@kommune.example"},
                     {"to", {"vagt@kommune.example"}}});
  auto rule = CreateRule(actions);
  ASSERT_EQ(rule.status, 201) << rule.body;
  Raise();
  ASSERT_TRUE(WaitFor([&] { return FirstAttempts().size() >= urls.size() + 1; }))
      << a_.viewer.client->Get(a_.OrgPath() + "/actions/log").body;
  for (const auto& [target, attempt] : FirstAttempts()) {
    EXPECT_FALSE(attempt.value("ok", true)) << target;
    // One neutral message: nothing tells a refused target from a closed or filtered port.
    EXPECT_EQ(attempt.value("error", ""), "could not connect to " + target) << target;
  }
  EXPECT_TRUE(hook.hits().empty());
}

TEST_F(OutboundTest, AllowSettingAdmitsLoopbackButNeverTheMetadataAddress) {
  ASSERT_NO_FATAL_FAILURE(Start("127.0.0.0/8"));
  Receiver hook(Receiver::Mode::kOk);
  const std::string metadata = "http://169.254.169.254/latest/meta-data/";
  ASSERT_EQ(CreateRule(json::array({Hook(hook.url()), Hook(metadata)})).status, 201);
  Raise();
  ASSERT_TRUE(WaitFor([&] { return hook.answered_ok() >= 1 && FirstAttempts().size() >= 2; }));
  auto attempts = FirstAttempts();
  EXPECT_TRUE(attempts[Target(hook.url())].value("ok", false));
  EXPECT_FALSE(attempts[Target(metadata)].value("ok", true));
  EXPECT_EQ(attempts[Target(metadata)].value("error", ""),
            "could not connect to " + Target(metadata));
}

TEST_F(OutboundTest, ManyActionTargetsShareABoundedWorkerPool) {
  ASSERT_NO_FATAL_FAILURE(Start("127.0.0.0/8"));
  // At most 10 actions per rule.
  json eleven = json::array();
  for (int i = 0; i < 11; ++i) eleven.push_back(Hook("http://127.0.0.1:9/" + std::to_string(i)));
  EXPECT_EQ(CreateRule(eleven).status, 400);
  // 40 distinct targets (closed loopback addresses) over four rules.
  for (int r = 0; r < 4; ++r) {
    json actions = json::array();
    for (int i = 1; i <= 10; ++i) {
      actions.push_back(Hook("http://127.0.0." + std::to_string(r * 10 + i + 1) + ":9/hook"));
    }
    ASSERT_EQ(CreateRule(actions).status, 201);
  }
  const size_t before = ServerThreads();
  ASSERT_GT(before, 0u);
  Raise();
  ASSERT_TRUE(WaitFor([&] { return FirstAttempts().size() >= 40; }));
  const size_t after = ServerThreads();
  // Before the pool: two threads per target that never exit (+80 here).
  EXPECT_LE(after, before + 8) << before << " -> " << after;
}

TEST_F(OutboundTest, IntegrationPasswordDoesNotFollowItsUrlAndErrorsAreNeutral) {
  ASSERT_NO_FATAL_FAILURE(Start(""));
  // bysans' own supervised broker is loopback and keeps working without any allow setting.
  std::ifstream mqtt_url(std::filesystem::path(server_->data_dir()) / "mqtt.url");
  std::string own;
  std::getline(mqtt_url, own);
  ASSERT_EQ(own.rfind("mqtt://127.0.0.1:", 0), 0u) << own;
  EXPECT_TRUE(WaitFor([&] {
    return admin_->Get("/metrics").body.find("bysans_mqtt_connected{client=\"service\"} 1") !=
           std::string::npos;
  })) << admin_->Get("/metrics").body;

  const std::string list = a_.OrgPath() + "/integrations/chirpstack";
  auto created = Send(
      *a_.admin.client, "POST", list,
      {{"name", "ChirpStack"}, {"url", own}, {"username", "cs"}, {"password", "Broker-Secret-1"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string one =
      "/api/v1/integrations/chirpstack/" + std::to_string(created.Json().value("id", 0));
  // A user-configured broker on loopback is refused: a neutral status, not "connected".
  ASSERT_TRUE(
      WaitFor([&] { return a_.viewer.client->Get(one).Json().value("status", "") == "error"; }));
  EXPECT_EQ(a_.viewer.client->Get(one).Json().value("lastError", ""),
            "could not connect to " + own.substr(7));

  // Disabled (no connection attempts to the names below), the same broker: the password is
  // kept. Another broker without the password again: refused; with it: fine.
  auto kept = Send(*a_.admin.client, "PATCH", one, {{"name", "ChirpStack 2"}, {"enabled", false}});
  ASSERT_EQ(kept.status, 200) << kept.body;
  EXPECT_EQ(kept.Json().value("hasPassword", false), true);
  auto moved = Send(*a_.admin.client, "PATCH", one, {{"url", "mqtts://broker.example.org:8883"}});
  EXPECT_EQ(moved.status, 400) << moved.body;
  EXPECT_NE(moved.body.find("password"), std::string::npos) << moved.body;
  EXPECT_EQ(Send(*a_.admin.client, "PATCH", one,
                 {{"url", "mqtts://broker.example.org:8883"}, {"password", "Broker-Secret-2"}})
                .status,
            200);
  auto dropped = Send(*a_.admin.client, "PATCH", one,
                      {{"url", "mqtt://broker.example.org:1883"}, {"password", nullptr}});
  ASSERT_EQ(dropped.status, 200) << dropped.body;
  EXPECT_EQ(dropped.Json().value("hasPassword", true), false);
}

}  // namespace
}  // namespace bysans::testing
