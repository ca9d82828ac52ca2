// Gateway-scope rules through the real binary and its supervised Mosquitto (issue 20: "a
// gateway that stops sending: offline alarm within the configured duration, cleared when it
// returns"): a local ChirpStack (the integrator user) publishes state/conn; the rules thread
// raises and clears the gateway alarm; a webhook receives it once; a restart keeps it active
// without raising it again.
#include <chrono>
#include <thread>

#include "backend_fixture.h"
#include "integration/rules_receiver.h"
#include "mqtt_fixture.h"

namespace bysans::testing {
namespace {

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

using namespace std::chrono_literals;

constexpr const char* kGw = "0016c001f0001234";
constexpr const char* kEui = "a1a1a1a1a1a1a1a1";

std::string Uplink(int fcnt) {
  return json{{"deduplicationId", "gwr-" + std::to_string(fcnt)},
              {"deviceInfo", {{"devEui", kEui}, {"applicationId", "cs-app-1"}}},
              {"fCnt", fcnt},
              {"fPort", 1},
              {"data", "AQID"},
              {"rxInfo", {{{"gatewayId", kGw}, {"rssi", -90}, {"snr", 7.5}}}}}
      .dump();
}
std::string ConnTopic() { return std::string("eu868/gateway/") + kGw + "/state/conn"; }
std::string Conn(bool online) {
  return json{{"gatewayId", kGw}, {"state", online ? "ONLINE" : "OFFLINE"}}.dump();
}

class GatewayRulesTest : public OnBothStores<MqttTest> {
 protected:
  std::string Org(int64_t org) { return "/api/v1/organizations/" + std::to_string(org); }
  json Alarms(int64_t org, const std::string& query = "") {
    auto r = admin_->Get(Org(org) + "/alarms" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r.Json()["items"] : json::array();
  }
  bool Publish(Peer& p, const std::string& topic, const std::string& payload) {
    int mid = p.Publish(topic, payload);
    return mid >= 0 && p.WaitAcked(mid);
  }
  // An organisation whose device's uplink came through kGw (so the gateway is its), ONLINE.
  int64_t OrgWithOnlineGateway(Peer& cs) {
    int64_t app = CreateApp("Vejle");
    int64_t org =
        admin_->Get("/api/v1/applications/" + std::to_string(app)).Json().value("orgId", 0);
    CreateLorawanDevice(app, kEui);
    EXPECT_TRUE(Publish(cs, std::string("application/1/device/") + kEui + "/event/up", Uplink(1)));
    const std::string one = Org(org) + "/gateways/" + kGw;
    EXPECT_TRUE(WaitFor([&] { return admin_->Get(one).status == 200; })) << server_->log();
    EXPECT_TRUE(PublishUntil(cs, ConnTopic(), Conn(true), [&] {
      return admin_->Get(one).Json().value("online", json()) == json(true);
    })) << server_->log();
    return org;
  }
};

BYSANS_ON_BOTH_STORES(GatewayRulesTest);

TEST_P(GatewayRulesTest, OfflineGatewayRaisesWithinTheDurationClearsWhenBackAndSurvivesARestart) {
  Receiver hook(Receiver::Mode::kOk);
  Peer cs("local-chirpstack");
  ASSERT_EQ(cs.Connect(MqttUrl(), kIntegratorUser, IntegratorPassword()), 0);
  const int64_t org = OrgWithOnlineGateway(cs);

  // A downlink action on a gateway rule: 400 naming the field.
  json rule = {{"name", "Gateway nede"},
               {"scope", {{"kind", "gateway"}, {"gatewayId", kGw}}},
               {"kind", "gateway_offline"},
               {"severity", "critical"},
               {"gateway", {{"offlineMs", 3000}}},
               {"actions", json::array({{{"type", "downlink"}, {"fPort", 1}, {"hex", "01"}}})}};
  auto bad = admin_->PostJson(Org(org) + "/rules", rule);
  ASSERT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("actions[0].type"), std::string::npos) << bad.body;
  rule["actions"] =
      json::array({{{"type", "webhook"}, {"url", hook.url()}, {"on", {"raise", "clear"}}}});
  auto created = admin_->PostJson(Org(org) + "/rules", rule);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Json()["scope"]["gatewayId"], kGw);
  EXPECT_EQ(created.Json()["gateway"]["offlineMs"], 3000);

