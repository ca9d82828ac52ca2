// Issue 15, findings 8, 9, 10 and 12 as stored decoders on MQTT devices: each hostile decoder is
// attached to its own MQTT device of organisation A, one QoS 1 message goes through the real
// supervised Mosquitto, and the message is stored raw with decode status `error` and an error
// naming the cause (or, for a harmless promise job, decoded as the engine documents). Afterwards
// the same process still answers /healthz, and a normal MQTT device of organisation A and one
// of organisation B are stored and decoded normally. One server serves the whole file.
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/mqtt_fixture.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

// Normal decoders of A (a second device in the attacker's own organisation) and of B.
constexpr const char* kNormalA = "function decode(p, m) { return { v: p.v, a: 1 }; }";
constexpr const char* kNormalB = "function decode(p, m) { return { v: p.v * 2 }; }";

// Reads `v` and counts what for-in sees on a fresh object (0 unless Object.prototype leaks).
constexpr const char* kVictim = R"(function decode(payload, metadata) {
  var seen = 0;
  for (var k in {}) seen++;
  var probe = JSON.parse(JSON.stringify({ w: 3 }));
  return { v: payload.v, inherited: seen, w: probe.w };
})";

// Everything the tests share: one server, its tenants and the normal MQTT devices.
struct Shared {
  std::unique_ptr<ServerProcess> server;
  std::unique_ptr<HttpClient> admin;
  Tenant a, b;
  MqttDevice normal_a, normal_b;
  pid_t pid = 0;
  int next_value = 100;  // distinct values for the normal devices' messages
};

class DecoderMqttTest : public SecurityTest {
 protected:
  static void TearDownTestSuite() { shared_.reset(); }

  void SetUp() override {
    if (shared_) {
      server_ = std::move(shared_->server);
      admin_ = std::move(shared_->admin);
      a_ = std::move(shared_->a);
      b_ = std::move(shared_->b);
      return;
    }
    ASSERT_NO_FATAL_FAILURE(SecurityTest::SetUp());
    shared_ = std::make_unique<Shared>();
    shared_->pid = server_->pid();
    shared_->normal_a = CreateDevice(a_, kNormalA);
    shared_->normal_b = CreateDevice(b_, kNormalB);
  }

  void TearDown() override {
    if (!shared_) return;
    shared_->server = std::move(server_);
    shared_->admin = std::move(admin_);
    shared_->a = std::move(a_);
    shared_->b = std::move(b_);
  }

  std::string MqttUrl() { return ReadLine(fs::path(server_->data_dir()) / "mqtt.url"); }
  static std::string Path(const MqttDevice& d) {
    return "/api/v1/devices/" + std::to_string(d.device_id);
  }

  // An MQTT device of `t` with its own stored decoder `code`, attached by t's editor.
  MqttDevice CreateDevice(Tenant& t, const std::string& code) {
    MqttDevice d;
    auto dev = Send(*t.editor.client, "POST", t.AppPath() + "/devices",
                    {{"name", "Maaler"}, {"transport", "mqtt"}});
    EXPECT_EQ(dev.status, 201) << dev.body;
    d.org_id = t.device.org_id;
    d.device_id = dev.Json().value("id", int64_t{0});
    d.mqtt = dev.Json().value("mqtt", json::object());
    auto dec = Send(*t.editor.client, "POST", t.OrgPath() + "/decoders",
                    {{"name", "decoder"}, {"code", code}});
    EXPECT_EQ(dec.status, 201) << dec.body;
    auto att = Send(*t.editor.client, "PUT", Path(d) + "/decoder",
                    {{"decoderId", dec.Json().value("id", int64_t{0})}});
    EXPECT_EQ(att.status, 200) << att.body;
    return d;
  }

  // Publishes `payload` as the device with QoS 1 and waits for the broker's PUBACK.
  void Publish(const MqttDevice& d, const std::string& payload) {
    ASSERT_TRUE(PublishAs(MqttUrl(), d, payload)) << server_->log();
  }

  json Messages(const MqttDevice& d) {
    auto r = admin_->Get(Path(d) + "/messages?limit=100");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().value("items", json::array());
  }

  // The device's messages once there are `n` (newest first).
  json WaitMessages(const MqttDevice& d, size_t n) {
    json msgs;
    EXPECT_TRUE(WaitFor([&] { return (msgs = Messages(d)).size() >= n; }, 20))
        << msgs << server_->log();
    EXPECT_EQ(msgs.size(), n) << msgs;
    return msgs;
  }

