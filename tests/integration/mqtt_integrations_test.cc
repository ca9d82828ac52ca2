// Third-party brokers: a per-organisation ChirpStack integration and a per-application external
// broker, each against a second real Mosquitto started by the test (password file, so
// credentials are checked; TLS with a private CA for the caCert test). libmosquitto plays
// ChirpStack and the external publishers.
#include <sys/stat.h>

#include "backend_fixture.h"
#include "mqtt_fixture.h"
#include "store_contents.h"
#include "unit/mqtt/tls_certs.h"

namespace bysans::testing {
namespace {

std::string Uplink(const std::string& eui, int fcnt) {
  json u = {{"deduplicationId", "dedup-" + eui + "-" + std::to_string(fcnt)},
            {"time", "2026-11-25T10:" + std::string(fcnt % 60 < 10 ? "0" : "") +
                         std::to_string(fcnt % 60) + ":00Z"},
            {"deviceInfo", {{"devEui", eui}, {"applicationId", "cs-app-1"}}},
            {"dr", 5},
            {"fCnt", fcnt},
            {"fPort", 1},
            {"data", "AQID"},
            {"rxInfo", {{{"gatewayId", "0016c001f153a1aa"}, {"rssi", -90}, {"snr", 4.5}}}}};
  return u.dump();
}

class IntegrationsTest : public MqttTest {
 protected:
  int64_t OrgOfApp(int64_t app) {
    return admin_->Get("/api/v1/applications/" + std::to_string(app)).Json().value("orgId", 0);
  }
  HttpResult Patch(const std::string& path, const json& body) {
    return admin_->Request("PATCH", path, body.dump(), {"Content-Type: application/json"});
  }
  std::string StatusOf(const std::string& path) {
    return admin_->Get(path).Json().value("status", "");
  }
  // `body` with the fields of `more` added or replaced.
  static json With(json body, const json& more) {
    body.update(more);
    return body;
  }
  // POST `body` to `path` is answered 400 with `words` in the message; returns the answer.
  std::string Expect400(const std::string& path, const json& body, const std::string& words) {
    auto r = admin_->PostJson(path, body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find(words), std::string::npos) << r.body;
    return r.body;
  }
};
using IntegrationsOnBothStores = OnBothStores<IntegrationsTest>;
BYSANS_ON_BOTH_STORES(IntegrationsOnBothStores);

TEST_P(IntegrationsOnBothStores, ChirpstackIntegrationServesOnlyItsOrganisation) {
  TestBroker broker({{"chirpstack", "cs-secret"}, {"bysans-a", "a-secret"}});
  ASSERT_TRUE(broker.ok()) << broker.log();
  int64_t app_a = CreateApp("Kolding");
  int64_t app_b = CreateApp("Fredericia");
  int64_t org_a = OrgOfApp(app_a), org_b = OrgOfApp(app_b);
  int64_t dev_a = CreateLorawanDevice(app_a, "a1a1a1a1a1a1a1a1");
  int64_t dev_b = CreateLorawanDevice(app_b, "b2b2b2b2b2b2b2b2");

  const std::string list =
      "/api/v1/organizations/" + std::to_string(org_a) + "/integrations/chirpstack";
  auto created = admin_->PostJson(list, {{"name", "ChirpStack Kolding"},
                                         {"url", broker.url()},
                                         {"username", "bysans-a"},
                                         {"password", "a-secret"}});
  ASSERT_EQ(created.status, 201) << created.body;
  json ci = created.Json();
  EXPECT_TRUE(ci.value("hasPassword", false));
  EXPECT_FALSE(ci.contains("password"));
  EXPECT_EQ(ci.value("clientId", ""), "bysans-chirpstack-" + std::to_string(ci.value("id", 0)));
  const std::string one = "/api/v1/integrations/chirpstack/" + std::to_string(ci.value("id", 0));
  ASSERT_TRUE(WaitFor([&] { return StatusOf(one) == "connected"; }))
      << admin_->Get(one).body << server_->log();
  ASSERT_EQ(Items(list).size(), 1u);

  // The password is encrypted at rest under <data_dir>/secret.key (0600).
  fs::path data(server_->data_dir());
  struct stat st {};
  ASSERT_EQ(::stat((data / "secret.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string stored = StoredText(server_->data_dir(), server_env_);
  EXPECT_FALSE(stored.empty());
  EXPECT_EQ(stored.find("a-secret"), std::string::npos);
  EXPECT_EQ(stored.find(HexOf("a-secret")), std::string::npos);

  Peer cs("chirpstack-kolding");
  ASSERT_EQ(cs.Connect(broker.url(), "chirpstack", "cs-secret"), 0);
  const std::string topic_a = "application/cs-app-1/device/a1a1a1a1a1a1a1a1/event/up";
  ASSERT_TRUE(PublishUntil(cs, topic_a, Uplink("a1a1a1a1a1a1a1a1", 7), [&] {
    return Readings(dev_a, "lorawan.fcnt").size() == 1;
  })) << server_->log();
  EXPECT_DOUBLE_EQ(Readings(dev_a, "lorawan.rssi")[0].value("value", 0.0), -90);

  // Organisation B's DevEUI on A's broker: not stored for B, listed as unknown for A only.
  double unknown_before = Metric("unknown_deveui");
  const std::string topic_b = "application/cs-app-1/device/b2b2b2b2b2b2b2b2/event/up";
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(topic_b, Uplink("b2b2b2b2b2b2b2b2", 1))));
  ASSERT_TRUE(WaitFor([&] { return Metric("unknown_deveui") > unknown_before; }));
  auto unknown_a =
      Items("/api/v1/organizations/" + std::to_string(org_a) + "/lorawan/unknown-devices");
  ASSERT_EQ(unknown_a.size(), 1u);
  EXPECT_EQ(unknown_a[0].value("devEui", ""), "b2b2b2b2b2b2b2b2");
  EXPECT_EQ(unknown_a[0].value("integrationId", 0), ci.value("id", 0));
  EXPECT_TRUE(
      Items("/api/v1/organizations/" + std::to_string(org_b) + "/lorawan/unknown-devices").empty());
  EXPECT_TRUE(Messages(dev_b).empty());

  // A downlink to A's device goes back through A's integration.
  ASSERT_TRUE(cs.Subscribe("application/+/device/+/command/down"));
  auto down = admin_->PostJson("/api/v1/devices/" + std::to_string(dev_a) + "/downlink",
                               {{"fPort", 3}, {"hex", "0a0b"}});
  ASSERT_EQ(down.status, 202) << down.body;
  auto got = cs.Received(0);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->first, "application/cs-app-1/device/a1a1a1a1a1a1a1a1/command/down");
  EXPECT_EQ(json::parse(got->second).value("fPort", 0), 3);

  // Wrong credentials: the status says so; fixing them reconnects, without a restart.
  ASSERT_EQ(Patch(one, {{"password", "wrong"}}).status, 200);
  ASSERT_TRUE(WaitFor([&] { return StatusOf(one) == "error"; })) << admin_->Get(one).body;
  EXPECT_FALSE(admin_->Get(one).Json().value("lastError", "").empty());
  ASSERT_EQ(Patch(one, {{"password", "a-secret"}}).status, 200);
  ASSERT_TRUE(WaitFor([&] { return StatusOf(one) == "connected"; })) << admin_->Get(one).body;
  ASSERT_TRUE(PublishUntil(cs, topic_a, Uplink("a1a1a1a1a1a1a1a1", 8),
                           [&] { return Readings(dev_a, "lorawan.fcnt").size() == 2; }));

  // Disabled, then deleted: no longer connected.
  ASSERT_EQ(Patch(one, {{"enabled", false}}).status, 200);
  ASSERT_TRUE(WaitFor([&] { return StatusOf(one) == "disabled"; })) << admin_->Get(one).body;
  EXPECT_EQ(admin_->Request("DELETE", one).status, 204);
  EXPECT_EQ(admin_->Get(one).status, 404);
}

TEST_P(IntegrationsOnBothStores, ExternalBrokerTopicsMapToDevicesOfTheApplication) {
  TestBroker broker({{"sensors", "s-secret"}, {"bysans", "b-secret"}});
  ASSERT_TRUE(broker.ok()) << broker.log();
  int64_t app = CreateApp("Vordingborg");
  int64_t other_app = CreateApp("Naestved");
  MqttDevice cellar = CreateMqttDevice(app, "kaelder-1");
  MqttDevice foreign = CreateMqttDevice(other_app, "kaelder-1");

  auto created =
      admin_->PostJson("/api/v1/applications/" + std::to_string(app) + "/integrations/mqtt",
                       {{"name", "Fjernvarme"},
                        {"url", broker.url()},
                        {"username", "bysans"},
                        {"password", "b-secret"},
                        {"topicFilter", "sensors/+/data"},
                        {"deviceTopicLevel", 1},
                        {"deviceMatch", "name"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string one =
      "/api/v1/integrations/mqtt/" + std::to_string(created.Json().value("id", 0));
  ASSERT_TRUE(WaitFor([&] { return StatusOf(one) == "connected"; })) << admin_->Get(one).body;

  Peer pub("external-sensors");
  ASSERT_EQ(pub.Connect(broker.url(), "sensors", "s-secret"), 0);
  ASSERT_TRUE(PublishUntil(pub, "sensors/kaelder-1/data", R"({"temperature": 4.5})", [&] {
    return Readings(cellar.device_id, "temperature").size() == 1;
  })) << server_->log();
  EXPECT_TRUE(Messages(foreign.device_id).empty());  // same name, another application

  // Unmapped topics are counted.
  double unmapped = Metric("unmapped_topic");
  ASSERT_TRUE(pub.WaitAcked(pub.Publish("sensors/nobody/data", R"({"x": 1})")));
  ASSERT_TRUE(WaitFor([&] { return Metric("unmapped_topic") > unmapped; }));

  // Matching by id, changed without a restart; another application's id does not map.
  ASSERT_EQ(Patch(one, {{"deviceMatch", "id"}}).status, 200);
  ASSERT_TRUE(PublishUntil(pub, "sensors/" + std::to_string(cellar.device_id) + "/data",
                           R"([{"n":"humidity","u":"%RH","v":81}])",
                           [&] { return Readings(cellar.device_id, "humidity").size() == 1; }));
  unmapped = Metric("unmapped_topic");
  ASSERT_TRUE(pub.WaitAcked(
      pub.Publish("sensors/" + std::to_string(foreign.device_id) + "/data", R"({"x": 2})")));
  ASSERT_TRUE(WaitFor([&] { return Metric("unmapped_topic") > unmapped; }));
  EXPECT_TRUE(Messages(foreign.device_id).empty());
  EXPECT_EQ(admin_->Get(one).Json().value("hasPassword", false), true);
}

TEST_P(IntegrationsOnBothStores, InputIsValidatedAndThePasswordIsWriteOnly) {
  int64_t app = CreateApp("Gribskov");
  const std::string cs =
      "/api/v1/organizations/" + std::to_string(OrgOfApp(app)) + "/integrations/chirpstack";
  const std::string ext = "/api/v1/applications/" + std::to_string(app) + "/integrations/mqtt";
  auto expect_400 = [&](const std::string& path, const json& body, const std::string& word) {
    auto r = admin_->PostJson(path, body);
    EXPECT_EQ(r.status, 400) << body.dump() << " " << r.body;
    EXPECT_NE(r.body.find(word), std::string::npos) << r.body;
  };
  expect_400(cs, {{"name", "x"}, {"url", "http://h"}}, "url");
  expect_400(cs, {{"name", "x"}, {"url", "mqtt://u:p@h"}}, "credentials");
  expect_400(cs, {{"name", "x"}, {"url", "mqtt://h:99999"}}, "port");
  expect_400(cs, {{"url", "mqtt://h"}}, "name");
  expect_400(cs, {{"name", "x"}, {"url", "mqtt://h"}, {"topicFilter", "a/#"}}, "topicFilter");
  expect_400(cs, {{"name", "x"}, {"url", "mqtt://h"}, {"clientId", "has space"}}, "clientId");
  expect_400(ext, {{"name", "x"}, {"url", "mqtt://h"}, {"deviceTopicLevel", 1}}, "topicFilter");
  expect_400(
      ext, {{"name", "x"}, {"url", "mqtt://h"}, {"topicFilter", "a/#/b"}, {"deviceTopicLevel", 1}},
      "#");
  expect_400(ext,
             {{"name", "x"},
              {"url", "mqtt://h"},
              {"topicFilter", "a/+/b"},
              {"deviceTopicLevel", 1},
              {"deviceMatch", "serial"}},
             "deviceMatch");

  auto r = admin_->PostJson(cs, {{"name", "Disabled"},
                                 {"url", "mqtts://chirpstack.example:8883"},
                                 {"password", "hunter2"},
                                 {"clientId", "bysans-gribskov"},
                                 {"enabled", false}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.body.find("hunter2"), std::string::npos);
  const std::string one =
      "/api/v1/integrations/chirpstack/" + std::to_string(r.Json().value("id", int64_t{0}));
  EXPECT_EQ(admin_->Get(one).body.find("hunter2"), std::string::npos);
  EXPECT_EQ(admin_->Get(one).Json().value("clientId", ""), "bysans-gribskov");
  ASSERT_TRUE(WaitFor([&] { return StatusOf(one) == "disabled"; })) << admin_->Get(one).body;
  // A ChirpStack integration is not reachable under the external-broker path, and back.
  EXPECT_EQ(
      admin_->Get("/api/v1/integrations/mqtt/" + std::to_string(r.Json().value("id", int64_t{0})))
          .status,
      404);
  // null removes the password.
  auto patched = Patch(one, {{"password", nullptr}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_FALSE(patched.Json().value("hasPassword", true));

  // A client id is one session per broker: the same id on the same host and port (any kind, any
  // organisation) is refused, on another port it is free; a PATCH cannot make a clash either.
  int64_t other_app = CreateApp("Halsnaes");
  const std::string other_ext =
      "/api/v1/applications/" + std::to_string(other_app) + "/integrations/mqtt";
  json same = {{"name", "Same session"},        {"url", "mqtts://CHIRPSTACK.example:8883"},
               {"clientId", "bysans-gribskov"}, {"topicFilter", "x/+"},
               {"deviceTopicLevel", 1},         {"enabled", false}};
  auto clash = admin_->PostJson(other_ext, same);
  EXPECT_EQ(clash.status, 409) << clash.body;
  EXPECT_NE(clash.body.find("clientId"), std::string::npos) << clash.body;
  same["url"] = "mqtts://chirpstack.example:8884";
  auto elsewhere = admin_->PostJson(other_ext, same);
  ASSERT_EQ(elsewhere.status, 201) << elsewhere.body;
  const std::string second =
      "/api/v1/integrations/mqtt/" + std::to_string(elsewhere.Json().value("id", int64_t{0}));
  auto moved = Patch(second, {{"url", "mqtts://chirpstack.example:8883"}});
  EXPECT_EQ(moved.status, 409) << moved.body;
  EXPECT_EQ(admin_->Get(second).Json().value("url", ""), "mqtts://chirpstack.example:8884");
  EXPECT_EQ(Patch(one, {{"clientId", "bysans-gribskov"}, {"name", "Renamed"}}).status, 200);
}

// An mqtts:// broker whose certificate comes from a private CA (a municipal supplier's): the
// integration trusts that CA through caCert; another CA, or none (the system's CAs), fails the
// verification and the status says so; every change reconnects without a restart.
TEST_P(IntegrationsOnBothStores, MqttsBrokerWithPrivateCaIsVerifiedThroughCaCert) {
  TlsCerts certs;
  ASSERT_TRUE(certs.MakeCa("ca"));
  ASSERT_TRUE(certs.MakeCa("other_ca"));
  ASSERT_TRUE(certs.MakeServerCert("server", "IP:127.0.0.1"));
  TestBroker broker({{"supplier", "s-secret"}, {"bysans", "b-secret"}},
                    TestBroker::TlsListener{certs.Path("ca.pem"), certs.Path("server.pem"),
                                            certs.Path("server.key")});
  ASSERT_TRUE(broker.ok()) << broker.log();
  const std::string ca = certs.Read("ca.pem");
  const std::string other_ca = certs.Read("other_ca.pem");
  ASSERT_FALSE(ca.empty() || other_ca.empty());
  int64_t app = CreateApp("Svendborg");
  MqttDevice meter = CreateMqttDevice(app, "maaler-1");
  const std::string ext = "/api/v1/applications/" + std::to_string(app) + "/integrations/mqtt";
  const json fields = {
      {"name", "Forsyning"},    {"url", broker.tls_url()},        {"username", "bysans"},
      {"password", "b-secret"}, {"topicFilter", "meters/+/data"}, {"deviceTopicLevel", 1},
      {"deviceMatch", "name"}};

  // Validation: only CA certificates, only for mqtts://.
  auto expect_400 = [&](const json& body, const std::string& words) {
    Expect400(ext, body, words);
  };
  expect_400(With(fields, {{"caCert", "garbage, not a certificate"}}),
             "field 'caCert' must hold at least one PEM CA certificate");
  expect_400(With(fields, {{"caCert", 42}}), "field 'caCert' must be a string");
  expect_400(With(fields, {{"caCert", certs.Read("server.pem")}}), "is not a CA certificate");
  expect_400(With(fields, {{"url", broker.url()}, {"caCert", ca}}),
             "field 'caCert' needs an mqtts:// url");
  EXPECT_TRUE(Items(ext).empty());

  auto created = admin_->PostJson(ext, With(fields, {{"caCert", ca}}));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Json().value("caCert", ""), ca);
  const std::string one =
      "/api/v1/integrations/mqtt/" + std::to_string(created.Json().value("id", 0));
  EXPECT_EQ(admin_->Get(one).Json().value("caCert", ""), ca);
  ASSERT_TRUE(WaitFor([&] { return StatusOf(one) == "connected"; }))
      << admin_->Get(one).body << server_->log() << broker.log();

  Peer pub("supplier-meters");
  ASSERT_TRUE(pub.SetTlsCa(certs.Path("ca.pem")));
  ASSERT_EQ(pub.Connect(broker.tls_url(), "supplier", "s-secret"), 0) << broker.log();
  ASSERT_TRUE(PublishUntil(pub, "meters/maaler-1/data", R"({"energy": 1234.5})", [&] {
    return Readings(meter.device_id, "energy").size() == 1;
  })) << server_->log();

  // The url as stored counts: a plain url while caCert is set is refused, nothing changes.
  auto plain = Patch(one, {{"url", broker.url()}});
  EXPECT_EQ(plain.status, 400) << plain.body;
  EXPECT_NE(plain.body.find("field 'caCert' needs an mqtts:// url"), std::string::npos);
  EXPECT_EQ(admin_->Get(one).Json().value("url", ""), broker.tls_url());

  // Waits until the status is "error" and lastError names the failed verification.
  auto verify_fails = [&] {
    return WaitFor([&] {
      json j = admin_->Get(one).Json();
      return j.value("status", "") == "error" &&
             j.value("lastError", "").find("certificate verify failed") != std::string::npos;
    });
  };
  // Another CA: the broker's certificate no longer verifies.
  auto other = Patch(one, {{"caCert", other_ca}});
  ASSERT_EQ(other.status, 200) << other.body;
  EXPECT_EQ(other.Json().value("caCert", ""), other_ca);
  ASSERT_TRUE(verify_fails()) << admin_->Get(one).body;

  // The right CA again: reconnects and delivers.
  ASSERT_EQ(Patch(one, {{"caCert", ca}}).status, 200);
  ASSERT_TRUE(WaitFor([&] { return StatusOf(one) == "connected"; })) << admin_->Get(one).body;
  ASSERT_TRUE(PublishUntil(pub, "meters/maaler-1/data", R"({"energy": 1240.0})", [&] {
    return Readings(meter.device_id, "energy").size() == 2;
  })) << server_->log();

  // null removes caCert: the system's CAs do not know the private CA.
  auto removed = Patch(one, {{"caCert", nullptr}});
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(removed.Json().value("caCert", "x"), "");
  ASSERT_TRUE(verify_fails()) << admin_->Get(one).body;

  // Without caCert a plain url is fine again; the stored password does not follow the url to
  // another port (issue 14): it is given again.
  EXPECT_EQ(Patch(one, {{"url", broker.url()}}).status, 400);
  ASSERT_EQ(Patch(one, {{"url", broker.url()}, {"password", "b-secret"}}).status, 200);
  ASSERT_TRUE(WaitFor([&] { return StatusOf(one) == "connected"; })) << admin_->Get(one).body;
}

// Mutual TLS: a broker that asks every client for a certificate signed by its CA.
TEST_P(IntegrationsOnBothStores, BrokerRequiringAClientCertificateGetsTheIntegrationsOwn) {
  TlsCerts certs;
  ASSERT_TRUE(certs.MakeCa("ca"));
  ASSERT_TRUE(certs.MakeServerCert("server", "IP:127.0.0.1"));
  ASSERT_TRUE(certs.MakeClientCert("bysans"));
  ASSERT_TRUE(certs.MakeClientCert("someone_else"));
  TestBroker::TlsListener tls{certs.Path("ca.pem"), certs.Path("server.pem"),
                              certs.Path("server.key")};
  tls.require_certificate = true;
  TestBroker broker({{"supplier", "s-secret"}, {"bysans", "b-secret"}}, tls);
  ASSERT_TRUE(broker.ok()) << broker.log();
  const std::string ca = certs.Read("ca.pem");
  const std::string cert = certs.Read("bysans.pem");
  const std::string key = certs.Read("bysans.key");
  int64_t app = CreateApp("Faaborg");
  MqttDevice meter = CreateMqttDevice(app, "maaler-7");
  const std::string ext = "/api/v1/applications/" + std::to_string(app) + "/integrations/mqtt";
  json fields = {{"name", "Forsyning"},       {"url", broker.tls_url()},
                 {"username", "bysans"},      {"password", "b-secret"},
                 {"topicFilter", "m/+/data"}, {"deviceTopicLevel", 1},
                 {"deviceMatch", "name"},     {"caCert", ca}};
  auto expect_400 = [&](const json& body, const std::string& words) {
    EXPECT_EQ(Expect400(ext, body, words).find(key.substr(key.size() / 2, 24)), std::string::npos)
        << "key echoed";
  };
  expect_400(With(fields, {{"clientCert", cert}}),
             "field 'clientKey' is required with 'clientCert'");
  expect_400(With(fields, {{"clientKey", key}}), "field 'clientCert' is required with 'clientKey'");
  expect_400(With(fields, {{"clientCert", cert}, {"clientKey", certs.Read("someone_else.key")}}),
             "does not belong to the first certificate");
  expect_400(
      With(fields,
           {{"url", broker.url()}, {"caCert", nullptr}, {"clientCert", cert}, {"clientKey", key}}),
      "field 'clientCert' needs an mqtts:// url");
  EXPECT_TRUE(Items(ext).empty());

  // Without a certificate the broker ends the handshake.
  auto created = admin_->PostJson(ext, fields);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_FALSE(created.Json().value("hasClientKey", true));
  const std::string one =
      "/api/v1/integrations/mqtt/" + std::to_string(created.Json().value("id", 0));
  ASSERT_TRUE(WaitFor([&] { return StatusOf(one) == "error"; }))
      << admin_->Get(one).body << broker.log();

  // With its certificate and key: connected; the key is never returned.
  auto mtls = Patch(one, {{"clientCert", cert}, {"clientKey", key}});
  ASSERT_EQ(mtls.status, 200) << mtls.body;
  EXPECT_TRUE(mtls.Json().value("hasClientKey", false));
  EXPECT_EQ(mtls.Json().value("clientCert", ""), cert);
  EXPECT_FALSE(mtls.Json().contains("clientKey"));
  EXPECT_EQ(admin_->Get(one).body.find(key.substr(key.size() / 2, 24)), std::string::npos);
  ASSERT_TRUE(WaitFor([&] { return StatusOf(one) == "connected"; }))
      << admin_->Get(one).body << server_->log() << broker.log();
  Peer pub("supplier-m");
  ASSERT_EQ(pub.Connect(broker.url(), "supplier", "s-secret"), 0) << broker.log();
  ASSERT_TRUE(PublishUntil(pub, "m/maaler-7/data", R"({"energy": 77.5})", [&] {
    return Readings(meter.device_id, "energy").size() == 1;
  })) << server_->log();

  // Other fields change, the stored key stays; the key alone cannot be dropped.
  ASSERT_EQ(Patch(one, {{"name", "Forsyning Syd"}}).status, 200);
  EXPECT_TRUE(admin_->Get(one).Json().value("hasClientKey", false));
  auto no_key = Patch(one, {{"clientKey", nullptr}});
  EXPECT_EQ(no_key.status, 400) << no_key.body;
  EXPECT_NE(no_key.body.find("field 'clientKey' is required with 'clientCert'"), std::string::npos);
  ASSERT_TRUE(WaitFor([&] { return StatusOf(one) == "connected"; })) << admin_->Get(one).body;

  // Both removed: refused by the broker again.
  auto removed = Patch(one, {{"clientCert", nullptr}, {"clientKey", nullptr}});
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_FALSE(removed.Json().value("hasClientKey", true));
  EXPECT_EQ(removed.Json().value("clientCert", "x"), "");
  ASSERT_TRUE(WaitFor([&] { return StatusOf(one) == "error"; })) << admin_->Get(one).body;
}

}  // namespace
}  // namespace bysans::testing
