// MqttClient over TLS against a real Mosquitto with certificates made by the openssl CLI: the
// server certificate is verified against the configured CA (a file or PEM text) and the host
// name.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "mqtt/broker.h"
#include "mqtt/client.h"
#include "unit/mqtt/client_harness.h"
#include "unit/mqtt/tls_certs.h"

namespace bysans::mqtt {
namespace {

constexpr int kTimeoutMs = 20000;

bool WaitFor(const std::function<bool()>& pred, int timeout_ms = kTimeoutMs) {
  return testing::WaitFor(pred, timeout_ms);
}

bool PortAccepts(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::close(fd);
  return rc == 0;
}

using Seen = testing::Recorder;  // acks every message (auto_ack)

// A Mosquitto with two TLS listeners, both with certificates signed by ca.pem:
//   port_     certificate for DNS:localhost and IP:127.0.0.1
//   dns_port_ certificate for DNS:localhost only
// other_ca.pem is an unrelated CA that signed nothing the broker presents.
class MqttTlsTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    dir_ = certs_.dir();
    ASSERT_FALSE(dir_.empty());
    ASSERT_TRUE(certs_.MakeCa("ca"));
    ASSERT_TRUE(certs_.MakeCa("other_ca"));
    ASSERT_TRUE(certs_.MakeServerCert("server", "DNS:localhost,IP:127.0.0.1"));
    ASSERT_TRUE(certs_.MakeServerCert("server_dns", "DNS:localhost"));
    auto p1 = PickFreePort("127.0.0.1");
    auto p2 = PickFreePort("127.0.0.1");
    ASSERT_TRUE(p1.ok() && p2.ok());
    port_ = *p1;
    dns_port_ = *p2;
    ASSERT_NE(port_, dns_port_);
    {
      std::ofstream conf(dir_ + "/mosquitto.conf");
      conf << "per_listener_settings false\nallow_anonymous true\npersistence false\n"
           << "log_dest stderr\nlog_type all\n";
      if (::geteuid() == 0) conf << "user root\n";
      for (auto [port, name] : {std::pair{port_, "server"}, std::pair{dns_port_, "server_dns"}}) {
        conf << "listener " << port << " 127.0.0.1\ncafile " << dir_ << "/ca.pem\ncertfile " << dir_
             << "/" << name << ".pem\nkeyfile " << dir_ << "/" << name << ".key\n";
      }
    }
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      const std::string log = dir_ + "/mosquitto.log";
      const std::string conf = dir_ + "/mosquitto.conf";
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // no broker left behind by an aborted test
      if (std::freopen(log.c_str(), "a", stderr) == nullptr) ::_exit(126);
      if (std::freopen("/dev/null", "w", stdout) == nullptr) ::_exit(126);
      ::execl("/usr/sbin/mosquitto", "mosquitto", "-c", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ASSERT_TRUE(WaitFor([&] { return PortAccepts(port_) && PortAccepts(dns_port_); }))
        << "mosquitto did not listen on " << port_ << " and " << dns_port_;
  }

  void TearDown() override {
    clients_.Clear();
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (HasFailure()) {
      std::ifstream log(dir_ + "/mosquitto.log");
      std::string line;
      while (std::getline(log, line)) std::fprintf(stderr, "mosquitto: %s\n", line.c_str());
    }
    // certs_ removes the directory.
  }

  ClientOptions Tls(const std::string& id, const std::string& host, uint16_t port,
                    const std::string& ca) {
    ClientOptions o;
    o.host = host;
    o.port = port;
    o.client_id = id;
    o.clean_session = true;
    o.protocol = GetParam();
    o.tls = true;
    o.tls_ca_file = dir_ + "/" + ca;
    o.reconnect_min_ms = 50;
    o.reconnect_max_ms = 200;
    o.connect_timeout_ms = 5000;
    o.trusted = true;  // a loopback test broker (the outbound policy is tested on its own)
    return o;
  }

