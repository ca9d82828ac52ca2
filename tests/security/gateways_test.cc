// Attacks on LoRaWAN gateway health (issue 20): another organisation's admin, editor and viewer
// read A's gateways through A's routes and through their own organisation's routes with A's
// gateway id (404, nothing of A in any answer); gateway events published on bysans' own broker
// for a gateway A never brought, or for A's gateway once B's uplinks came through it too, create
// nothing and change nothing; B's own ChirpStack integration naming A's gateway in an uplink does
// not take A's gateway events on bysans' broker away.
#include "integration/mqtt_fixture.h"
#include "security_fixture.h"

namespace bysans::testing {
namespace {

constexpr const char* kGwA = "00800000a0001234";

class GatewaySecurityTest : public SecurityTest {
 protected:
  std::string MqttUrl() { return ReadLine(fs::path(server_->data_dir()) / "mqtt.url"); }
  std::string IntegratorPassword() {
    return ReadLine(fs::path(server_->data_dir()) / "mqtt-integrator.secret");
  }
  int64_t LorawanDevice(const Tenant& t, const std::string& eui) {
    auto dev = Send(*t.editor.client, "POST", t.AppPath() + "/devices",
                    {{"name", "lora-" + eui}, {"transport", "lorawan"}, {"devEui", eui}});
    EXPECT_EQ(dev.status, 201) << dev.body;
    return dev.Json().value("id", int64_t{0});
  }
  static std::string Uplink(const std::string& eui, const std::string& gw) {
    return json{{"deduplicationId", "sec-" + eui + "-" + gw},
                {"fCnt", 1},
                {"fPort", 1},
                {"data", "AQID"},
                {"rxInfo", {{{"gatewayId", gw}, {"rssi", -70}, {"snr", 8}}}}}
        .dump();
  }
  bool Publish(const std::string& topic, const std::string& payload) {
    int mid = cs_->Publish(topic, payload);
    return mid >= 0 && cs_->WaitAcked(mid);
  }
  double Ignored() {
    auto r = admin_->Get("/metrics");
    const std::string needle = "\nbysans_mqtt_messages_total{result=\"gateway_ignored\"} ";
    auto pos = r.body.find(needle);
    return pos == std::string::npos ? 0 : std::stod(r.body.substr(pos + needle.size()));
  }
  json Gateway(const Tenant& t, const std::string& gw) {
    auto r = t.viewer.client->Get(t.OrgPath() + "/gateways/" + gw);
    return r.status == 200 ? r.Json() : json{{"status", r.status}};
  }

  // A's device heard by kGwA, which reported ONLINE and a location.
  void SetUp() override {
    SecurityTest::SetUp();
    LorawanDevice(a_, "a1a1a1a1a1a1a1a1");
    cs_ = std::make_unique<Peer>("local-chirpstack");
    ASSERT_EQ(cs_->Connect(MqttUrl(), "bysans-integrator", IntegratorPassword()), 0);
    ASSERT_TRUE(Publish("application/1/device/a1a1a1a1a1a1a1a1/event/up",
                        Uplink("a1a1a1a1a1a1a1a1", kGwA)));
    ASSERT_TRUE(WaitFor([&] {
      return a_.viewer.client->Get(a_.OrgPath() + "/gateways").body.find(kGwA) != std::string::npos;
    }));
    for (int i = 0; i < 50 && Gateway(a_, kGwA).value("online", json()) != json(true); ++i) {
      ASSERT_TRUE(Publish(std::string("eu868/gateway/") + kGwA + "/state/conn",
                          json{{"state", "ONLINE"}}.dump()));
      WaitFor([&] { return Gateway(a_, kGwA).value("online", json()) == json(true); }, 2);
    }
    ASSERT_EQ(Gateway(a_, kGwA).value("online", json()), json(true));
    ASSERT_TRUE(Publish(
        std::string("eu868/gateway/") + kGwA + "/event/stats",
        json{{"location", {{"latitude", 55.4}, {"longitude", 10.4}}}, {"rxPacketsReceived", 12}}
            .dump()));
    ASSERT_TRUE(WaitFor([&] { return Gateway(a_, kGwA)["location"].is_object(); }));
  }

