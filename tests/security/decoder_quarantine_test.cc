// Issue 15, finding 13: no crash loop. A stored decoder on an MQTT device is busy with a QoS 1
// message when bysans dies (SIGKILL, and a crash: SIGSEGV). The supervised broker redelivers
// the unacknowledged message after the restart; instead of being decoded again (and, were the
// decoder a crashing one, taking the server down again for every tenant) it is stored raw with
// the quarantine error, the server keeps serving, a second restart does not decode it again
// either, and a normal message of the same device is decoded as usual.
#include <signal.h>

#include <fstream>
#include <iterator>
#include <string>

#include "integration/mqtt_fixture.h"
#include "security_fixture.h"

namespace bysans::testing {
namespace {

// Loops on the poison message (until the organisation's time limit), decodes the others.
constexpr const char* kDecoder =
    "function decode(p, m) { if (p.poison) { for (;;) {} } return { v: p.v }; }";

class DecoderQuarantineTest : public SecurityTest {
 protected:
  void SetUp() override {
    // A fixed broker port, so that bysans' persistent session finds its queued message again.
    server_args_ = {"--mqtt-port", std::to_string(FreePort())};
    SecurityTest::SetUp();
  }

  std::string MqttUrl() { return ReadLine(fs::path(server_->data_dir()) / "mqtt.url"); }

  MqttDevice CreateDevice() {
    MqttDevice d;
    auto dev = Send(*a_.editor.client, "POST", a_.AppPath() + "/devices",
                    {{"name", "Vandmaaler"}, {"transport", "mqtt"}});
    EXPECT_EQ(dev.status, 201) << dev.body;
    d.device_id = dev.Json().value("id", int64_t{0});
    d.mqtt = dev.Json().value("mqtt", json::object());
    auto dec = Send(*a_.editor.client, "POST", a_.OrgPath() + "/decoders",
                    {{"name", "maaler"}, {"code", kDecoder}});
    EXPECT_EQ(dec.status, 201) << dec.body;
    auto att = Send(*a_.editor.client, "PUT",
                    "/api/v1/devices/" + std::to_string(d.device_id) + "/decoder",
                    {{"decoderId", dec.Json().value("id", int64_t{0})}});
    EXPECT_EQ(att.status, 200) << att.body;
    // The longest time limit an organisation admin may set.
    auto t = Send(*a_.admin.client, "PATCH", a_.OrgPath(), {{"decoderTimeoutMs", 1000}});
    EXPECT_EQ(t.status, 200) << t.body;
    return d;
  }

  std::unique_ptr<Peer> Connect(const MqttDevice& d) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto p = std::make_unique<Peer>("meter-" + std::to_string(attempt));
      if (p->Connect(MqttUrl(), d.mqtt["username"], d.mqtt["password"]) == 0) return p;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return nullptr;
  }

  // True while a decode worker has a message in flight (its slot in decode-inflight is set).
  bool DecodeInFlight() {
    std::ifstream in(fs::path(server_->data_dir()) / "decode-inflight", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    return bytes.find_first_not_of('\0') != std::string::npos;
  }

  // Starts bysans again on the same data directory (the old process object keeps it).
  void Restart() {
    std::string dir = server_->data_dir();
    previous_.push_back(std::move(server_));
    StartServer(dir);
  }

  json Messages(int64_t device) {
    auto r = admin_->Get("/api/v1/devices/" + std::to_string(device) + "/messages?limit=100");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().value("items", json::array());
  }

  size_t Count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }

  void CrashWhileDecodingThenRestart(int sig) {
    MqttDevice d = CreateDevice();
    auto dev = Connect(d);
    ASSERT_TRUE(dev);
    const std::string topic = d.mqtt["upTopic"];
    ASSERT_TRUE(dev->WaitAcked(dev->Publish(topic, R"({"poison": true, "v": 1})")));
    ASSERT_TRUE(WaitFor([&] { return DecodeInFlight(); }, 30)) << server_->log();
    const int broker =
        std::atoi(ReadLine(fs::path(server_->data_dir()) / "mosquitto" / "mosquitto.pid").c_str());
    EXPECT_EQ(server_->KillWith(sig), 128 + sig);
    dev.reset();
    // Its broker saves bysans' session (with the unacknowledged message) as it stops.
    ASSERT_GT(broker, 0);
    ASSERT_TRUE(WaitFor([&] { return ::kill(broker, 0) != 0; }, 30));

    // The broker redelivers the message: stored raw with the quarantine error, not decoded.
    Restart();
    json msgs;
    ASSERT_TRUE(WaitFor([&] { return (msgs = Messages(d.device_id)).size() >= 1; }, 60))
        << server_->log();
    ASSERT_EQ(msgs.size(), 1u) << msgs;
    EXPECT_EQ(msgs[0].value("decodeStatus", ""), "error") << msgs;
    EXPECT_EQ(msgs[0].value("decodeError", ""),
              "quarantined: the server stopped while decoding this message")
        << msgs;
    EXPECT_EQ(Count(server_->log(), "message stored without decoding"), 1u) << server_->log();
    HttpClient probe(server_->url());
    EXPECT_EQ(probe.Get("/healthz").status, 200);

    // A second restart: the quarantine is still there, nothing is decoded again.
    ASSERT_EQ(server_->Terminate(), 0) << server_->log();
    Restart();
    std::this_thread::sleep_for(std::chrono::seconds(1));  // time for a (wrong) redelivery
    EXPECT_FALSE(DecodeInFlight());
    msgs = Messages(d.device_id);
    ASSERT_EQ(msgs.size(), 1u) << msgs;
    EXPECT_EQ(msgs[0].value("decodeStatus", ""), "error") << msgs;
    EXPECT_EQ(Count(server_->log(), "1 message fingerprint(s) quarantined"), 2u) << server_->log();

    // A normal message of the same device is decoded as usual.
    dev = Connect(d);
    ASSERT_TRUE(dev);
    ASSERT_TRUE(dev->WaitAcked(dev->Publish(topic, R"({"v": 2})")));
    ASSERT_TRUE(WaitFor([&] { return (msgs = Messages(d.device_id)).size() == 2; }, 30)) << msgs;
    EXPECT_EQ(msgs[0].value("decodeStatus", ""), "ok") << msgs;
    auto v = admin_->Get("/api/v1/devices/" + std::to_string(d.device_id) + "/readings?key=v");
    ASSERT_EQ(v.status, 200) << v.body;
    auto items = v.Json().value("items", json::array());
    ASSERT_EQ(items.size(), 1u) << v.body;
    EXPECT_EQ(items[0].value("value", 0.0), 2);
  }

  std::vector<std::unique_ptr<ServerProcess>> previous_;  // own the data directory
};

TEST_F(DecoderQuarantineTest, MessageInFlightAtSigkillIsQuarantinedAfterRestart) {
  CrashWhileDecodingThenRestart(SIGKILL);
}

TEST_F(DecoderQuarantineTest, MessageInFlightAtACrashIsQuarantinedAfterRestart) {
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer takes SIGSEGV itself (a report, then exit code 1) and the engine's
  // allocator budget is off there; the SIGKILL test covers the quarantine in these builds.
  GTEST_SKIP() << "sanitizer build: ASan handles SIGSEGV";
#endif
  CrashWhileDecodingThenRestart(SIGSEGV);
}

}  // namespace
}  // namespace bysans::testing
