// MQTT devices and ChirpStack against the real binary and the Mosquitto that
// bysans supervises itself; libmosquitto plays the devices and ChirpStack.
#include <mosquitto.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "fixture.h"

namespace bysans::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string ReadLine(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

template <typename F>
bool WaitFor(F f, int seconds = 60) {
  auto deadline = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return f();
}

// A libmosquitto client (devices, ChirpStack, publishers).
class Peer {
 public:
  explicit Peer(const std::string& client_id) {
    m_ = mosquitto_new(client_id.c_str(), true, this);
    mosquitto_connect_callback_set(m_, [](mosquitto*, void* self, int rc) {
      auto* p = static_cast<Peer*>(self);
      std::lock_guard lock(p->mu_);
      p->connack_ = rc;
      p->cv_.notify_all();
    });
    mosquitto_publish_callback_set(m_, [](mosquitto*, void* self, int mid) {
      auto* p = static_cast<Peer*>(self);
      std::lock_guard lock(p->mu_);
      p->acked_.insert(mid);
      p->cv_.notify_all();
    });
    mosquitto_message_callback_set(m_, [](mosquitto*, void* self, const mosquitto_message* msg) {
      auto* p = static_cast<Peer*>(self);
      std::lock_guard lock(p->mu_);
      p->received_.emplace_back(msg->topic, std::string(static_cast<const char*>(msg->payload),
                                                        static_cast<size_t>(msg->payloadlen)));
      p->cv_.notify_all();
    });
    mosquitto_subscribe_callback_set(m_, [](mosquitto*, void* self, int, int, const int*) {
      auto* p = static_cast<Peer*>(self);
      std::lock_guard lock(p->mu_);
      p->subacks_++;
      p->cv_.notify_all();
    });
    mosquitto_max_inflight_messages_set(m_, 100);
  }
  bool Subscribe(const std::string& filter) {
    if (mosquitto_subscribe(m_, nullptr, filter.c_str(), 1) != MOSQ_ERR_SUCCESS) return false;
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return subacks_ > 0; });
  }
  // Waits for the n-th received message (topic, payload).
  std::optional<std::pair<std::string, std::string>> Received(size_t n, int seconds = 30) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(seconds), [&] { return received_.size() > n; }))
      return std::nullopt;
    return received_[n];
  }
  ~Peer() {
    mosquitto_disconnect(m_);
    mosquitto_loop_stop(m_, true);
    mosquitto_destroy(m_);
  }
  // The CONNACK code (0 = accepted), or -1 on timeout.
  int Connect(const std::string& url, const std::string& user, const std::string& pass) {
    auto colon = url.rfind(':');
    std::string host = url.substr(7, colon - 7);
    int port = std::stoi(url.substr(colon + 1));
    mosquitto_username_pw_set(m_, user.c_str(), pass.c_str());
    mosquitto_reconnect_delay_set(m_, 1, 1, false);
    if (mosquitto_connect_async(m_, host.c_str(), port, 30) != MOSQ_ERR_SUCCESS) return -1;
    mosquitto_loop_start(m_);
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30), [&] { return connack_ >= 0; });
    return connack_;
  }
  // QoS 1 publish; returns the message id (or -1).
  int Publish(const std::string& topic, const std::string& payload) {
    int mid = -1;
    int rc = mosquitto_publish(m_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                               payload.data(), 1, false);
    return rc == MOSQ_ERR_SUCCESS ? mid : -1;
  }
  bool WaitAcked(int mid, int seconds = 30) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(seconds), [&] { return acked_.count(mid); });
  }
  bool Acked(int mid) {
    std::lock_guard lock(mu_);
    return acked_.count(mid) > 0;
  }

 private:
  mosquitto* m_;
  std::mutex mu_;
  std::condition_variable cv_;
  int connack_ = -1;
  std::set<int> acked_;
  int subacks_ = 0;
  std::vector<std::pair<std::string, std::string>> received_;
};

struct MosquittoLib {
  MosquittoLib() { mosquitto_lib_init(); }
  ~MosquittoLib() { mosquitto_lib_cleanup(); }
};
MosquittoLib lib_init;

struct MqttDevice {
  int64_t org_id = 0, app_id = 0, device_id = 0;
  json mqtt;  // username, password, host, port, upTopic, downTopic
};

