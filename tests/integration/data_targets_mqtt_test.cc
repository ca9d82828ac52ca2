// MQTT publish data targets (issue 16) against a real Mosquitto: one persistent connection per
// target, the topic template, QoS 1 acknowledgements, a broker restart mid-stream, the password
// never returned, and mqtts:// with the broker's certificate verified.
#include "integration/mqtt_fixture.h"
#include "unit/mqtt/tls_certs.h"

namespace bysans::testing {
namespace {

class MqttTargetTest : public ServerTest {
 protected:
  void SetUp() override {
    server_env_ = {"BYSANS_OUTBOUND_ALLOW=127.0.0.0/8"};
    ServerTest::SetUp();
  }
  void IngestSeq(const DeviceHandle& d, int from, int to) {
    HttpClient client(server_->url());
    for (int seq = from; seq < to; ++seq) {
      auto r = client.Request("POST", "/api/v1/receive-data?apiKey=" + d.ingest_key,
                              json{{"seq", seq}}.dump(), {"Content-Type: application/json"});
      ASSERT_EQ(r.status, 204) << r.body;
    }
  }
  // The seq of every message received from `first` on, in arrival order.
  // Waits at most `seconds` for each message.
  static std::vector<int64_t> Seqs(Peer& reader, size_t first, size_t count,
                                   std::string* topic = nullptr, int seconds = 60) {
    std::vector<int64_t> out;
    for (size_t i = first; i < first + count; ++i) {
      auto m = reader.Received(i, seconds);
      if (!m) break;
      if (topic) *topic = m->first;
      json e = json::parse(m->second, nullptr, false);
      out.push_back(e.is_object() ? e["decoded"].value("seq", int64_t{-1}) : -1);
    }
    return out;
  }
};

TEST_F(MqttTargetTest, PublishesEveryMessageInOrderThroughABrokerRestart) {
  const std::map<std::string, std::string> users = {{"target", "t-pass-1"}, {"reader", "r-pass"}};
  auto broker = std::make_unique<TestBroker>(users);
  ASSERT_TRUE(broker->ok()) << broker->log();
  const int port = broker->port();
  DeviceHandle d = CreateHttpDevice("Aalborg");
  auto reader = std::make_unique<Peer>("reader");
  ASSERT_EQ(reader->Connect(broker->url(), "reader", "r-pass"), 0);
  ASSERT_TRUE(reader->Subscribe("kommune/#"));
  auto created =
      admin_->PostJson("/api/v1/applications/" + std::to_string(d.app_id) + "/data-targets",
                       {{"name", "Kommunens broker"},
                        {"type", "mqtt"},
                        {"url", broker->url()},
                        {"topic", "kommune/{application}/{device}/up"},
                        {"qos", 1},
                        {"username", "target"},
                        {"password", "t-pass-1"},
                        {"batchSize", 5},
                        {"maxAttempts", 1000}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.body.find("t-pass-1"), std::string::npos) << created.body;
  EXPECT_TRUE(created.Json().value("hasPassword", false));
  const std::string path =
      "/api/v1/data-targets/" + std::to_string(created.Json()["id"].get<int64_t>());

  IngestSeq(d, 0, 20);
  std::string topic;
  auto got = Seqs(*reader, 0, 20, &topic);
  ASSERT_EQ(got.size(), 20u) << broker->log();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got[static_cast<size_t>(i)], i);
  EXPECT_EQ(topic,
            "kommune/" + std::to_string(d.app_id) + "/" + std::to_string(d.device_id) + "/up");

  // The broker goes away mid-stream; messages keep coming; then it is back on the same port.
  reader.reset();
  broker.reset();
  IngestSeq(d, 20, 40);
  ASSERT_TRUE(WaitFor(
      [&] { return admin_->Get(path).Json()["metrics"].value("status", "") == "failing"; }, 30))
      << admin_->Get(path).body;
  broker = std::make_unique<TestBroker>(users, std::nullopt, port);
  ASSERT_TRUE(broker->ok()) << broker->log();
  reader = std::make_unique<Peer>("reader");
  ASSERT_EQ(reader->Connect(broker->url(), "reader", "r-pass"), 0);
  ASSERT_TRUE(reader->Subscribe("kommune/#"));
  got = Seqs(*reader, 0, 20);
  ASSERT_EQ(got.size(), 20u) << admin_->Get(path).body;
  // At least once, in order: the first arrival of each seq follows the one before.
  std::vector<int64_t> firsts;
  for (int64_t s : got)
    if (std::find(firsts.begin(), firsts.end(), s) == firsts.end()) firsts.push_back(s);
  for (size_t i = 1; i < firsts.size(); ++i) EXPECT_LT(firsts[i - 1], firsts[i]);
  ASSERT_TRUE(WaitFor([&] {
    json m = admin_->Get(path).Json()["metrics"];
    return m.value("queueDepth", -1) == 0 && m.value("status", "") == "active";
  }));
  // Every message that arrived (a batch in flight when the broker went away may come twice, so
  // the 20 distinct ones may need more than 20 arrivals).
  auto seen = Seqs(*reader, 0, 80, nullptr, 2);
  std::set<int64_t> unique(seen.begin(), seen.end());
  for (int i = 20; i < 40; ++i) EXPECT_TRUE(unique.count(i)) << i;
  EXPECT_EQ(admin_->Get(path).body.find("t-pass-1"), std::string::npos);
}

TEST_F(MqttTargetTest, WrongPasswordFailsAndIsShownNeutrally) {
  TestBroker broker(std::map<std::string, std::string>{{"target", "right"}});
  ASSERT_TRUE(broker.ok()) << broker.log();
  DeviceHandle d = CreateHttpDevice("Randers");
  auto created =
      admin_->PostJson("/api/v1/applications/" + std::to_string(d.app_id) + "/data-targets",
                       {{"name", "broker"},
                        {"type", "mqtt"},
                        {"url", broker.url()},
                        {"topic", "x/{device}"},
                        {"username", "target"},
                        {"password", "wrong"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string path =
      "/api/v1/data-targets/" + std::to_string(created.Json()["id"].get<int64_t>());
  IngestSeq(d, 0, 1);
  ASSERT_TRUE(
      WaitFor([&] { return admin_->Get(path).Json()["metrics"].value("failed", 0) > 0; }, 30));
  EXPECT_FALSE(admin_->Get(path).Json()["metrics"].value("lastError", "").empty());
  // Topics with wildcards or system topics are refused.
  for (const std::string bad : {"a/+/b", "a/#", "$SYS/x", ""}) {
    auto r =
        admin_->PostJson("/api/v1/applications/" + std::to_string(d.app_id) + "/data-targets",
                         {{"name", "b"}, {"type", "mqtt"}, {"url", broker.url()}, {"topic", bad}});
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
  }
}

// mqtts://: the municipality's broker has a certificate of its own CA, which the operator
// installed for bysans (here: SSL_CERT_FILE of the server process, what the system's CA store
// is to OpenSSL). Messages arrive over TLS; a broker whose certificate names another host is
// refused (verification is on) and the status says so.
class MqttTlsTargetTest : public MqttTargetTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(certs_.MakeCa("ca"));
    ASSERT_TRUE(certs_.MakeServerCert("server", "IP:127.0.0.1"));
    ASSERT_TRUE(certs_.MakeServerCert("wrong", "DNS:elsewhere.example"));
    server_env_ = {"BYSANS_OUTBOUND_ALLOW=127.0.0.0/8", "SSL_CERT_FILE=" + certs_.Path("ca.pem")};
    ServerTest::SetUp();
  }
  TlsCerts certs_;
};

TEST_F(MqttTlsTargetTest, PublishesOverTlsAndRefusesACertificateForAnotherHost) {
  const std::map<std::string, std::string> users = {{"target", "t-pass-2"}, {"reader", "r-pass"}};
  TestBroker broker(users, TestBroker::TlsListener{certs_.Path("ca.pem"), certs_.Path("server.pem"),
                                                   certs_.Path("server.key")});
  ASSERT_TRUE(broker.ok()) << broker.log();
  TestBroker wrong(users, TestBroker::TlsListener{certs_.Path("ca.pem"), certs_.Path("wrong.pem"),
                                                  certs_.Path("wrong.key")});
  ASSERT_TRUE(wrong.ok()) << wrong.log();
  DeviceHandle d = CreateHttpDevice("Viborg");
  Peer reader("reader");
  ASSERT_EQ(reader.Connect(broker.url(), "reader", "r-pass"), 0);  // the plain listener
  ASSERT_TRUE(reader.Subscribe("kommune/#"));
  auto target = [&](const std::string& name, const std::string& url) {
    auto r = admin_->PostJson("/api/v1/applications/" + std::to_string(d.app_id) + "/data-targets",
                              {{"name", name},
                               {"type", "mqtt"},
                               {"url", url},
                               {"topic", "kommune/" + name + "/{device}"},
                               {"username", "target"},
                               {"password", "t-pass-2"},
                               {"maxAttempts", 1000}});
    EXPECT_EQ(r.status, 201) << r.body;
    return "/api/v1/data-targets/" + std::to_string(r.Json().value("id", int64_t{0}));
  };
  const std::string good = target("tls", broker.tls_url());
  const std::string bad = target("wrong", wrong.tls_url());
  IngestSeq(d, 0, 10);
  auto got = Seqs(reader, 0, 10);
  ASSERT_EQ(got.size(), 10u) << admin_->Get(good).body << server_->log();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(got[static_cast<size_t>(i)], i);
  json m;
  ASSERT_TRUE(WaitFor(
      [&] {
        m = admin_->Get(bad).Json()["metrics"];
        return m.value("status", "") == "failing";
      },
      30))
      << m;
  EXPECT_EQ(m.value("sent", -1), 0) << m;
  EXPECT_EQ(m.value("queueDepth", 0), 10) << m;
}

}  // namespace
}  // namespace bysans::testing