  // The values of the device's readings of `key`, newest first.
  std::vector<double> Readings(const MqttDevice& d, const std::string& key) {
    auto r = admin_->Get(Path(d) + "/readings?key=" + key);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<double> out;
    for (const auto& item : r.Json().value("items", json::array()))
      out.push_back(item.value("value", -1.0));
    return out;
  }

  // Publishes `payload` on a fresh device carrying `code`; returns its one stored message.
  json Attack(const std::string& code, MqttDevice* device = nullptr,
              const std::string& payload = R"({"v": 5})") {
    MqttDevice d = CreateDevice(a_, code);
    if (device) *device = d;
    EXPECT_NO_FATAL_FAILURE(Publish(d, payload));
    json msgs = WaitMessages(d, 1);
    return msgs.empty() ? json::object() : msgs[0];
  }

  // The message was stored raw with an error naming `what`, and nothing was decoded from it.
  void ExpectRaw(const json& msg, const std::string& what, const std::string& code) {
    EXPECT_EQ(msg.value("decodeStatus", ""), "error") << code << "\n" << msg;
    EXPECT_NE(msg.value("decodeError", "").find(what), std::string::npos)
        << code << "\nwanted: " << what << "\n"
        << msg;
  }

  // Same process, still serving, and both organisations' normal devices decode as before.
  void ExpectServerUnharmed() {
    EXPECT_EQ(server_->pid(), shared_->pid);
    EXPECT_EQ(::kill(server_->pid(), 0), 0);
    HttpClient probe(server_->url());
    ASSERT_EQ(probe.Get("/healthz").status, 200) << server_->log();
    for (MqttDevice* d : {&shared_->normal_a, &shared_->normal_b}) {
      const int v = ++shared_->next_value;
      const size_t before = Messages(*d).size();
      ASSERT_NO_FATAL_FAILURE(Publish(*d, json{{"v", v}}.dump()));
      json msgs = WaitMessages(*d, before + 1);
      ASSERT_FALSE(msgs.empty());
      EXPECT_EQ(msgs[0].value("decodeStatus", ""), "ok") << msgs[0];
      std::vector<double> got;
      ASSERT_TRUE(WaitFor([&] { return (got = Readings(*d, "v")).size() == before + 1; }, 10));
      EXPECT_EQ(got[0], d == &shared_->normal_a ? v : 2 * v);
    }
    EXPECT_EQ(Readings(shared_->normal_a, "a").size(), Readings(shared_->normal_a, "v").size());
  }

  static std::unique_ptr<Shared> shared_;
};

std::unique_ptr<Shared> DecoderMqttTest::shared_;

// Finding 8: a promise job crashed the process. Jobs run after the output was read, within the
// call's limits: a looping one fails the decode, a harmless one cannot change the output.
TEST_F(DecoderMqttTest, PromiseJobsOnAStoredDecoder) {
  const std::string loop =
      "function decode(p, m) { Promise.resolve().then(() => { for (;;) {} }); return { v: p.v }; "
      "}";
  json msg = Attack(loop);
  ExpectRaw(msg, "decoder promise job failed: time limit exceeded", loop);
  ASSERT_NO_FATAL_FAILURE(ExpectServerUnharmed());

  MqttDevice harmless;
  msg = Attack(
      "function decode(p, m) { var out = { v: p.v };"
      " Promise.resolve().then(() => { out.v = -1; }); return out; }",
      &harmless);
  EXPECT_EQ(msg.value("decodeStatus", ""), "ok") << msg;
  EXPECT_EQ(Readings(harmless, "v"), std::vector<double>{5});
  ASSERT_NO_FATAL_FAILURE(ExpectServerUnharmed());
}

// Finding 8: a top-level `return` crashed the process (unchecked toObject()).
TEST_F(DecoderMqttTest, TopLevelReturnOnAStoredDecoder) {
  const std::string code = "return 1;\nfunction decode(p, m) { return { v: p.v }; }";
  ExpectRaw(Attack(code), "decoder must not use `return` outside a function", code);
  ASSERT_NO_FATAL_FAILURE(ExpectServerUnharmed());
}