class MqttTest : public ServerTest {
 protected:
  std::string MqttUrl() { return ReadLine(fs::path(server_->data_dir()) / "mqtt.url"); }
  std::string ServicePassword() {
    return ReadLine(fs::path(server_->data_dir()) / "mqtt-service.secret");
  }

  int64_t CreateApp(const std::string& org_name) {
    auto org = admin_->PostJson("/api/v1/organizations", {{"name", org_name}});
    EXPECT_EQ(org.status, 201) << org.body;
    auto app =
        admin_->PostJson("/api/v1/organizations/" +
                             std::to_string(org.Json().value("id", int64_t{0})) + "/applications",
                         {{"name", "Sensorer"}});
    EXPECT_EQ(app.status, 201) << app.body;
    return app.Json().value("id", int64_t{0});
  }

  MqttDevice CreateMqttDevice(int64_t app_id, const std::string& name) {
    MqttDevice d;
    d.app_id = app_id;
    auto dev = admin_->PostJson("/api/v1/applications/" + std::to_string(app_id) + "/devices",
                                {{"name", name}, {"transport", "mqtt"}});
    EXPECT_EQ(dev.status, 201) << dev.body;
    d.device_id = dev.Json().value("id", int64_t{0});
    d.mqtt = dev.Json().value("mqtt", json::object());
    EXPECT_TRUE(d.mqtt.contains("password")) << dev.body;
    return d;
  }

  int64_t CreateLorawanDevice(int64_t app_id, const std::string& eui) {
    auto dev =
        admin_->PostJson("/api/v1/applications/" + std::to_string(app_id) + "/devices",
                         {{"name", "LoRa " + eui}, {"transport", "lorawan"}, {"devEui", eui}});
    EXPECT_EQ(dev.status, 201) << dev.body;
    return dev.Json().value("id", int64_t{0});
  }

  // Connects as the device, retrying while the broker reloads its credentials.
  std::unique_ptr<Peer> ConnectDevice(const MqttDevice& d) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto p = std::make_unique<Peer>("dev-" + std::to_string(d.device_id) + "-" +
                                      std::to_string(attempt));
      if (p->Connect(MqttUrl(), d.mqtt["username"], d.mqtt["password"]) == 0) return p;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return nullptr;
  }

  json Items(const std::string& path) {
    auto r = admin_->Get(path);
    if (r.status != 200) return json::array();
    return r.Json().value("items", json::array());
  }
  json Messages(int64_t device) {
    return Items("/api/v1/devices/" + std::to_string(device) + "/messages?limit=10000");
  }
  json Readings(int64_t device, const std::string& key) {
    return Items("/api/v1/devices/" + std::to_string(device) + "/readings?limit=100000&key=" + key);
  }
  double Metric(const std::string& result) {
    auto r = admin_->Get("/metrics");
    std::string needle = "bysans_mqtt_messages_total{result=\"" + result + "\"} ";
    auto pos = r.body.find(needle);
    if (pos == std::string::npos) return 0;
    return std::stod(r.body.substr(pos + needle.size()));
  }
};

TEST_F(MqttTest, DevicePublishesWithItsCredentialsAndReadingsAreStored) {
  int64_t app = CreateApp("Aarhus");
  MqttDevice d = CreateMqttDevice(app, "Lokale 7");
  EXPECT_EQ(d.mqtt.value("upTopic", ""), "devices/" + std::to_string(d.device_id) + "/up");
  EXPECT_GT(d.mqtt.value("port", 0), 0);
  auto peer = ConnectDevice(d);
  ASSERT_TRUE(peer) << server_->log();
  int mid = peer->Publish(d.mqtt["upTopic"], R"({"temperature": 21.5, "co2": 612})");
  ASSERT_TRUE(peer->WaitAcked(mid));
  ASSERT_TRUE(WaitFor([&] { return Readings(d.device_id, "co2").size() == 1; })) << server_->log();
  EXPECT_DOUBLE_EQ(Readings(d.device_id, "temperature")[0].value("value", 0.0), 21.5);
  auto msgs = Messages(d.device_id);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].value("transport", ""), "mqtt");

  // Raw bytes: kept, no readings.
  mid = peer->Publish(d.mqtt["upTopic"], std::string("\x01\x02\xff", 3));
  ASSERT_TRUE(peer->WaitAcked(mid));
  ASSERT_TRUE(WaitFor([&] { return Messages(d.device_id).size() == 2; }));
  EXPECT_EQ(Messages(d.device_id)[0].value("decodeStatus", ""), "none");

  // SenML.
  mid = peer->Publish(d.mqtt["upTopic"], R"([{"bn":"room/","n":"lux","u":"lx","v":310}])");
  ASSERT_TRUE(peer->WaitAcked(mid));
  ASSERT_TRUE(WaitFor([&] { return Readings(d.device_id, "room/lux").size() == 1; }));
}