  // The same with the CAs given as PEM text (ClientOptions::tls_ca_pem) instead of a file.
  ClientOptions TlsPem(const std::string& id, const std::string& host, uint16_t port,
                       const std::string& pem) {
    ClientOptions o = Tls(id, host, port, "unused");
    o.tls_ca_file.clear();
    o.tls_ca_pem = pem;
    return o;
  }

  Seen& NewSeen() { return clients_.NewRecorder(); }
  MqttClient& NewClient(const ClientOptions& o, Seen& seen) { return clients_.NewClient(o, seen); }

  static void Subscribe(MqttClient& c, const std::string& filter) {
    auto r = testing::SubscribeQos1(c, filter, kTimeoutMs);
    ASSERT_TRUE(r.has_value()) << "no SUBACK";
    ASSERT_TRUE(r->ok()) << r->status().message();
    ASSERT_EQ((*r)->size(), 1u);
    ASSERT_EQ((**r)[0], 1) << "QoS 1 not granted";
  }

  // A refused client never connects: it reports TLS failures, attempt after attempt, and the
  // QoS 1 message it was given never reaches a subscriber of a well-configured client.
  void ExpectRefused(const ClientOptions& bad, const std::string& why) {
    Seen& good_seen = NewSeen();
    MqttClient& good = NewClient(Tls("good-sub", "localhost", port_, "ca.pem"), good_seen);
    ASSERT_TRUE(good.Start().ok());
    Subscribe(good, "tls/#");

    Seen& seen = NewSeen();
    MqttClient& c = NewClient(bad, seen);
    ASSERT_TRUE(c.Start().ok());
    std::mutex mu;
    std::optional<Status> done;
    ASSERT_TRUE(c.Publish("tls/leak", "must-not-arrive", 1, false, [&](const Status& st) {
                   std::lock_guard lk(mu);
                   done = st;
                 }).ok());
    // Several attempts: the failure is not a one-off, and the client keeps retrying.
    ASSERT_TRUE(WaitFor([&] { return seen.disconnect_count() >= 3; }))
        << "expected repeated connection failures";
    EXPECT_FALSE(c.connected());
    {
      std::lock_guard lk(seen.mu);
      EXPECT_EQ(seen.connects.size(), 0u);
      for (const Status& st : seen.disconnects) {
        EXPECT_EQ(st.code(), Code::kUnavailable) << st.message();
        EXPECT_NE(st.message().find("TLS handshake failed"), std::string::npos) << st.message();
        EXPECT_NE(st.message().find(why), std::string::npos) << st.message();
      }
    }
    // A marker through the good client's own connection: once it has arrived, the leak would
    // have too had the refused client ever delivered it.
    ASSERT_TRUE(good.Publish("tls/marker", "marker", 1, false).ok());
    ASSERT_TRUE(WaitFor([&] { return good_seen.HasPayload("marker"); }));
    EXPECT_FALSE(good_seen.HasPayload("must-not-arrive"));
    c.Stop();
    std::lock_guard lk(mu);
    ASSERT_TRUE(done.has_value()) << "Stop() must complete the pending publish";
    EXPECT_EQ(done->code(), Code::kUnavailable) << done->message();
  }

  // A verified connection: subscribe, publish QoS 1 (PUBACK), receive the message intact.
  void ExpectQos1RoundTrip(const ClientOptions& o) {
    Seen& seen = NewSeen();
    MqttClient& c = NewClient(o, seen);
    ASSERT_TRUE(c.Start().ok());
    ASSERT_TRUE(WaitFor([&] { return c.connected(); }));
    Subscribe(c, "tls/+/up");
    const std::string payload("bin\0\xff\x01 payload", 14);
    std::mutex mu;
    std::optional<Status> done;
    ASSERT_TRUE(c.Publish("tls/d1/up", payload, 1, false, [&](const Status& st) {
                   std::lock_guard lk(mu);
                   done = st;
                 }).ok());
    ASSERT_TRUE(WaitFor([&] {
      std::lock_guard lk(mu);
      return done.has_value();
    })) << "no PUBACK";
    {
      std::lock_guard lk(mu);
      EXPECT_TRUE(done->ok()) << done->message();
    }
    ASSERT_TRUE(WaitFor([&] { return seen.HasPayload(payload); }));
    std::lock_guard lk(seen.mu);
    ASSERT_EQ(seen.messages.size(), 1u);
    EXPECT_EQ(seen.messages[0].topic, "tls/d1/up");
    EXPECT_EQ(seen.messages[0].payload, payload);
    EXPECT_EQ(seen.messages[0].qos, 1);
    EXPECT_EQ(seen.connects.size(), 1u);
    EXPECT_TRUE(seen.disconnects.empty());
  }