  // Online and sending stats (seen every 300 ms) for longer than the duration: nothing raised.
  for (int i = 0; i < 15; ++i) {
    ASSERT_TRUE(Publish(cs, std::string("eu868/gateway/") + kGw + "/event/stats",
                        json{{"rxPacketsReceived", 3}, {"rxPacketsReceivedOk", 3}}.dump()));
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_TRUE(Alarms(org).empty());

  // OFFLINE: the alarm within the duration (+ the 1 s evaluation period), not before it.
  const auto offline_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(Publish(cs, ConnTopic(), Conn(false)));
  ASSERT_TRUE(WaitFor([&] { return Alarms(org, "?state=active").size() == 1; }, 15))
      << server_->log();
  const auto waited = std::chrono::steady_clock::now() - offline_at;
  EXPECT_GE(waited, 2800ms);
  EXPECT_LE(waited, 9s);
  json a = Alarms(org, "?state=active")[0];
  EXPECT_EQ(a["gatewayId"], kGw);
  EXPECT_EQ(a["deviceId"], 0);
  EXPECT_EQ(a["deviceName"], "");
  EXPECT_EQ(a["ruleName"], "Gateway nede");
  EXPECT_EQ(a["severity"], "critical");
  EXPECT_EQ(Alarms(org, std::string("?gatewayId=") + kGw).size(), 1u);
  EXPECT_TRUE(Alarms(org, "?gatewayId=00000000000000bb").empty());

  // The webhook, once, with the gateway in its payload.
  ASSERT_TRUE(WaitFor([&] { return hook.answered_ok() >= 1; })) << server_->log();
  std::this_thread::sleep_for(2500ms);  // still offline: no second raise
  ASSERT_EQ(hook.hits().size(), 1u);
  json payload = json::parse(hook.hits()[0].body);
  EXPECT_EQ(payload["alarm"]["event"], "raise");
  EXPECT_EQ(payload["alarm"]["gatewayId"], kGw);
  EXPECT_EQ(payload["gateway"]["id"], kGw);
  EXPECT_EQ(Alarms(org).size(), 1u);

  // Acknowledge and comment like a device alarm.
  const std::string one = "/api/v1/alarms/" + std::to_string(a.value("id", 0));
  EXPECT_EQ(admin_->PostJson(one + "/comment", {{"comment", "tekniker sendt"}}).status, 200);
  EXPECT_EQ(admin_->PostJson(one + "/acknowledge", {{"comment", "set"}}).status, 200);

  // kill -9 and restart: the alarm is restored as active, not raised again.
  std::string dir = server_->data_dir();
  server_->Kill9();
  auto keep = std::move(server_);
  StartServer(dir);  // on the same store (its URL kept on the PostgreSQL leg)
  if (HasFatalFailure()) return;
  std::this_thread::sleep_for(3s);
  ASSERT_EQ(Alarms(org).size(), 1u);
  EXPECT_EQ(Alarms(org, "?state=open").size(), 1u);
  EXPECT_EQ(hook.hits().size(), 1u);

  // ONLINE again: cleared, and the clear delivered.
  Peer cs2("local-chirpstack-2");
  ASSERT_EQ(cs2.Connect(MqttUrl(), kIntegratorUser, IntegratorPassword()), 0);
  ASSERT_TRUE(PublishUntil(cs2, ConnTopic(), Conn(true), [&] {
    return Alarms(org, "?state=history").size() == 1;
  })) << server_->log();
  EXPECT_TRUE(Alarms(org, "?state=open").empty());
  ASSERT_TRUE(WaitFor([&] { return hook.answered_ok() >= 2; }));
  EXPECT_EQ(json::parse(hook.hits()[1].body)["alarm"]["event"], "clear");
  for (int i = 0; i < 7; ++i) {  // online and seen: no new alarm
    ASSERT_TRUE(Publish(cs2, std::string("eu868/gateway/") + kGw + "/event/stats",
                        json{{"rxPacketsReceived", 1}}.dump()));
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_EQ(hook.hits().size(), 2u);
  EXPECT_EQ(Alarms(org).size(), 1u);
  keep.reset();
}

TEST_P(GatewayRulesTest, AllGatewaysScopeAndSilencedRule) {
  Peer cs("local-chirpstack");
  ASSERT_EQ(cs.Connect(MqttUrl(), kIntegratorUser, IntegratorPassword()), 0);
  const int64_t org = OrgWithOnlineGateway(cs);
  // Created disabled, silenced, then enabled: the silence holds from the start.
  auto created =
      admin_->PostJson(Org(org) + "/rules", {{"name", "Alle gateways"},
                                             {"scope", {{"kind", "gateway"}, {"gatewayId", "*"}}},
                                             {"kind", "gateway_offline"},
                                             {"enabled", false},
                                             {"gateway", {{"offlineMs", 1000}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_FALSE(created.Json()["scope"].contains("gatewayId")) << created.body;
  const int64_t rule_id = created.Json().value("id", 0);
  auto silence = admin_->PostJson(Org(org) + "/silences",
                                  {{"ruleId", rule_id}, {"until", "2999-01-01T00:00:00Z"}});
  ASSERT_EQ(silence.status, 201) << silence.body;
  ASSERT_EQ(admin_
                ->Request("PATCH", "/api/v1/rules/" + std::to_string(rule_id),
                          json{{"enabled", true}}.dump(), {"Content-Type: application/json"})
                .status,
            200);
  // Silenced: OFFLINE (and silence) raise nothing.
  ASSERT_TRUE(Publish(cs, ConnTopic(), Conn(false)));
  std::this_thread::sleep_for(3500ms);
  EXPECT_TRUE(Alarms(org).empty());
  // The silence lifted: raised at the next evaluation.
  ASSERT_EQ(
      admin_->Request("DELETE", "/api/v1/silences/" + std::to_string(silence.Json().value("id", 0)))
          .status,
      204);
  ASSERT_TRUE(WaitFor([&] { return Alarms(org, "?state=active").size() == 1; }, 10));
  EXPECT_EQ(Alarms(org)[0]["gatewayId"], kGw);
}

}  // namespace
}  // namespace bysans::testing