TEST_F(MqttTest, WrongPasswordAndCrossDevicePublishingAreRefused) {
  int64_t app = CreateApp("Vejle");
  MqttDevice a = CreateMqttDevice(app, "A");
  MqttDevice b = CreateMqttDevice(app, "B");
  auto pa = ConnectDevice(a);
  ASSERT_TRUE(pa);
  {
    Peer wrong("wrong-password");
    EXPECT_NE(wrong.Connect(MqttUrl(), a.mqtt["username"], "not-the-password"), 0);
  }
  // A publishes on B's topic (refused by the ACL), then on its own.
  int bad = pa->Publish(b.mqtt["upTopic"], R"({"spoofed": 1})");
  ASSERT_TRUE(pa->WaitAcked(bad));  // MQTT 3.1.1: the broker acks and drops it
  int good = pa->Publish(a.mqtt["upTopic"], R"({"own": 1})");
  ASSERT_TRUE(pa->WaitAcked(good));
  ASSERT_TRUE(WaitFor([&] { return Messages(a.device_id).size() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Messages(b.device_id).size(), 0u);
}

const char* kUplink = R"({
  "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
  "time": "2026-11-25T10:00:00.123456789+00:00",
  "deviceInfo": {"tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242", "tenantName": "Kommune",
                 "applicationId": "17c82e96-be03-4f38-aef3-f83d48582d97",
                 "applicationName": "Indeklima", "deviceProfileName": "ERS CO2",
                 "deviceName": "Lokale 12", "devEui": "0101010101010101", "tags": {}},
  "devAddr": "00189440", "adr": true, "dr": 5, "fCnt": 42, "fPort": 1, "confirmed": false,
  "data": "AQID",
  "rxInfo": [
    {"gatewayId": "0016c001f153a14c", "uplinkId": 4217106255, "rssi": -104, "snr": -3.2,
     "channel": 2, "location": {}, "context": "AAA=", "metadata": {}},
    {"gatewayId": "0016c001f153a14d", "uplinkId": 4217106256, "rssi": -70, "snr": 9.5,
     "channel": 2, "location": {}, "context": "AAA=", "metadata": {}}
  ],
  "txInfo": {"frequency": 868100000,
             "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 7,
                                     "codeRate": "CR_4_5"}}}
})";

