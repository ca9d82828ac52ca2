// LwM2M 1.1 over the CoAP server (issue 20, lwm2m/) against the real server: a test client
// (lwm2m_client.h, libcoap's client API) registers, updates and de-registers, sends SenML that
// becomes readings, receives the operations queued through the API (at once when registered
// without queue mode, on waking in queue mode), registers over DTLS with its PSK; and the
// refusals: unknown or missing key, another device's registration id or PSK identity,
// malformed link-format, truncated CBOR — with the server serving on afterwards.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "backend_fixture.h"
#include "lwm2m_client.h"

namespace bysans::testing {
namespace {

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

constexpr int kGet = 1, kPost = 2, kPut = 3;

class Lwm2mServerTest : public ServerTest {
 protected:
  void SetUp() override {
    for (std::string& e : Lwm2mEnv()) server_env_.push_back(std::move(e));
    StartServer();
    port_ = PortOf("coap.url");
    dtls_port_ = PortOf("coaps.url");
    ASSERT_GT(port_, 0);
    ASSERT_GT(dtls_port_, 0);
  }
  virtual std::vector<std::string> Lwm2mEnv() const {
    return {"BYSANS_COAP_ENABLED=true", "BYSANS_COAP_UDP_PORT=0", "BYSANS_COAP_DTLS_PORT=0",
            "BYSANS_COAP_LWM2M_AWAKE_MS=1500"};
  }

  int PortOf(const std::string& file) {
    std::ifstream f(server_->data_dir() + "/" + file);
    std::string url;
    std::getline(f, url);
    return url.empty() ? 0 : std::stoi(url.substr(url.rfind(':') + 1));
  }

  std::string DevicePath(const DeviceHandle& d) {
    return "/api/v1/devices/" + std::to_string(d.device_id);
  }

  json Registration(const DeviceHandle& d, int* status = nullptr) {
    auto r = admin_->Get(DevicePath(d) + "/lwm2m");
    if (status) *status = r.status;
    return r.status == 200 ? r.Json() : json();
  }

  json Operations(const DeviceHandle& d) {
    auto r = admin_->Get(DevicePath(d) + "/lwm2m/operations");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json()["items"];
  }

