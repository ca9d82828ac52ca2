// Shared by the MQTT integration tests: a libmosquitto peer (devices, ChirpStack, publishers)
// and a fixture with helpers to create MQTT/LoRaWAN devices and read what bysans stored.
#pragma once

#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "fixture.h"

namespace bysans::testing {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline std::string ReadLine(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}

inline int FreePort() {
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

// A libmosquitto client (devices, ChirpStack, publishers).
class Peer {
 public:
  explicit Peer(const std::string& client_id, bool clean_session = true) {
    m_ = mosquitto_new(client_id.c_str(), clean_session, this);
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
  // Before Connect(): TLS, the broker verified against the CA file (and its host name or IP).
  bool SetTlsCa(const std::string& cafile) {
    return mosquitto_tls_set(m_, cafile.c_str(), nullptr, nullptr, nullptr, nullptr) ==
           MOSQ_ERR_SUCCESS;
  }
  // The CONNACK code (0 = accepted), or -1 on timeout. `url`: mqtt:// or mqtts://host:port
  // (mqtts:// needs SetTlsCa first).
  int Connect(const std::string& url, const std::string& user, const std::string& pass) {
    auto colon = url.rfind(':');
    auto host_at = url.find("://") + 3;
    std::string host = url.substr(host_at, colon - host_at);
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
inline MosquittoLib mosquitto_lib_once;

struct MqttDevice {
  int64_t org_id = 0, app_id = 0, device_id = 0;
  json mqtt;  // username, password, host, port, upTopic, downTopic
};

// Connects to the broker at `url` as the device, retrying while the broker reloads its
// credentials (a device created a moment ago).
inline std::unique_ptr<Peer> ConnectAs(const std::string& url, const MqttDevice& d) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto p = std::make_unique<Peer>("dev-" + std::to_string(d.device_id) + "-" +
                                    std::to_string(attempt));
    if (p->Connect(url, d.mqtt["username"], d.mqtt["password"]) == 0) return p;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return nullptr;
}

// Publishes `payload` on the device's up topic with QoS 1; true once the broker acknowledged it.
inline bool PublishAs(const std::string& url, const MqttDevice& d, const std::string& payload) {
  auto peer = ConnectAs(url, d);
  if (!peer) return false;
  int mid = peer->Publish(d.mqtt["upTopic"], payload);
  return mid >= 0 && peer->WaitAcked(mid);
}

class MqttTest : public ServerTest {
 protected:
  std::string MqttUrl() { return ReadLine(fs::path(server_->data_dir()) / "mqtt.url"); }
  // The broker user for local integrations (a ChirpStack, readers of rule actions): full
  // access to topics, but not bysans' own session (its client id is its user name).
  static constexpr const char* kIntegratorUser = "bysans-integrator";
  std::string IntegratorPassword() {
    return ReadLine(fs::path(server_->data_dir()) / "mqtt-integrator.secret");
  }
  // Publishes (QoS 1) until `stored` holds: the integration's subscription may not be in
  // place at the broker yet when its status first says "connected".
  template <typename F>
  bool PublishUntil(Peer& p, const std::string& topic, const std::string& payload, F stored) {
    for (int attempt = 0; attempt < 30; ++attempt) {
      int mid = p.Publish(topic, payload);
      if (mid >= 0) p.WaitAcked(mid);
      if (WaitFor(stored, 2)) return true;
    }
    return false;
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
  std::unique_ptr<Peer> ConnectDevice(const MqttDevice& d) { return ConnectAs(MqttUrl(), d); }

  std::string BrokerLog() {
    std::ifstream in(fs::path(server_->data_dir()) / "mosquitto" / "mosquitto.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  json Items(const std::string& path) {
    auto r = admin_->Get(path);
    if (r.status != 200) return json::array();
    return r.Json().value("items", json::array());
  }
  json Messages(int64_t device) {
    return Items("/api/v1/devices/" + std::to_string(device) + "/messages?limit=10000");
  }
  // How many raw messages the device has (the list's total: a page holds at most 10,000).
  size_t MessageCount(int64_t device) {
    auto r = admin_->Get("/api/v1/devices/" + std::to_string(device) + "/messages?limit=1");
    return r.status == 200 ? r.Json().value("total", size_t{0}) : 0;
  }
  json Readings(int64_t device, const std::string& key) {
    return Items("/api/v1/devices/" + std::to_string(device) + "/readings?limit=100000&key=" + key);
  }
  // What a flood of sequence-numbered QoS 1 messages left in the store.
  struct SeqTally {
    std::set<int> stored;      // distinct "seq" values among the device's readings
    size_t raw = 0;            // raw messages of the device
    std::vector<int> missing;  // acknowledged by the broker, not stored
  };
  // Waits (up to 120 s) until every acknowledged sequence number is stored, then until
  // there are as many raw messages as distinct numbers: copies redelivered after a crash
  // or reconnect (committed, not yet acknowledged) are stored once.
  SeqTally TallyAckedSeqs(int64_t device, const std::set<int>& acked) {
    SeqTally t;
    auto collect = [&] {
      t.stored.clear();
      for (const auto& r : Readings(device, "seq"))
        t.stored.insert(static_cast<int>(r.value("value", 0.0)));
      return std::includes(t.stored.begin(), t.stored.end(), acked.begin(), acked.end());
    };
    EXPECT_TRUE(WaitFor(collect, 120));
    EXPECT_TRUE(WaitFor([&] {
      collect();
      t.raw = MessageCount(device);
      return t.raw == t.stored.size();
    }));
    std::set_difference(acked.begin(), acked.end(), t.stored.begin(), t.stored.end(),
                        std::back_inserter(t.missing));
    return t;
  }

  double Metric(const std::string& result) {
    if (result.find('{') != std::string::npos || result.rfind("bysans_", 0) == 0)
      return MetricLine(result);
    return MetricLine("bysans_mqtt_messages_total{result=\"" + result + "\"}");
  }
};

}  // namespace bysans::testing

namespace bysans::testing {

// A second, independent Mosquitto started by a test (a "third-party" broker: ChirpStack's or
// an external one) on a free loopback port, with a password file so credentials are checked;
// optionally a second, TLS listener (tls_url()) with the given certificate files (e.g. made by
// unit/mqtt/tls_certs.h, for IP:127.0.0.1).
class TestBroker {
 public:
  struct TlsListener {
    std::string cafile;
    std::string certfile;
    std::string keyfile;
    bool require_certificate = false;  // mutual TLS: clients need a certificate cafile signed
  };

  // users: name → password.
  // `port` 0: a free one (a given port brings a broker back on the same address).
  explicit TestBroker(const std::map<std::string, std::string>& users,
                      const std::optional<TlsListener>& tls = std::nullopt, int port = 0) {
    char tmpl[] = "/tmp/bysans-testbroker-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    port_ = port != 0 ? port : FreePort();
    if (tls) {
      do {
        tls_port_ = FreePort();
      } while (tls_port_ == port_);
    }
    std::string pw = dir_ + "/passwords";
    { std::ofstream(pw) << ""; }
    for (const auto& [user, pass] : users) {
      std::string cmd = "/usr/bin/mosquitto_passwd -b '" + pw + "' '" + user + "' '" + pass + "'";
      ok_ = ok_ && std::system(cmd.c_str()) == 0;
    }
    std::ofstream conf(dir_ + "/mosquitto.conf");
    conf << "listener " << port_ << " 127.0.0.1\nallow_anonymous false\npassword_file " << pw
         << "\npersistence false\nlog_dest stderr\n";
    if (::geteuid() == 0) conf << "user root\n";
    if (tls) {
      conf << "listener " << tls_port_ << " 127.0.0.1\ncafile " << tls->cafile << "\ncertfile "
           << tls->certfile << "\nkeyfile " << tls->keyfile << "\n";
      if (tls->require_certificate) conf << "require_certificate true\n";
    }
    conf.close();
    pid_ = ::fork();
    if (pid_ == 0) {
      std::string log = dir_ + "/mosquitto.log";
      FILE* f = std::freopen(log.c_str(), "a", stderr);
      (void)f;
      std::string c = dir_ + "/mosquitto.conf";
      ::execl("/usr/sbin/mosquitto", "mosquitto", "-c", c.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    auto accepts = [](int port) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(port));
      int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
      ::close(fd);
      return rc == 0;
    };
    ok_ = ok_ && pid_ > 0 &&
          WaitFor([&] { return accepts(port_) && (tls_port_ == 0 || accepts(tls_port_)); }, 30);
  }
  ~TestBroker() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  TestBroker(const TestBroker&) = delete;
  TestBroker& operator=(const TestBroker&) = delete;

  bool ok() const { return ok_; }
  int port() const { return port_; }
  std::string url() const { return "mqtt://127.0.0.1:" + std::to_string(port_); }
  // The TLS listener (constructed with a TlsListener).
  std::string tls_url() const { return "mqtts://127.0.0.1:" + std::to_string(tls_port_); }
  std::string log() const {
    std::ifstream in(dir_ + "/mosquitto.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string dir_;
  int port_ = 0;
  int tls_port_ = 0;  // 0: no TLS listener
  pid_t pid_ = -1;
  bool ok_ = true;
};

}  // namespace bysans::testing