TEST_F(MqttTest, ChirpstackUplinkIsStoredOnceWithHealthReadings) {
  int64_t app = CreateApp("Horsens");
  int64_t dev = CreateLorawanDevice(app, "0101010101010101");
  Peer cs("chirpstack");
  ASSERT_EQ(cs.Connect(MqttUrl(), "bysans-service", ServicePassword()), 0);
  const std::string topic =
      "application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/";
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(topic + "up", kUplink)));
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(topic + "up", kUplink)));  // a redelivered duplicate
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(
      topic + "status",
      R"({"deduplicationId":"9f0e4a52-0c43-4b1e-a0b7-1f6e2a9e8c11","time":"2026-11-25T10:01:00Z",
          "deviceInfo":{"devEui":"0101010101010101"},"margin":7,"externalPowerSource":false,
          "batteryLevel":87.5})")));
  ASSERT_TRUE(WaitFor([&] { return Readings(dev, "battery").size() == 1; })) << server_->log();
  auto rssi = Readings(dev, "lorawan.rssi");
  ASSERT_EQ(rssi.size(), 1u);
  EXPECT_DOUBLE_EQ(rssi[0].value("value", 0.0), -70);  // the best gateway
  EXPECT_DOUBLE_EQ(Readings(dev, "lorawan.snr")[0].value("value", 0.0), 9.5);
  EXPECT_DOUBLE_EQ(Readings(dev, "lorawan.fcnt")[0].value("value", 0.0), 42);
  EXPECT_DOUBLE_EQ(Readings(dev, "lorawan.dr")[0].value("value", 0.0), 5);
  EXPECT_DOUBLE_EQ(Readings(dev, "lorawan.margin")[0].value("value", 0.0), 7);
  auto msgs = Messages(dev);
  ASSERT_EQ(msgs.size(), 2u);  // one uplink (the duplicate dropped) + one status
  int uplinks = 0;
  for (const auto& m : msgs) {
    if (m.value("payload", "").find("3ac7e3c4") != std::string::npos) ++uplinks;
    EXPECT_EQ(m.value("transport", ""), "lorawan");
  }
  EXPECT_EQ(uplinks, 1);
  // Both gateways are listed for the device's organisation.
  int64_t org = admin_->Get("/api/v1/applications/" + std::to_string(app)).Json().value("orgId", 0);
  auto gws = Items("/api/v1/organizations/" + std::to_string(org) + "/lorawan/gateways");
  ASSERT_EQ(gws.size(), 2u);
  EXPECT_EQ(gws[0].value("gatewayId", ""), "0016c001f153a14c");

  // A downlink goes to ChirpStack's command topic of the application seen in the uplink.
  ASSERT_TRUE(cs.Subscribe("application/+/device/+/command/down"));
  auto down = admin_->PostJson("/api/v1/devices/" + std::to_string(dev) + "/downlink",
                               {{"fPort", 10}, {"hex", "0102ff"}, {"confirmed", true}});
  ASSERT_EQ(down.status, 202) << down.body;
  auto got = cs.Received(0);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->first, topic.substr(0, topic.size() - 6) + "command/down");
  json cmd = json::parse(got->second);
  EXPECT_EQ(cmd.value("devEui", ""), "0101010101010101");
  EXPECT_EQ(cmd.value("fPort", 0), 10);
  EXPECT_EQ(cmd.value("data", ""), "AQL/");
  EXPECT_EQ(cmd.value("confirmed", false), true);
  ASSERT_TRUE(WaitFor([&] {
    auto h = Items("/api/v1/devices/" + std::to_string(dev) + "/downlink");
    return h.size() == 1 && h[0].value("status", "") == "published";
  }));
}

TEST_F(MqttTest, BadInputOnEveryTopicIsCountedAndTheServerKeepsServing) {
  int64_t app = CreateApp("Silkeborg");
  int64_t lora = CreateLorawanDevice(app, "0202020202020202");
  MqttDevice d = CreateMqttDevice(app, "M");
  auto dev = ConnectDevice(d);
  ASSERT_TRUE(dev);
  Peer cs("chirpstack-bad");
  ASSERT_EQ(cs.Connect(MqttUrl(), "bysans-service", ServicePassword()), 0);
  const std::string topic = "application/app-1/device/0202020202020202/event/up";
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(topic, "this is not json")));
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(topic, R"({"fCnt": "many", "rxInfo": 3})")));
  ASSERT_TRUE(cs.WaitAcked(cs.Publish(topic, R"({"fCnt": 1, "data": "!!not base64!!"})")));
  ASSERT_TRUE(cs.WaitAcked(cs.Publish("application/app-1/device/0303030303030303/event/up",
                                      R"({"fCnt": 1, "data": "AQ=="})")));
  ASSERT_TRUE(dev->WaitAcked(dev->Publish(d.mqtt["upTopic"], R"({"broken": )")));
  ASSERT_TRUE(dev->WaitAcked(dev->Publish(d.mqtt["upTopic"], "{" + std::string(1 << 20, ' '))));

  ASSERT_TRUE(WaitFor([&] {
    return Metric("bad_json") >= 2 && Metric("bad_shape") >= 1 && Metric("bad_base64") >= 1 &&
           Metric("unknown_deveui") >= 1 && Metric("too_large") >= 1;
  })) << admin_->Get("/metrics").body;
  // Known devices keep the bad messages, with the error.
  ASSERT_TRUE(
      WaitFor([&] { return Messages(lora).size() == 3 && Messages(d.device_id).size() == 2; }));
  for (const auto& m : Messages(lora)) EXPECT_EQ(m.value("decodeStatus", ""), "error");
  EXPECT_EQ(admin_->Get("/healthz").status, 200);
  // The unknown DevEUI is listed for onboarding, and a good message still flows.
  auto unknown = Items("/api/v1/lorawan/unknown-devices");
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0].value("devEui", ""), "0303030303030303");
  EXPECT_EQ(unknown[0].value("applicationId", ""), "app-1");
  ASSERT_TRUE(dev->WaitAcked(dev->Publish(d.mqtt["upTopic"], R"({"ok": 1})")));
  ASSERT_TRUE(WaitFor([&] { return Readings(d.device_id, "ok").size() == 1; }));
}