  std::unique_ptr<Peer> cs_;
};

TEST_F(GatewaySecurityTest, OtherOrganisationCannotReadAsGateways) {
  const std::string a_gw = a_.OrgPath() + "/gateways/" + kGwA;
  const std::string b_gw = b_.OrgPath() + "/gateways/" + kGwA;
  for (OrgMember* m : {&b_.admin, &b_.editor, &b_.viewer}) {
    for (const std::string& path : {a_.OrgPath() + "/gateways", a_gw, a_gw + "/stats",
                                    a_gw + "/devices", a_.OrgPath() + "/lorawan/gateways"}) {
      auto r = m->client->Get(path);
      EXPECT_EQ(r.status, 404) << path << " " << r.body;
      EXPECT_EQ(r.body.find(kGwA), std::string::npos) << path;
    }
    // A's gateway id under B's own organisation: not B's gateway.
    for (const std::string& path : {b_gw, b_gw + "/stats", b_gw + "/devices"}) {
      auto r = m->client->Get(path);
      EXPECT_EQ(r.status, 404) << path << " " << r.body;
      EXPECT_EQ(r.body.find("a1a1a1a1a1a1a1a1"), std::string::npos) << path;
    }
    auto list = m->client->Get(b_.OrgPath() + "/gateways");
    ASSERT_EQ(list.status, 200) << list.body;
    EXPECT_TRUE(list.Json()["items"].empty()) << list.body;
  }
  // A's own viewer reads them (the 404s above are tenancy, not a broken route).
  EXPECT_EQ(a_.viewer.client->Get(a_gw + "/devices").Json()["items"].size(), 1u);
  EXPECT_EQ(a_.viewer.client->Get(a_gw + "/stats").Json()["items"][0]["rxPacketsReceived"], 12);
  // An overlong or odd gateway id is just not found.
  EXPECT_EQ(a_.viewer.client->Get(a_.OrgPath() + "/gateways/" + std::string(200, 'f')).status, 404);
  EXPECT_EQ(a_.viewer.client->Get(a_.OrgPath() + "/gateways/%27%20OR%201=1--").status, 404);
}

TEST_F(GatewaySecurityTest, GatewayEventsOnOwnBrokerCreateNothingForUnknownOrSharedGateways) {
  const json a_before = Gateway(a_, kGwA);
  // A gateway nobody brought: ignored, in no organisation.
  double before = Ignored();
  ASSERT_TRUE(Publish("eu868/gateway/00800000b0009999/state/conn", R"({"state":"ONLINE"})"));
  ASSERT_TRUE(Publish("eu868/gateway/00800000b0009999/event/stats", R"({"rxPacketsReceived":5})"));
  ASSERT_TRUE(WaitFor([&] { return Ignored() >= before + 2; })) << server_->log();
  for (const Tenant* t : {&a_, &b_}) {
    auto list = t->viewer.client->Get(t->OrgPath() + "/gateways");
    EXPECT_EQ(list.body.find("00800000b0009999"), std::string::npos) << list.body;
  }
  // B's device heard by A's gateway: the gateway is now known to both, its events are ignored
  // (an OFFLINE does not reach A, nor create state in B).
  LorawanDevice(b_, "b2b2b2b2b2b2b2b2");
  ASSERT_TRUE(
      Publish("application/2/device/b2b2b2b2b2b2b2b2/event/up", Uplink("b2b2b2b2b2b2b2b2", kGwA)));
  ASSERT_TRUE(WaitFor([&] { return Gateway(b_, kGwA).value("uplinks", 0) == 1; }));
  before = Ignored();
  ASSERT_TRUE(
      Publish(std::string("eu868/gateway/") + kGwA + "/state/conn", R"({"state":"OFFLINE"})"));
  ASSERT_TRUE(WaitFor([&] { return Ignored() > before; }));
  json a_after = Gateway(a_, kGwA);
  EXPECT_EQ(a_after["online"], a_before["online"]);
  EXPECT_EQ(a_after["history"], a_before["history"]);
  EXPECT_TRUE(Gateway(b_, kGwA)["online"].is_null());
  // B sees its own device only, A its own.
  auto b_heard = b_.viewer.client->Get(b_.OrgPath() + "/gateways/" + kGwA + "/devices");
  EXPECT_EQ(b_heard.body.find("a1a1a1a1a1a1a1a1"), std::string::npos) << b_heard.body;
  auto a_heard = a_.viewer.client->Get(a_.OrgPath() + "/gateways/" + kGwA + "/devices");
  EXPECT_EQ(a_heard.body.find("b2b2b2b2b2b2b2b2"), std::string::npos) << a_heard.body;
}

// B's admin points a ChirpStack integration at a broker B controls and publishes one uplink of
// B's own device "heard" by A's gateway. That is B's claim only: the gateway events of bysans'
// own broker keep going to A, the one organisation that saw the gateway there (before the fix
// the gateway counted as known to two organisations and its events were ignored from then on,
// freezing A's gateway health and its gateway-offline rules), and B never sees A's state.
TEST_F(GatewaySecurityTest, OwnIntegrationNamingAnothersGatewayDoesNotBlindIt) {
  TestBroker b_broker(std::map<std::string, std::string>{{"cs-b", "b-secret"}});
  ASSERT_TRUE(b_broker.ok()) << b_broker.log();
  auto created = Send(*b_.admin.client, "POST", b_.OrgPath() + "/integrations/chirpstack",
                      {{"name", "B's ChirpStack"},
                       {"url", b_broker.url()},
                       {"username", "cs-b"},
                       {"password", "b-secret"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string integration =
      "/api/v1/integrations/chirpstack/" + std::to_string(created.Json().value("id", 0));
  ASSERT_TRUE(WaitFor([&] {
    return b_.admin.client->Get(integration).Json().value("status", "") == "connected";
  })) << b_.admin.client->Get(integration).body;
  LorawanDevice(b_, "b3b3b3b3b3b3b3b3");
  Peer b_chirpstack("chirpstack-of-b");
  ASSERT_EQ(b_chirpstack.Connect(b_broker.url(), "cs-b", "b-secret"), 0);
  for (int i = 0; i < 30 && Gateway(b_, kGwA).value("uplinks", 0) == 0; ++i) {
    const int mid = b_chirpstack.Publish("application/9/device/b3b3b3b3b3b3b3b3/event/up",
                                         Uplink("b3b3b3b3b3b3b3b3", kGwA));
    ASSERT_GE(mid, 0);
    b_chirpstack.WaitAcked(mid);
    WaitFor([&] { return Gateway(b_, kGwA).value("uplinks", 0) > 0; }, 2);
  }
  ASSERT_EQ(Gateway(b_, kGwA).value("uplinks", 0), 1) << server_->log();  // B's claim is stored

  // A's gateway goes OFFLINE on bysans' broker: recorded for A, not ignored.
  const double ignored_before = Ignored();
  ASSERT_TRUE(
      Publish(std::string("eu868/gateway/") + kGwA + "/state/conn", R"({"state":"OFFLINE"})"));
  EXPECT_TRUE(WaitFor([&] { return Gateway(a_, kGwA).value("online", json()) == json(false); }))
      << Gateway(a_, kGwA).dump();
  const json a_after = Gateway(a_, kGwA);
  ASSERT_FALSE(a_after["history"].empty()) << a_after.dump();
  EXPECT_EQ(a_after["history"].back().value("online", true), false) << a_after.dump();
  EXPECT_EQ(Ignored(), ignored_before);
  // B sees its claim (its own device's uplink) and nothing of A's gateway health.
  const json b_view = Gateway(b_, kGwA);
  EXPECT_TRUE(b_view["online"].is_null()) << b_view.dump();
  EXPECT_FALSE(b_view["location"].is_object()) << b_view.dump();
  EXPECT_TRUE(b_view["history"].empty()) << b_view.dump();
  auto b_heard = b_.viewer.client->Get(b_.OrgPath() + "/gateways/" + kGwA + "/devices");
  EXPECT_EQ(b_heard.body.find("a1a1a1a1a1a1a1a1"), std::string::npos) << b_heard.body;
  auto a_heard = a_.viewer.client->Get(a_.OrgPath() + "/gateways/" + kGwA + "/devices");
  EXPECT_EQ(a_heard.body.find("b3b3b3b3b3b3b3b3"), std::string::npos) << a_heard.body;
}

// Gateway-scope rules and their alarms (rules/gateway_engine.h): B's members cannot put a rule
// on A's gateway (in A or with A's gateway id in B) nor read, acknowledge or list A's gateway
// alarm; A's viewer cannot create gateway rules; a member of A restricted to some applications
// neither sees A's gateway alarms (gateways are organisation-wide) nor creates gateway rules;
// a gateway rule refuses device actions with 400 naming the field.
TEST_F(GatewaySecurityTest, GatewayRulesAndAlarmsStayInTheirOrganisation) {
  const json offline_rule = {{"name", "A gateway nede"},
                             {"scope", {{"kind", "gateway"}, {"gatewayId", kGwA}}},
                             {"kind", "gateway_offline"},
                             {"gateway", {{"offlineMs", 1000}}}};
  // Validation: device actions and device kinds.
  for (const json& action : {json{{"type", "downlink"}, {"fPort", 1}, {"hex", "01"}},
                             json{{"type", "notify_contacts"}, {"via", "sms"}}}) {
    json r = offline_rule;
    r["actions"] = json::array({action});
    auto bad = Send(*a_.editor.client, "POST", a_.OrgPath() + "/rules", r);
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_NE(bad.body.find("actions[0].type"), std::string::npos) << bad.body;
  }
  json mixed = offline_rule;
  mixed["scope"] = {{"kind", "device"}, {"id", a_.device.device_id}};
  auto bad_kind = Send(*a_.editor.client, "POST", a_.OrgPath() + "/rules", mixed);
  EXPECT_EQ(bad_kind.status, 400) << bad_kind.body;
  EXPECT_EQ(bad_kind.Json()["error"].value("field", ""), "kind") << bad_kind.body;

  // A's viewer may not create it; A's editor may.
  EXPECT_EQ(Send(*a_.viewer.client, "POST", a_.OrgPath() + "/rules", offline_rule).status, 403);
  auto created = Send(*a_.editor.client, "POST", a_.OrgPath() + "/rules", offline_rule);
  ASSERT_EQ(created.status, 201) << created.body;

  // B's members: not in A, and in B A's gateway id names no gateway of B.
  for (OrgMember* m : {&b_.admin, &b_.editor}) {
    auto in_a = Send(*m->client, "POST", a_.OrgPath() + "/rules", offline_rule);
    EXPECT_TRUE(in_a.status == 403 || in_a.status == 404) << in_a.status << in_a.body;
    auto in_b = Send(*m->client, "POST", b_.OrgPath() + "/rules", offline_rule);
    EXPECT_EQ(in_b.status, 400) << in_b.body;
    EXPECT_NE(in_b.body.find("scope.gatewayId"), std::string::npos) << in_b.body;
  }
  // B's rule on all of B's gateways: never about A's.
  json b_all = offline_rule;
  b_all["scope"] = {{"kind", "gateway"}};
  ASSERT_EQ(Send(*b_.editor.client, "POST", b_.OrgPath() + "/rules", b_all).status, 201);

  // A member of A restricted to A's application (an operator there).
  OrgMember scoped = AddMember(a_.device.org_id, "editor", "gw-scoped");
  auto restrict =
      Send(*a_.admin.client, "PUT", a_.OrgPath() + "/members/" + std::to_string(scoped.user_id),
           {{"role", "editor"}, {"applications", {a_.device.app_id}}});
  ASSERT_EQ(restrict.status, 200) << restrict.body;
  auto scoped_rule = Send(*scoped.client, "POST", a_.OrgPath() + "/rules", offline_rule);
  EXPECT_TRUE(scoped_rule.status == 403 || scoped_rule.status == 404) << scoped_rule.body;

  // A's gateway goes OFFLINE: A's alarm.
  ASSERT_TRUE(
      Publish(std::string("eu868/gateway/") + kGwA + "/state/conn", R"({"state":"OFFLINE"})"));
  int64_t alarm_id = 0;
  ASSERT_TRUE(WaitFor([&] {
    auto r = a_.viewer.client->Get(a_.OrgPath() + "/alarms?state=active");
    if (r.status != 200 || r.Json()["items"].empty()) return false;
    alarm_id = r.Json()["items"][0].value("id", int64_t{0});
    return r.Json()["items"][0].value("gatewayId", "") == kGwA;
  })) << server_->log();
  const std::string one = "/api/v1/alarms/" + std::to_string(alarm_id);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // B's rule had its chances

  for (OrgMember* m : {&b_.admin, &b_.editor, &b_.viewer}) {
    EXPECT_EQ(m->client->Get(one).status, 404);
    auto list_a = m->client->Get(a_.OrgPath() + "/alarms");
    EXPECT_TRUE(list_a.status == 403 || list_a.status == 404) << list_a.status;
    EXPECT_EQ(list_a.body.find(kGwA), std::string::npos);
    auto list_b = m->client->Get(b_.OrgPath() + "/alarms");
    EXPECT_EQ(list_b.status, 200) << list_b.body;
    EXPECT_TRUE(list_b.Json()["items"].empty()) << list_b.body;
    auto by_gw = m->client->Get(b_.OrgPath() + "/alarms?gatewayId=" + kGwA);
    EXPECT_TRUE(by_gw.Json()["items"].empty()) << by_gw.body;
    EXPECT_EQ(Send(*m->client, "POST", one + "/acknowledge", json::object()).status, 404);
    EXPECT_EQ(Send(*m->client, "POST", one + "/comment", {{"comment", "x"}}).status, 404);
  }
  // The restricted member: not listed, not reachable.
  auto scoped_list = scoped.client->Get(a_.OrgPath() + "/alarms");
  EXPECT_EQ(scoped_list.status, 200) << scoped_list.body;
  EXPECT_EQ(scoped_list.body.find(kGwA), std::string::npos) << scoped_list.body;
  auto scoped_gw = scoped.client->Get(a_.OrgPath() + "/alarms?gatewayId=" + kGwA);
  EXPECT_EQ(scoped_gw.body.find(kGwA), std::string::npos) << scoped_gw.body;
  EXPECT_EQ(scoped.client->Get(one).status, 404);
  EXPECT_EQ(Send(*scoped.client, "POST", one + "/acknowledge", json::object()).status, 404);
  // A's own viewer sees it; nothing was changed by the attempts.
  auto a_view = a_.viewer.client->Get(one);
  ASSERT_EQ(a_view.status, 200);
  EXPECT_FALSE(a_view.Json().value("acknowledged", true));
  EXPECT_TRUE(a_view.Json()["comments"].empty());
}

}  // namespace
}  // namespace bysans::testing