// Finding 9: no decoder code runs outside a timed call: a Proxy handed back as the entry points
// is refused unread, looping getters on the output hit the time limit.
TEST_F(DecoderMqttTest, LoopingProxyAndGettersOnAStoredDecoder) {
  const std::string proxy =
      "return new Proxy([], { get() { for (;;) {} }, getOwnPropertyDescriptor() { for (;;) {} },"
      " has() { for (;;) {} } });\nfunction decode(p, m) { return { v: p.v }; }";
  auto start = std::chrono::steady_clock::now();
  ExpectRaw(Attack(proxy), "`return` outside a function", proxy);
  ASSERT_NO_FATAL_FAILURE(ExpectServerUnharmed());
  for (const std::string getter :
       {"function decode(p, m) { return { get v() { for (;;) {} } }; }",
        "function decode(p, m) { return new Proxy({ v: 1 }, { ownKeys() { for (;;) {} } }); }"}) {
    ExpectRaw(Attack(getter), "decoder output is not JSON-serialisable: time limit exceeded",
              getter);
    ASSERT_NO_FATAL_FAILURE(ExpectServerUnharmed());
  }
  // Each decode was stopped at the organisation's 100 ms, not after seconds.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

// Finding 10: the memory limit covers ArrayBuffers, typed arrays and strings.
TEST_F(DecoderMqttTest, HugeAllocationsOnAStoredDecoder) {
#if defined(__SANITIZE_ADDRESS__)
  // The server's allocator budget is off under sanitizers (they own malloc): see
  // src/decode/js/alloc_budget.h.
  GTEST_SKIP() << "sanitizer build";
#endif
  for (const std::string code :
       {"function decode(p, m) { var b = new ArrayBuffer(2 ** 32); return { v: b.byteLength }; }",
        "function decode(p, m) { return { v: new Uint8Array(2 ** 30).fill(7)[5] }; }",
        "function decode(p, m) { var s = 'x'.repeat(2 ** 28); return { v: s.indexOf('y') }; }"}) {
    ExpectRaw(Attack(code), "memory limit exceeded", code);
    ASSERT_NO_FATAL_FAILURE(ExpectServerUnharmed());
  }
}

// Finding 12: a decoder changing Object.prototype (toJSON, enumerable methods) next to a normal
// decoder of the same organisation on a second MQTT device: the normal one's readings are
// unchanged, before and after the attack.
TEST_F(DecoderMqttTest, PrototypeChangesStayInTheirStoredDecoder) {
  MqttDevice victim = CreateDevice(a_, kVictim);
  ASSERT_NO_FATAL_FAILURE(Publish(victim, R"({"v": 11})"));  // compiled before the attack
  WaitMessages(victim, 1);

  MqttDevice attacker;
  json msg = Attack(R"(
    Object.prototype.toJSON = function () { return { stolen: 1, v: -1 }; };
    Object.defineProperty(Object.prototype, 'spy', { value: 1, enumerable: true, writable: true });
    Object.prototype.polyfill = function () {};
    Array.prototype.extra = function () {};
    function decode(payload, metadata) { var seen = 0; for (var k in {}) seen++;
      return { v: payload.v, seen: seen }; })",
                    &attacker);
  // The attacker's own realm is changed: its output went through its toJSON.
  EXPECT_EQ(msg.value("decodeStatus", ""), "ok") << msg;
  EXPECT_EQ(Readings(attacker, "stolen"), std::vector<double>{1});
  EXPECT_EQ(Readings(attacker, "v"), std::vector<double>{-1});

  ASSERT_NO_FATAL_FAILURE(Publish(victim, R"({"v": 12})"));
  json msgs = WaitMessages(victim, 2);
  for (const auto& m : msgs) EXPECT_EQ(m.value("decodeStatus", ""), "ok") << m;
  std::vector<double> v, inherited, w;
  ASSERT_TRUE(WaitFor([&] { return (v = Readings(victim, "v")).size() == 2; }, 10));
  EXPECT_EQ(v, (std::vector<double>{12, 11}));
  EXPECT_EQ(Readings(victim, "inherited"), (std::vector<double>{0, 0}));
  EXPECT_EQ(Readings(victim, "w"), (std::vector<double>{3, 3}));
  EXPECT_TRUE(Readings(victim, "stolen").empty());
  ASSERT_NO_FATAL_FAILURE(ExpectServerUnharmed());
}

}  // namespace
}  // namespace bysans::testing