TEST_F(MqttTest, Kill9WhilePublishingLosesNothingAcknowledged) {
  // Our own server with a fixed broker port, so the restart reuses it.
  std::string port = std::to_string(FreePort());
  server_ =
      std::make_unique<ServerProcess>(std::string(), std::vector<std::string>{"--mqtt-port", port});
  ASSERT_TRUE(server_->Start()) << server_->log();
  admin_ = std::make_unique<HttpClient>(server_->url());
  ASSERT_EQ(admin_->Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword).status, 200);
  int64_t app = CreateApp("Odense");
  MqttDevice d = CreateMqttDevice(app, "Flood");
  auto pub = ConnectDevice(d);
  ASSERT_TRUE(pub);

  constexpr int64_t kBase = 1'700'000'000'000;
  std::map<int, int> seq_of_mid;
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::mutex mu;
  std::thread flood([&] {
    for (int seq = 0; !stop.load() && seq < 20000; ++seq) {
      json body = {{"seq", seq}, {"timestamp", kBase + seq}};
      int mid = pub->Publish(d.mqtt["upTopic"], body.dump());
      if (mid < 0) break;
      {
        std::lock_guard lock(mu);
        seq_of_mid[mid] = seq;
      }
      sent = seq + 1;
      if (seq % 50 == 49) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  // Crash bysans (and with it its broker, which saves its queue on SIGTERM) mid-stream.
  ASSERT_TRUE(WaitFor([&] { return Readings(d.device_id, "seq").size() >= 200; }));
  server_->Kill9();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  flood.join();
  std::set<int> acked;
  {
    std::lock_guard lock(mu);
    for (auto& [mid, seq] : seq_of_mid)
      if (pub->Acked(mid)) acked.insert(seq);
  }
  pub.reset();

  std::string dir = server_->data_dir();
  auto keep = std::move(server_);
  server_ = std::make_unique<ServerProcess>(dir, std::vector<std::string>{"--mqtt-port", port});
  ASSERT_TRUE(server_->Start()) << server_->log();
  admin_ = std::make_unique<HttpClient>(server_->url());
  ASSERT_EQ(admin_->Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword).status, 200);

  std::set<int> stored;
  auto collect = [&] {
    stored.clear();
    for (const auto& r : Readings(d.device_id, "seq")) stored.insert(r.value("value", 0.0));
    return std::includes(stored.begin(), stored.end(), acked.begin(), acked.end());
  };
  EXPECT_TRUE(WaitFor(collect, 120));
  // Redelivered copies (committed, not yet acked at the crash) are not stored twice.
  size_t raw = 0;
  EXPECT_TRUE(WaitFor([&] {
    collect();
    raw = Messages(d.device_id).size();
    return raw == stored.size();
  }));
  std::vector<int> missing;
  std::set_difference(acked.begin(), acked.end(), stored.begin(), stored.end(),
                      std::back_inserter(missing));
  std::printf(
      "kill -9: sent %d, broker-acked %zu, stored distinct %zu, raw messages %zu, "
      "acked missing %zu\n",
      sent.load(), acked.size(), stored.size(), raw, missing.size());
  EXPECT_TRUE(missing.empty()) << "first missing seq " << missing.front();
  EXPECT_EQ(raw, stored.size());
  EXPECT_GT(acked.size(), 200u);
}

}  // namespace
}  // namespace bysans::testing