  json QueueOperation(const DeviceHandle& d, const json& body) {
    auto r = admin_->PostJson(DevicePath(d) + "/lwm2m/operations", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json();
  }

  // Waits until the operation has left queued/sent (the server sends within a second or two).
  json WaitForOperation(const DeviceHandle& d, int64_t id, Lwm2mClient& client) {
    for (int i = 0; i < 60; ++i) {
      client.Pump(200);
      for (const json& op : Operations(d)) {
        if (op["id"] == id && op["state"] != "queued" && op["state"] != "sent") return op;
      }
    }
    return json();
  }

  json Readings(const DeviceHandle& d, const std::string& key) {
    return Items(DevicePath(d) + "/readings?key=" + key);
  }

 public:
  json ReadingsOf(const DeviceHandle& d, const std::string& key) { return Readings(d, key); }

 protected:
  int port_ = 0;
  int dtls_port_ = 0;
};
using Lwm2mTest = OnBothStores<Lwm2mServerTest>;

const char* kLinks = "</>;rt=\"oma.lwm2m\";ct=11543,</1/0>,</3/0>,</3303/0>,</3304/0>";

BYSANS_ON_BOTH_STORES(Lwm2mTest);

TEST_P(Lwm2mTest, RegisterUpdateAndDeregister) {
  DeviceHandle d = CreateHttpDevice("Aarhus");
  Lwm2mClient c(port_);
  auto reg = c.Register(
      {"ep=urn:imei:490154203237518", "lt=300", "lwm2m=1.1", "b=U", "k=" + d.ingest_key}, kLinks);
  ASSERT_EQ(reg.code, 201) << reg.payload;
  ASSERT_EQ(reg.location.size(), 2u);
  EXPECT_EQ(reg.location[0], "rd");
  json r = Registration(d);
  EXPECT_EQ(r["registered"], true) << r;
  EXPECT_EQ(r["endpoint"], "urn:imei:490154203237518");
  EXPECT_EQ(r["lifetime"], 300);
  EXPECT_EQ(r["lwm2mVersion"], "1.1");
  EXPECT_EQ(r["queueMode"], false);
  EXPECT_EQ(r["objects"], json({"/1/0", "/3/0", "/3303/0", "/3304/0"}));

  // Update from the same endpoint (no key needed there): new lifetime and objects.
  auto up = c.Update({"lt=600"}, "</1/0>,</3/0>,</3303/0>,</3428/0>");
  EXPECT_EQ(up.code, 204) << up.payload;
  r = Registration(d);
  EXPECT_EQ(r["lifetime"], 600);
  EXPECT_EQ(r["objects"].back(), "/3428/0");

  auto del = c.Deregister();
  EXPECT_EQ(del.code, 202) << del.payload;
  int status = 0;
  Registration(d, &status);
  EXPECT_EQ(status, 404);
  // Gone: a further Update is 4.04 (the client would register again).
  EXPECT_EQ(c.Update().code, 404);
}

TEST_P(Lwm2mTest, RegistrationStormIsRefusedAndOtherDevicesServeOn) {
  // Each Register and Update writes to the store on the CoAP thread: a device doing them
  // without pause gets 4.29 after 10, and another device registers as usual meanwhile.
  DeviceHandle a = CreateHttpDevice("Aarhus");
  DeviceHandle b = CreateHttpDevice("Vejle");
  Lwm2mClient ca(port_);
  ASSERT_EQ(ca.Register({"ep=storm", "k=" + a.ingest_key}, kLinks).code, 201);
  int updated = 1, refused = 0;
  for (int i = 0; i < 30; ++i) {
    auto up = ca.Update({"k=" + a.ingest_key});
    if (up.code == 204) ++updated;
    if (up.code == 429) {
      ++refused;
      EXPECT_NE(up.payload.find("too many"), std::string::npos) << up.payload;
    }
  }
  EXPECT_LE(updated, 12);  // 10 at once, and a token now and then while the loop runs
  EXPECT_GE(refused, 18);
  EXPECT_EQ(ca.Register({"ep=storm", "k=" + a.ingest_key}, kLinks).code, 429);
  Lwm2mClient cb(port_);
  EXPECT_EQ(cb.Register({"ep=calm", "k=" + b.ingest_key}, kLinks).code, 201);
  // The refused device's registration stands, and its data still flows.
  EXPECT_EQ(Registration(a)["registered"], true);
  EXPECT_EQ(ca.Send(110, R"([{"bn":"/3303/0/","n":"5700","v":19.5}])").code, 204);
}

TEST_P(Lwm2mTest, ExpiredLifetimeMeansNotRegistered) {
  DeviceHandle d = CreateHttpDevice("Vejle");
  Lwm2mClient c(port_);
  ASSERT_EQ(c.Register({"ep=short", "lt=1", "k=" + d.ingest_key}, "</3303/0>").code, 201);
  EXPECT_EQ(Registration(d)["registered"], true);
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  EXPECT_EQ(Registration(d)["registered"], false);
  EXPECT_EQ(c.Update({"k=" + d.ingest_key}).code, 404);
}

TEST_P(Lwm2mTest, SendIsStoredAsReadings) {
  DeviceHandle d = CreateHttpDevice("Odense");
  Lwm2mClient c(port_);
  ASSERT_EQ(c.Register({"ep=climate-7", "k=" + d.ingest_key}, kLinks).code, 201);
  auto sent =
      c.Send(110, R"([{"bn":"/3303/0/","n":"5700","v":21.5},{"bn":"/3304/0/","n":"5700","v":45},)"
                  R"({"bn":"/3428/0/","n":"17","v":612},{"n":"3","v":8.5},)"
                  R"({"bn":"/3303/0/","n":"5601","v":17.25}])");
  ASSERT_EQ(sent.code, 204) << sent.payload;
  // Answered means committed: the readings are there when the answer is.
  auto t = Readings(d, "temperature");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_DOUBLE_EQ(t[0]["value"].get<double>(), 21.5);
  EXPECT_EQ(t[0]["unit"], "Cel");
  EXPECT_EQ(Readings(d, "humidity").size(), 1u);
  EXPECT_EQ(Readings(d, "co2").size(), 1u);
  EXPECT_EQ(Readings(d, "pm25").size(), 1u);
  auto min = Readings(d, "3303/0/5601");
  ASSERT_EQ(min.size(), 1u) << "an unknown resource is kept under its path";
  EXPECT_DOUBLE_EQ(min[0]["value"].get<double>(), 17.25);

  // SenML CBOR: [{0: "/3303/0/5700", 2: 22.5}].
  std::string cbor = std::string("\x81\xa2\x00\x6c", 4) + "/3303/0/5700" +
                     std::string("\x02\xfb\x40\x36\x80\x00\x00\x00\x00\x00", 10);
  ASSERT_EQ(c.Send(112, cbor).code, 204);
  EXPECT_EQ(Readings(d, "temperature").size(), 2u);
}

TEST_P(Lwm2mTest, RegisteredDeviceGetsOperationsAtOnce) {
  DeviceHandle d = CreateHttpDevice("Aalborg");
  Lwm2mClient c(port_);
  c.resources["3/0/0"] = "bysans-test-maker";
  ASSERT_EQ(c.Register({"ep=dev-1", "b=U", "k=" + d.ingest_key}, kLinks).code, 201);
  json read = QueueOperation(d, {{"kind", "read"}, {"path", "/3/0/0"}});
  EXPECT_EQ(read["state"], "queued");
  json done = WaitForOperation(d, read["id"], c);
  ASSERT_FALSE(done.is_null()) << Operations(d);
  EXPECT_EQ(done["state"], "done");
  EXPECT_EQ(done["resultCode"], "2.05");
  EXPECT_EQ(done["result"], "bysans-test-maker");

  json exec = QueueOperation(d, {{"kind", "execute"}, {"path", "/3/0/4"}});
  done = WaitForOperation(d, exec["id"], c);
  ASSERT_FALSE(done.is_null());
  EXPECT_EQ(done["resultCode"], "2.04");
  ASSERT_EQ(c.received().size(), 2u);
  EXPECT_EQ(c.received()[0].method, kGet);
  EXPECT_EQ(c.received()[1].method, kPost);
  EXPECT_EQ(c.received()[1].path, "3/0/4");
  // A read of something the client does not have: done, with its 4.04.
  json missing = QueueOperation(d, {{"kind", "read"}, {"path", "/3/0/99"}});
  done = WaitForOperation(d, missing["id"], c);
  ASSERT_FALSE(done.is_null());
  EXPECT_EQ(done["resultCode"], "4.04");
}

TEST_P(Lwm2mTest, QueueModeDeviceGetsItsWriteWhenItWakes) {
  DeviceHandle d = CreateHttpDevice("Esbjerg");
  Lwm2mClient c(port_);
  ASSERT_EQ(c.Register({"ep=meter-q", "lwm2m=1.1", "b=U", "Q", "k=" + d.ingest_key}, kLinks).code,
            201);
  EXPECT_EQ(Registration(d)["queueMode"], true);
  // Asleep (the awake window, 1.5 s in this test, has passed): the write waits.
  c.Pump(2500);
  json w = QueueOperation(d, {{"kind", "write"}, {"path", "/1/0/1"}, {"value", "120"}});
  c.Pump(3000);
  EXPECT_TRUE(c.received().empty());
  EXPECT_EQ(Operations(d)[0]["state"], "queued");
  // It wakes (an Update): the write arrives, the client answers 2.04, the API shows done.
  ASSERT_EQ(c.Update().code, 204);
  c.Pump(5000, 1);
  ASSERT_EQ(c.received().size(), 1u);
  EXPECT_EQ(c.received()[0].method, kPut);
  EXPECT_EQ(c.received()[0].path, "1/0/1");
  EXPECT_EQ(c.received()[0].payload, "120");
  EXPECT_EQ(c.received()[0].content_format, 0);
  EXPECT_EQ(c.resources["1/0/1"], "120");
  json done = WaitForOperation(d, w["id"], c);
  ASSERT_FALSE(done.is_null()) << Operations(d);
  EXPECT_EQ(done["state"], "done");
  EXPECT_EQ(done["resultCode"], "2.04");
  EXPECT_EQ(done["value"], "120");
}

TEST_P(Lwm2mTest, DtlsPskRegistrationAndAnotherDevicesIdentityRefused) {
  DeviceHandle a = CreateHttpDevice("Randers");
  DeviceHandle b = CreateHttpDevice("Kolding");
  auto psk = [&](const DeviceHandle& d, const std::string& identity) {
    auto r = admin_->PostJson(DevicePath(d) + "/coap-credentials", {{"identity", identity}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json()["key"].get<std::string>();
  };
  const std::string key_a = psk(a, "lwm2m-a");
  const std::string key_b = psk(b, "lwm2m-b");
  {
    Lwm2mClient c(dtls_port_, "lwm2m-a", key_a);
    auto reg = c.Register({"ep=dtls-a", "lt=120"}, "</3303/0>");
    ASSERT_EQ(reg.code, 201) << reg.payload;
    EXPECT_EQ(Registration(a)["endpoint"], "dtls-a");
    ASSERT_EQ(c.Send(110, R"([{"n":"/3303/0/5700","v":5.5}])").code, 204);
    EXPECT_EQ(Readings(a, "temperature").size(), 1u);
  }
  {
    // B's key with A's identity: the handshake fails, nothing is registered.
    Lwm2mClient c(dtls_port_, "lwm2m-a", key_b);
    EXPECT_EQ(c.Request(kPost, {"rd"}, {"ep=dtls-a"}, 40, "</3303/0>", 3000).code, 0);
  }
  int status = 0;
  Registration(b, &status);
  EXPECT_EQ(status, 404);
  EXPECT_EQ(Registration(a)["endpoint"], "dtls-a");
}

TEST_P(Lwm2mTest, RefusalsAndTheServerServesOn) {
  DeviceHandle a = CreateHttpDevice("Holstebro");
  DeviceHandle b = CreateHttpDevice("Viborg");
  Lwm2mClient ca(port_);
  ASSERT_EQ(ca.Register({"ep=a", "k=" + a.ingest_key}, kLinks).code, 201);

  Lwm2mClient cb(port_);
  // Unknown key, missing key.
  auto unknown = cb.Register({"ep=x", "k=not-a-key"}, kLinks);
  EXPECT_EQ(unknown.code, 403) << unknown.payload;
  auto none = cb.Register({"ep=x"}, kLinks);
  EXPECT_EQ(none.code, 401) << none.payload;
  EXPECT_NE(none.payload.find("k="), std::string::npos) << none.payload;
  // The endpoint name never identifies: B registering as "a" is B's registration.
  ASSERT_EQ(cb.Register({"ep=a", "k=" + b.ingest_key}, "</3303/0>").code, 201);
  EXPECT_EQ(Registration(b)["endpoint"], "a");
  // B with A's registration id: neither Update nor De-register (with or without B's key).
  cb.registration_id = ca.registration_id;
  EXPECT_EQ(cb.Update({"lt=5", "k=" + b.ingest_key}).code, 404);
  EXPECT_EQ(cb.Update({"lt=5"}).code, 404);
  EXPECT_EQ(cb.Deregister({"k=" + b.ingest_key}).code, 404);
  EXPECT_EQ(cb.Deregister().code, 404);
  json ra = Registration(a);
  EXPECT_EQ(ra["registered"], true);
  EXPECT_EQ(ra["lifetime"], 86400);
  EXPECT_EQ(ra["endpoint"], "a");

  // Malformed link-format, bad parameters, truncated CBOR, wrong Content-Format.
  auto bad_links = cb.Register({"ep=x", "k=" + b.ingest_key}, "</3303/0>,3304/0");
  EXPECT_EQ(bad_links.code, 400) << bad_links.payload;
  EXPECT_NE(bad_links.payload.find("link-format"), std::string::npos) << bad_links.payload;
  EXPECT_EQ(cb.Register({"ep=x", "lt=abc", "k=" + b.ingest_key}, "</3/0>").code, 400);
  std::string cbor =
      std::string("\x81\xa2\x00\x6c", 4) + "/3303/0/5700" + std::string("\x02\xfb\x40", 3);
  auto truncated = ca.Send(112, cbor);
  EXPECT_EQ(truncated.code, 400) << truncated.payload;
  EXPECT_EQ(ca.Send(50, "{}").code, 415);
  // B cannot send as A: its Send is B's (from its own endpoint and key).
  ASSERT_EQ(cb.Send(110, R"([{"n":"/3303/0/5700","v":99}])", {"k=" + b.ingest_key}).code, 204);
  EXPECT_TRUE(Readings(a, "temperature").empty());
  EXPECT_EQ(Readings(b, "temperature").size(), 1u);

  // Still serving: A's Send and Update work; /ingest too.
  EXPECT_EQ(ca.Send(110, R"([{"n":"/3303/0/5700","v":20}])").code, 204);
  EXPECT_EQ(Readings(a, "temperature").size(), 1u);
  EXPECT_EQ(ca.Update().code, 204);
  Lwm2mClient plain(port_);
  EXPECT_EQ(plain.Request(kPost, {"ingest"}, {"k=" + a.ingest_key}, 50, R"({"level": 3})").code,
            204);
}

// SenML CBOR of one temperature: [{-2: "/3303/0/", 0: "5700", 2: value}].
std::string TemperatureCbor(double v) {
  std::string out("\x81\xa3\x21\x68", 4);
  out += "/3303/0/";
  out += std::string("\x00\x64", 2) + "5700";
  out += std::string("\x02\xfb", 2);
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((bits >> (i * 8)) & 0xff));
  return out;
}

// Waits until the device has `n` readings of `key` (a notification is stored asynchronously).
json WaitReadings(Lwm2mTest& t, const DeviceHandle& d, const std::string& key, size_t n,
                  Lwm2mClient& c) {
  json r;
  for (int i = 0; i < 50; ++i) {
    r = t.ReadingsOf(d, key);
    if (r.size() >= n) return r;
    c.Pump(100);
  }
  return r;
}

TEST_P(Lwm2mTest, ObservedTemperatureNotificationsBecomeReadings) {
  DeviceHandle d = CreateHttpDevice("Vejle");
  Lwm2mClient c(port_);
  c.observable["3303/0"] = TemperatureCbor(20.5);
  ASSERT_EQ(c.Register({"ep=observed-1", "k=" + d.ingest_key}, "</1/0>,</3303/0>").code, 201);
  // bysans observes the temperature instance (GET /3303/0 with Observe=0, at its next tick).
  ASSERT_TRUE(c.WaitObserved("3303/0", 5000));
  EXPECT_EQ(c.observe_requests(), std::vector<std::string>{"3303/0"});
  // The first response is stored as readings, as a Send would be.
  json t = WaitReadings(*this, d, "temperature", 1, c);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_DOUBLE_EQ(t[0]["value"].get<double>(), 20.5);
  EXPECT_EQ(t[0]["unit"], "Cel");
  // Three notifications → three more readings with their values.
  for (double v : {21.0, 22.25, 23.5}) EXPECT_TRUE(c.Notify("3303/0", TemperatureCbor(v)));
  t = WaitReadings(*this, d, "temperature", 4, c);
  ASSERT_EQ(t.size(), 4u) << t;
  std::vector<double> values;
  for (const json& r : t) values.push_back(r["value"].get<double>());
  std::sort(values.begin(), values.end());
  EXPECT_EQ(values, (std::vector<double>{20.5, 21.0, 22.25, 23.5}));

  // A malformed notification (truncated CBOR) is dropped; the observation stays and the next
  // good one is stored.
  std::string good = TemperatureCbor(24.0);
  EXPECT_TRUE(c.Notify("3303/0", good.substr(0, good.size() - 3)));
  EXPECT_TRUE(c.Notify("3303/0", good));
  t = WaitReadings(*this, d, "temperature", 5, c);
  c.Pump(500);
  t = ReadingsOf(d, "temperature");
  ASSERT_EQ(t.size(), 5u) << t;
  EXPECT_TRUE(c.Observed("3303/0"));
  // The server still serves: a Send goes through.
  EXPECT_EQ(c.Send(112, TemperatureCbor(25.0)).code, 204);
  EXPECT_EQ(ReadingsOf(d, "temperature").size(), 6u);

  // A flood of malformed notifications is not logged line by line: the device's budget is 5
  // lines at once (the truncated one above took one), the rest are only counted.
  const std::string bad = good.substr(0, good.size() - 3);
  for (int i = 0; i < 40; ++i) EXPECT_TRUE(c.Notify("3303/0", bad, 100));
  c.Pump(500);
  size_t dropped_lines = 0;
  const std::string log = server_->log();
  for (size_t at = log.find("notification dropped"); at != std::string::npos;
       at = log.find("notification dropped", at + 1))
    ++dropped_lines;
  EXPECT_GE(dropped_lines, 5u) << log;
  EXPECT_LE(dropped_lines, 6u) << log;
  EXPECT_TRUE(c.Observed("3303/0"));
  EXPECT_EQ(ReadingsOf(d, "temperature").size(), 6u);

  // De-register ends the observation: the next notification is reset and not stored.
  ASSERT_EQ(c.Deregister().code, 202);
  EXPECT_FALSE(c.Notify("3303/0", TemperatureCbor(99.0), 1000));
  EXPECT_FALSE(c.Observed("3303/0"));
  c.Pump(500);
  EXPECT_EQ(ReadingsOf(d, "temperature").size(), 6u);
}

TEST_P(Lwm2mTest, NotificationsForAnotherSessionOrTokenAreRefused) {
  DeviceHandle a = CreateHttpDevice("Vejle");
  DeviceHandle b = CreateHttpDevice("Horsens");
  Lwm2mClient ca(port_);
  Lwm2mClient cb(port_);
  ca.observable["3303/0"] = TemperatureCbor(10.0);
  ASSERT_EQ(ca.Register({"ep=obs-a", "k=" + a.ingest_key}, "</3303/0>").code, 201);
  ASSERT_TRUE(ca.WaitObserved("3303/0", 5000));
  ASSERT_EQ(WaitReadings(*this, a, "temperature", 1, ca).size(), 1u);
  // Device b (another session) sends a notification with a's token: the server resets it,
  // nothing is stored for either device.
  ASSERT_EQ(cb.Register({"ep=obs-b", "k=" + b.ingest_key}, "</1/0>").code, 201);
  EXPECT_FALSE(cb.NotifyToken(ca.Token("3303/0"), TemperatureCbor(66.0), 1000));
  // A made-up token on a's own session is reset too.
  EXPECT_FALSE(ca.NotifyToken("madeup", TemperatureCbor(77.0), 1000));
  ca.Pump(300);
  EXPECT_EQ(ReadingsOf(a, "temperature").size(), 1u);
  EXPECT_EQ(ReadingsOf(b, "temperature").size(), 0u);
  // a's own observation is unaffected.
  EXPECT_TRUE(ca.Notify("3303/0", TemperatureCbor(11.0)));
  ASSERT_EQ(WaitReadings(*this, a, "temperature", 2, ca).size(), 2u);
  EXPECT_EQ(ReadingsOf(b, "temperature").size(), 0u);
}

TEST_P(Lwm2mTest, BatteryIsObservedAsPlainText) {
  DeviceHandle d = CreateHttpDevice("Vejle");
  Lwm2mClient c(port_);
  c.observe_format = 0;
  c.observable["3/0/9"] = "87";
  ASSERT_EQ(c.Register({"ep=battery", "k=" + d.ingest_key}, "</1/0>,</3/0>").code, 201);
  ASSERT_TRUE(c.WaitObserved("3/0/9", 5000));
  ASSERT_EQ(WaitReadings(*this, d, "batteryLevel", 1, c).size(), 1u);
  EXPECT_TRUE(c.Notify("3/0/9", "86"));
  json b = WaitReadings(*this, d, "batteryLevel", 2, c);
  ASSERT_EQ(b.size(), 2u) << b;
  EXPECT_EQ(b[0]["unit"], "%");
}

TEST_P(Lwm2mTest, ObserveAndCancelObserveThroughTheApi) {
  DeviceHandle d = CreateHttpDevice("Vejle");
  Lwm2mClient c(port_);
  c.observable["3303/0"] = TemperatureCbor(20.0);
  ASSERT_EQ(c.Register({"ep=api-observed", "k=" + d.ingest_key}, "</1/0>,</3303/0>").code, 201);
  ASSERT_TRUE(c.WaitObserved("3303/0", 5000));
  ASSERT_EQ(WaitReadings(*this, d, "temperature", 1, c).size(), 1u);
  EXPECT_TRUE(c.Notify("3303/0", TemperatureCbor(21.0)));
  ASSERT_EQ(WaitReadings(*this, d, "temperature", 2, c).size(), 2u);
  // GET .../lwm2m shows the observation with its count and last time (counts are written once
  // a second, not once a notification).
  json obs;
  EXPECT_TRUE(WaitFor(
      [&] {
        obs = Registration(d)["observations"];
        return obs.size() == 1 && obs[0]["notifications"] == 2;
      },
      5));
  ASSERT_EQ(obs.size(), 1u) << obs;
  EXPECT_EQ(obs[0]["path"], "/3303/0");
  EXPECT_EQ(obs[0]["notifications"], 2);
  EXPECT_TRUE(obs[0]["lastAt"].is_string());
  EXPECT_TRUE(obs[0]["since"].is_string());

  // cancel-observe: done at the next tick; the next notification is reset and not stored.
  json cancel = QueueOperation(d, {{"kind", "cancel-observe"}, {"path", "/3303/0"}});
  json done = WaitForOperation(d, cancel["id"], c);
  ASSERT_FALSE(done.is_null()) << Operations(d);
  EXPECT_EQ(done["state"], "done");
  EXPECT_EQ(done["result"], "observation cancelled");
  EXPECT_TRUE(Registration(d)["observations"].empty());
  EXPECT_FALSE(c.Notify("3303/0", TemperatureCbor(50.0), 1000));
  c.Pump(300);
  EXPECT_EQ(ReadingsOf(d, "temperature").size(), 2u);

  // observe: the server observes again; the first response finishes the operation (2.05).
  c.observable["3303/0"] = TemperatureCbor(22.0);
  json observe = QueueOperation(d, {{"kind", "observe"}, {"path", "/3303/0"}});
  done = WaitForOperation(d, observe["id"], c);
  ASSERT_FALSE(done.is_null()) << Operations(d);
  EXPECT_EQ(done["state"], "done") << done;
  EXPECT_EQ(done["resultCode"], "2.05") << done;
  EXPECT_EQ(c.observe_requests().size(), 2u);
  ASSERT_TRUE(c.Observed("3303/0"));
  ASSERT_EQ(WaitReadings(*this, d, "temperature", 3, c).size(), 3u);
  EXPECT_TRUE(c.Notify("3303/0", TemperatureCbor(23.0)));
  ASSERT_EQ(WaitReadings(*this, d, "temperature", 4, c).size(), 4u);
  EXPECT_EQ(Registration(d)["observations"].size(), 1u);
  // De-registered: no observation is shown (nor kept).
  ASSERT_EQ(c.Deregister().code, 202);
  EXPECT_FALSE(c.Notify("3303/0", TemperatureCbor(24.0), 1000));
}

TEST_P(Lwm2mTest, QueueModeDeviceIsObservedOnlyWhenAwake) {
  DeviceHandle d = CreateHttpDevice("Esbjerg");
  Lwm2mClient c(port_);
  c.observable["3303/0"] = TemperatureCbor(12.5);
  // Nothing to observe at registration (</1/0> only); then it sleeps (1.5 s awake window).
  ASSERT_EQ(c.Register({"ep=sleepy", "lwm2m=1.1", "b=U", "Q", "k=" + d.ingest_key}, "</1/0>").code,
            201);
  c.Pump(2500);
  json observe = QueueOperation(d, {{"kind", "observe"}, {"path", "/3303/0"}});
  c.Pump(3000);
  EXPECT_TRUE(c.observe_requests().empty()) << "asleep: not observed";
  EXPECT_EQ(Operations(d)[0]["state"], "queued");
  // It wakes (an Update): observed, the first response stored.
  ASSERT_EQ(c.Update().code, 204);
  ASSERT_TRUE(c.WaitObserved("3303/0", 5000));
  json done = WaitForOperation(d, observe["id"], c);
  ASSERT_FALSE(done.is_null()) << Operations(d);
  EXPECT_EQ(done["resultCode"], "2.05");
  json t = WaitReadings(*this, d, "temperature", 1, c);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_DOUBLE_EQ(t[0]["value"].get<double>(), 12.5);
}

class Lwm2mObserveOffTest : public Lwm2mTest {
 protected:
  std::vector<std::string> Lwm2mEnv() const override {
    return {"BYSANS_COAP_ENABLED=true", "BYSANS_COAP_UDP_PORT=0", "BYSANS_COAP_DTLS_PORT=0",
            "BYSANS_COAP_LWM2M_OBSERVE=false"};
  }
};

BYSANS_ON_BOTH_STORES(Lwm2mObserveOffTest);

TEST_P(Lwm2mObserveOffTest, NothingIsObservedWhenSwitchedOff) {
  DeviceHandle d = CreateHttpDevice("Vejle");
  Lwm2mClient c(port_);
  c.observable["3303/0"] = TemperatureCbor(20.0);
  ASSERT_EQ(c.Register({"ep=unobserved", "k=" + d.ingest_key}, "</3303/0>").code, 201);
  EXPECT_FALSE(c.WaitObserved("3303/0", 2500));
  EXPECT_TRUE(c.observe_requests().empty());
}

// An editor observing path after path through the API: each is an observation held by the server
// and the device, so a device has at most coap.lwm2m_max_api_observations (2 here) at once; the
// next fails, saying so, until one is cancelled.
class Lwm2mObserveCapTest : public Lwm2mTest {
 protected:
  std::vector<std::string> Lwm2mEnv() const override {
    return {"BYSANS_COAP_ENABLED=true", "BYSANS_COAP_UDP_PORT=0", "BYSANS_COAP_DTLS_PORT=0",
            "BYSANS_COAP_LWM2M_OBSERVE=false", "BYSANS_COAP_LWM2M_MAX_API_OBSERVATIONS=2"};
  }
};

BYSANS_ON_BOTH_STORES(Lwm2mObserveCapTest);

TEST_P(Lwm2mObserveCapTest, ADeviceHasAtMostTheCapOfApiObservations) {
  DeviceHandle d = CreateHttpDevice("Vejle");
  Lwm2mClient c(port_);
  for (const char* path : {"3303/0", "3303/1", "3303/2"}) c.observable[path] = TemperatureCbor(20);
  ASSERT_EQ(
      c.Register({"ep=observed-often", "k=" + d.ingest_key}, "</3303/0>,</3303/1>,</3303/2>").code,
      201);
  auto observe = [&](const std::string& path) {
    json op = QueueOperation(d, {{"kind", "observe"}, {"path", path}});
    return WaitForOperation(d, op["id"], c);
  };
  EXPECT_EQ(observe("/3303/0")["state"], "done");
  EXPECT_EQ(observe("/3303/1")["state"], "done");
  json third = observe("/3303/2");
  EXPECT_EQ(third["state"], "failed") << third;
  EXPECT_NE(third.value("error", "").find("already has 2 observations"), std::string::npos)
      << third;
  EXPECT_FALSE(c.Observed("3303/2"));
  EXPECT_EQ(observe("/3303/1")["state"], "done");  // a path it has: observed again, within the cap
  json cancel = QueueOperation(d, {{"kind", "cancel-observe"}, {"path", "/3303/0"}});
  EXPECT_EQ(WaitForOperation(d, cancel["id"], c)["state"], "done");
  json now = observe("/3303/2");
  EXPECT_EQ(now["state"], "done") << now;
  EXPECT_TRUE(c.Observed("3303/2"));
}

}  // namespace
}  // namespace bysans::testing