  bysans::testing::TlsCerts certs_;  // declared first: outlives the broker
  std::string dir_;                  // certs_.dir(): also the broker's conf and log
  uint16_t port_ = 0;
  uint16_t dns_port_ = 0;
  pid_t pid_ = -1;
  testing::ClientSet clients_;
};

TEST_P(MqttTlsTest, VerifiedConnectionDeliversQos1) {
  ExpectQos1RoundTrip(Tls("tls-a", "localhost", port_, "ca.pem"));
}

TEST_P(MqttTlsTest, ServerCertificateFromAnotherCaIsRefused) {
  ExpectRefused(Tls("tls-b", "localhost", port_, "other_ca.pem"),
                "self-signed certificate in certificate chain");
}

// ca.pem signed the certificate, but for DNS:localhost only: connecting by IP must fail.
TEST_P(MqttTlsTest, HostNameMismatchIsRefused) {
  ExpectRefused(Tls("tls-c", "127.0.0.1", dns_port_, "ca.pem"), "IP address mismatch");
}

// Control for the mismatch test: the same listener and CA, with the host name the certificate
// names, connects.
TEST_P(MqttTlsTest, MatchingHostNameOnDnsOnlyCertificateConnects) {
  Seen& seen = NewSeen();
  MqttClient& c = NewClient(Tls("tls-d", "localhost", dns_port_, "ca.pem"), seen);
  ASSERT_TRUE(c.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return c.connected(); }));
  Subscribe(c, "tls/d");
}

// The CA as PEM text (an integration's caCert) instead of a file: the same verified round trip.
TEST_P(MqttTlsTest, CaPemTextVerifiesTheBroker) {
  const std::string pem = certs_.Read("ca.pem");
  ASSERT_NE(pem.find("BEGIN CERTIFICATE"), std::string::npos);
  ExpectQos1RoundTrip(TlsPem("tls-pem-a", "localhost", port_, pem));
}

// Every certificate of a PEM bundle is trusted, not only the first: the broker's CA comes
// second here.
TEST_P(MqttTlsTest, CaPemBundleTrustsEveryCertificate) {
  ExpectQos1RoundTrip(
      TlsPem("tls-pem-b", "127.0.0.1", port_, certs_.Read("other_ca.pem") + certs_.Read("ca.pem")));
}

TEST_P(MqttTlsTest, CaPemOfAnotherCaIsRefused) {
  ExpectRefused(TlsPem("tls-pem-c", "localhost", port_, certs_.Read("other_ca.pem")),
                "self-signed certificate in certificate chain");
}

TEST_P(MqttTlsTest, UnusableCaPemIsAnInvalidArgument) {
  for (const std::string& pem :
       {std::string("not a certificate"),
        std::string("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")}) {
    MqttClient c(TlsPem("tls-pem-d", "localhost", port_, pem));
    const Status st = c.Start();
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << pem;
    EXPECT_NE(st.message().find("TLS CA certificates"), std::string::npos) << st.message();
  }
}

TEST_P(MqttTlsTest, MissingCaFileIsAnInvalidArgument) {
  MqttClient c(Tls("tls-e", "localhost", port_, "no-such-ca.pem"));
  EXPECT_EQ(c.Start().code(), Code::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Mqtt, MqttTlsTest, ::testing::Values(4, 5),
                         [](const auto& info) { return info.param == 5 ? "v5" : "v311"; });

}  // namespace
}  // namespace bysans::mqtt
