// LoRaWAN gateway health through real brokers (issue 20): ChirpStack's gateway events
// (state/conn, event/stats) on an organisation's ChirpStack integration and on bysans' own
// broker (a local ChirpStack as the integrator user), read back through the API.
#include "backend_fixture.h"
#include "mqtt_fixture.h"

namespace bysans::testing {
namespace {

constexpr const char* kGw = "0016c001f153a1aa";

std::string UplinkVia(const std::string& eui, int fcnt, const std::string& gateway, double rssi) {
  json u = {{"deduplicationId", "gw-dedup-" + eui + "-" + std::to_string(fcnt)},
            {"deviceInfo", {{"devEui", eui}, {"applicationId", "cs-app-1"}}},
            {"fCnt", fcnt},
            {"fPort", 1},
            {"data", "AQID"},
            {"rxInfo", {{{"gatewayId", gateway}, {"rssi", rssi}, {"snr", 6.25}}}}};
  return u.dump();
}

std::string ConnTopic(const std::string& gw) { return "eu868/gateway/" + gw + "/state/conn"; }
std::string StatsTopic(const std::string& gw) { return "eu868/gateway/" + gw + "/event/stats"; }
std::string Conn(const std::string& gw, bool online) {
  return json{{"gatewayId", gw}, {"state", online ? "ONLINE" : "OFFLINE"}}.dump();
}
std::string Stats(const std::string& gw, int rx, double lat) {
  return json{{"gatewayId", gw},
              {"location", {{"latitude", lat}, {"longitude", 9.47}, {"altitude", 30}}},
              {"rxPacketsReceived", rx},
              {"rxPacketsReceivedOk", rx - 1},
              {"txPacketsReceived", 2},
              {"txPacketsEmitted", 2}}
      .dump();
}

class GatewayHealthTest : public OnBothStores<MqttTest> {
 protected:
  int64_t OrgOfApp(int64_t app) {
    return admin_->Get("/api/v1/applications/" + std::to_string(app)).Json().value("orgId", 0);
  }
  std::string Gateways(int64_t org) {
    return "/api/v1/organizations/" + std::to_string(org) + "/gateways";
  }
  // The organisation's ChirpStack integration to `broker`, connected.
  void Integrate(int64_t org, const TestBroker& broker, const std::string& user,
                 const std::string& pass) {
    auto created = admin_->PostJson(
        "/api/v1/organizations/" + std::to_string(org) + "/integrations/chirpstack",
        {{"name", "ChirpStack"}, {"url", broker.url()}, {"username", user}, {"password", pass}});
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string one =
        "/api/v1/integrations/chirpstack/" + std::to_string(created.Json().value("id", 0));
    ASSERT_TRUE(WaitFor([&] { return admin_->Get(one).Json().value("status", "") == "connected"; }))
        << admin_->Get(one).body;
  }
  bool Publish(Peer& p, const std::string& topic, const std::string& payload) {
    int mid = p.Publish(topic, payload);
    return mid >= 0 && p.WaitAcked(mid);
  }
  json Get(const std::string& path) {
    auto r = admin_->Get(path);
    EXPECT_EQ(r.status, 200) << path << " " << r.body;
    return r.status == 200 ? r.Json() : json::object();
  }
};

BYSANS_ON_BOTH_STORES(GatewayHealthTest);

TEST_P(GatewayHealthTest, ChirpstackIntegrationGatewayEventsReadBackPerOrganisation) {
  TestBroker broker_a(std::map<std::string, std::string>{{"cs-a", "a-secret"}});
  TestBroker broker_b(std::map<std::string, std::string>{{"cs-b", "b-secret"}});
  ASSERT_TRUE(broker_a.ok()) << broker_a.log();
  ASSERT_TRUE(broker_b.ok()) << broker_b.log();
  int64_t app_a = CreateApp("Vejle"), app_b = CreateApp("Horsens");
  int64_t org_a = OrgOfApp(app_a), org_b = OrgOfApp(app_b);
  int64_t dev_a = CreateLorawanDevice(app_a, "a1a1a1a1a1a1a1a1");
  Integrate(org_a, broker_a, "cs-a", "a-secret");
  Integrate(org_b, broker_b, "cs-b", "b-secret");

  Peer cs_a("chirpstack-vejle"), cs_b("chirpstack-horsens");
  ASSERT_EQ(cs_a.Connect(broker_a.url(), "cs-a", "a-secret"), 0);
  ASSERT_EQ(cs_b.Connect(broker_b.url(), "cs-b", "b-secret"), 0);

  // An uplink heard by the gateway: the gateway and the device it hears.
  ASSERT_TRUE(
      PublishUntil(cs_a, "application/cs-app-1/device/a1a1a1a1a1a1a1a1/event/up",
                   UplinkVia("a1a1a1a1a1a1a1a1", 1, kGw, -97),
                   [&] { return Items(Gateways(org_a) + "/" + kGw + "/devices").size() == 1; }))
      << server_->log();
  json heard = Items(Gateways(org_a) + "/" + kGw + "/devices")[0];
  EXPECT_EQ(heard.value("deviceId", 0), dev_a);
  EXPECT_EQ(heard.value("devEui", ""), "a1a1a1a1a1a1a1a1");
  EXPECT_DOUBLE_EQ(heard.value("rssi", 0.0), -97);
  EXPECT_DOUBLE_EQ(heard.value("snr", 0.0), 6.25);

  // ONLINE, stats, OFFLINE, ONLINE.
  const std::string one = Gateways(org_a) + "/" + kGw;
  ASSERT_TRUE(PublishUntil(cs_a, ConnTopic(kGw), Conn(kGw, true), [&] {
    return Get(one).value("online", json()) == json(true);
  })) << server_->log();
  ASSERT_TRUE(Publish(cs_a, StatsTopic(kGw), Stats(kGw, 40, 55.71)));
  ASSERT_TRUE(WaitFor([&] { return Get(one)["location"].is_object(); })) << Get(one).dump();
  ASSERT_TRUE(Publish(cs_a, ConnTopic(kGw), Conn(kGw, false)));
  ASSERT_TRUE(WaitFor([&] { return Get(one).value("online", json()) == json(false); }));
  ASSERT_TRUE(Publish(cs_a, ConnTopic(kGw), Conn(kGw, true)));
  ASSERT_TRUE(WaitFor([&] { return Get(one).value("online", json()) == json(true); }));

  json detail = Get(one);
  EXPECT_EQ(detail.value("gatewayId", ""), kGw);
  EXPECT_EQ(detail.value("uplinks", 0), 1);
  EXPECT_DOUBLE_EQ(detail["location"].value("latitude", 0.0), 55.71);
  ASSERT_EQ(detail["history"].size(), 3u) << detail.dump();
  EXPECT_EQ(detail["history"][0]["online"], true);
  EXPECT_EQ(detail["history"][1]["online"], false);
  EXPECT_EQ(detail["history"][2]["online"], true);
  json stats = Get(one + "/stats?bucket=hour");
  EXPECT_EQ(stats.value("bucket", ""), "hour");
  ASSERT_EQ(stats["items"].size(), 1u) << stats.dump();
  EXPECT_EQ(stats["items"][0].value("rxPacketsReceived", 0), 40);
  EXPECT_EQ(stats["items"][0].value("rxPacketsReceivedOk", 0), 39);
  EXPECT_EQ(Get(one + "/stats?bucket=day")["items"][0].value("txPacketsEmitted", 0), 2);
  EXPECT_EQ(admin_->Get(one + "/stats?bucket=week").status, 400);

  // The same gateway id and another one on B's integration: B's own gateways, nothing in A.
  ASSERT_TRUE(PublishUntil(cs_b, StatsTopic(kGw), Stats(kGw, 7, 10.0),
                           [&] { return Items(Gateways(org_b)).size() == 1; }));
  ASSERT_TRUE(Publish(cs_b, ConnTopic(kGw), Conn(kGw, false)));
  ASSERT_TRUE(Publish(cs_b, ConnTopic("00000000000000bb"), Conn("00000000000000bb", true)));
  ASSERT_TRUE(WaitFor([&] { return Items(Gateways(org_b)).size() == 2; }));
  json list_a = Items(Gateways(org_a));
  ASSERT_EQ(list_a.size(), 1u) << list_a.dump();
  EXPECT_EQ(list_a[0].value("online", json()), json(true));
  EXPECT_DOUBLE_EQ(list_a[0]["location"].value("latitude", 0.0), 55.71);
  EXPECT_EQ(Get(one + "/stats")["items"][0].value("rxPacketsReceived", 0), 40);
  EXPECT_EQ(Get(one)["history"].size(), 3u);
  EXPECT_EQ(admin_->Get(Gateways(org_a) + "/00000000000000bb").status, 404);
  EXPECT_TRUE(Items(Gateways(org_b) + "/" + kGw + "/devices").empty());
}

TEST_P(GatewayHealthTest, OwnBrokerAcceptsOnlyGatewaysOfExactlyOneOrganisation) {
  int64_t app_a = CreateApp("Vejle"), app_b = CreateApp("Horsens");
  int64_t org_a = OrgOfApp(app_a), org_b = OrgOfApp(app_b);
  CreateLorawanDevice(app_a, "a1a1a1a1a1a1a1a1");
  CreateLorawanDevice(app_b, "b2b2b2b2b2b2b2b2");
  Peer cs("local-chirpstack");
  ASSERT_EQ(cs.Connect(MqttUrl(), kIntegratorUser, IntegratorPassword()), 0);

  // A gateway no organisation has seen: ignored.
  const double ignored_before = Metric("gateway_ignored");
  ASSERT_TRUE(PublishUntil(cs, ConnTopic("00000000000000cc"), Conn("00000000000000cc", true), [&] {
    return Metric("gateway_ignored") > ignored_before;
  })) << server_->log();
  EXPECT_TRUE(Items(Gateways(org_a)).empty());
  EXPECT_TRUE(Items(Gateways(org_b)).empty());

  // Seen in A's uplinks: A's.
  ASSERT_TRUE(Publish(cs, "application/1/device/a1a1a1a1a1a1a1a1/event/up",
                      UplinkVia("a1a1a1a1a1a1a1a1", 1, kGw, -80)));
  ASSERT_TRUE(WaitFor([&] { return Items(Gateways(org_a)).size() == 1; }));
  const std::string one = Gateways(org_a) + "/" + kGw;
  ASSERT_TRUE(PublishUntil(cs, ConnTopic(kGw), Conn(kGw, true), [&] {
    return Get(one).value("online", json()) == json(true);
  })) << server_->log();
  EXPECT_TRUE(Items(Gateways(org_b)).empty());

  // Also seen in B's uplinks: known to two organisations, its events are ignored.
  ASSERT_TRUE(Publish(cs, "application/2/device/b2b2b2b2b2b2b2b2/event/up",
                      UplinkVia("b2b2b2b2b2b2b2b2", 1, kGw, -85)));
  ASSERT_TRUE(WaitFor([&] { return Items(Gateways(org_b)).size() == 1; }));
  const double before = Metric("gateway_ignored");
  ASSERT_TRUE(PublishUntil(cs, ConnTopic(kGw), Conn(kGw, false),
                           [&] { return Metric("gateway_ignored") > before; }));
  EXPECT_EQ(Get(one).value("online", json()), json(true));
  EXPECT_EQ(Items(Gateways(org_b))[0].value("online", json(0)), json(nullptr));
}

}  // namespace
}  // namespace bysans::testing
