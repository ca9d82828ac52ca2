// Downlinks to CoAP devices (issue 20) against the real server: a downlink to an HTTP device is
// queued (POST /api/v1/devices/{id}/downlink) and the 2.04 answer to the device's next stored
// CoAP uplink carries it (Content-Format 42), one per answer, the count of the others in
// option 65000; the history shows it sent. No other device ever gets it; it survives a restart;
// a separate confirmable answer that the device resets puts it back in the queue.
#include <gtest/gtest.h>

#include "coap_fixture.h"

namespace bysans::testing {
namespace {

constexpr int kPendingOption = 65000;

std::optional<std::string> Option(const CoapMessage& m, int number) {
  for (const auto& [n, v] : m.options)
    if (n == number) return v;
  return std::nullopt;
}

class CoapDownlinkTest : public CoapTest {
 protected:
  std::string DevicePath(int64_t id) { return "/api/v1/devices/" + std::to_string(id); }

  json Queue(int64_t device_id, const json& body) {
    auto r = admin_->PostJson(DevicePath(device_id) + "/downlink", body);
    EXPECT_EQ(r.status, 202) << r.body;
    return r.Json();
  }

  json History(int64_t device_id) { return Items(DevicePath(device_id) + "/downlink"); }

  // A stored uplink's final answer.
  CoapMessage Uplink(RawCoapDevice& dev, const std::string& key, uint16_t mid) {
    auto req = RawCoapDevice::Post(mid, key, 50, R"({"n": )" + std::to_string(mid) + "}");
    dev.Send(req);
    auto a = dev.Answer(req);
    EXPECT_TRUE(a) << "no answer to mid " << mid;
    if (!a) return {};
    EXPECT_EQ(a->code, 204) << a->payload;
    return *a;
  }
};

BYSANS_ON_BOTH_STORES(CoapDownlinkTest);

TEST_P(CoapDownlinkTest, QueuedDownlinkRidesOnTheNextAnswerOnly) {
  DeviceHandle d = CreateHttpDevice("Aarhus");
  DeviceHandle other = CreateHttpDevice("Vejle");
  json q = Queue(d.device_id, {{"hex", "0a0b0c"}});
  EXPECT_EQ(q.value("status", ""), "queued");
  EXPECT_EQ(q.value("topic", ""), "coap");

  RawCoapDevice stranger(port_);
  CoapMessage a = Uplink(stranger, other.ingest_key, 1);
  EXPECT_TRUE(a.payload.empty()) << "another device never gets it";
  EXPECT_FALSE(Option(a, 12));

  RawCoapDevice dev(port_);
  a = Uplink(dev, d.ingest_key, 10);
  EXPECT_EQ(a.payload, std::string("\x0a\x0b\x0c", 3));
  EXPECT_EQ(Option(a, 12), UintOption(42)) << "Content-Format application/octet-stream";
  EXPECT_FALSE(Option(a, kPendingOption)) << "nothing more queued";
  json h = History(d.device_id);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].value("status", ""), "sent");

  a = Uplink(dev, d.ingest_key, 11);
  EXPECT_TRUE(a.payload.empty()) << "the next answer does not carry it again";
  EXPECT_FALSE(Option(a, 12));
  EXPECT_EQ(Messages(d.device_id), 2u);
  EXPECT_TRUE(History(other.device_id).empty());
}

// Uplinks committed together are answered together: the CoAP thread asks once which devices
// have queued downlinks and takes only theirs; each answer still carries its own device's.
TEST_P(CoapDownlinkTest, UplinksAnsweredTogetherEachCarryTheirOwnDownlink) {
  constexpr int kDevices = 12;
  std::vector<DeviceHandle> devices;
  std::vector<std::unique_ptr<RawCoapDevice>> raw;
  for (int i = 0; i < kDevices; ++i) {
    devices.push_back(CreateHttpDevice("Meter " + std::to_string(i)));
    raw.push_back(std::make_unique<RawCoapDevice>(port_));
  }
  for (int i = 0; i < kDevices; i += 3)
    Queue(devices[i].device_id, {{"hex", "0" + std::to_string(i % 10) + "ff"}});
  for (int round = 0; round < 2; ++round) {
    std::vector<CoapMessage> requests;
    for (int i = 0; i < kDevices; ++i) {  // all at once: the same group commit, mostly
      const uint16_t mid = static_cast<uint16_t>(100 + round);
      requests.push_back(RawCoapDevice::Post(mid, devices[i].ingest_key, 50, R"({"n": 1})"));
      raw[i]->Send(requests.back());
    }
    for (int i = 0; i < kDevices; ++i) {
      auto a = raw[i]->Answer(requests[i]);
      ASSERT_TRUE(a) << "device " << i;
      EXPECT_EQ(a->code, 204) << a->payload;
      if (round == 0 && i % 3 == 0) {
        EXPECT_EQ(a->payload, (std::string{static_cast<char>(i % 10), '\xff'}))
            << "device " << i << " gets its own downlink";
      } else {
        EXPECT_TRUE(a->payload.empty()) << "device " << i << " has none (left)";
      }
    }
  }
  for (int i = 0; i < kDevices; i += 3)
    for (const json& h : History(devices[i].device_id)) EXPECT_EQ(h["status"], "sent");
}

TEST_P(CoapDownlinkTest, OnePerAnswerOldestFirstWithTheCountOfTheRest) {
  DeviceHandle d = CreateHttpDevice("Odense");
  Queue(d.device_id, {{"hex", "01"}});
  Queue(d.device_id, {{"hex", "02"}});
  Queue(d.device_id, {{"data", "Aw=="}});  // 03
  RawCoapDevice dev(port_);
  CoapMessage a = Uplink(dev, d.ingest_key, 20);
  EXPECT_EQ(a.payload, "\x01");
  EXPECT_EQ(Option(a, kPendingOption), UintOption(2));
  a = Uplink(dev, d.ingest_key, 21);
  EXPECT_EQ(a.payload, "\x02");
  EXPECT_EQ(Option(a, kPendingOption), UintOption(1));
  a = Uplink(dev, d.ingest_key, 22);
  EXPECT_EQ(a.payload, "\x03");
  EXPECT_FALSE(Option(a, kPendingOption));
  a = Uplink(dev, d.ingest_key, 23);
  EXPECT_TRUE(a.payload.empty());
  for (const json& item : History(d.device_id)) EXPECT_EQ(item.value("status", ""), "sent");
}

// A retransmission of the request that carried a downlink gets the same answer (the same
// downlink), and no other downlink is taken for it.
TEST_P(CoapDownlinkTest, RetransmissionGetsTheSameDownlink) {
  DeviceHandle d = CreateHttpDevice("Kolding");
  Queue(d.device_id, {{"hex", "aa"}});
  Queue(d.device_id, {{"hex", "bb"}});
  RawCoapDevice dev(port_);
  auto req = RawCoapDevice::Post(30, d.ingest_key, 50, R"({"x": 1})");
  dev.Send(req);
  auto a = dev.Answer(req);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->payload, "\xaa");
  dev.Send(req);  // the ACK was lost
  a = dev.Answer(req);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->payload, "\xaa");
  EXPECT_EQ(Option(*a, kPendingOption), UintOption(1));
  EXPECT_EQ(Messages(d.device_id), 1u);
  CoapMessage next = Uplink(dev, d.ingest_key, 31);
  EXPECT_EQ(next.payload, "\xbb");
}

TEST_P(CoapDownlinkTest, QueuedDownlinkSurvivesARestart) {
  DeviceHandle d = CreateHttpDevice("Viborg");
  Queue(d.device_id, {{"hex", "beef"}});
  ASSERT_EQ(server_->Terminate(), 0) << server_->log();
  std::string dir = server_->data_dir();
  auto keep = std::move(server_);  // keeps the temporary directory
  StartServer(dir);
  std::ifstream f(server_->data_dir() + "/coap.url");
  std::string url;
  std::getline(f, url);
  port_ = std::stoi(url.substr(url.rfind(':') + 1));
  RawCoapDevice dev(port_);
  CoapMessage a = Uplink(dev, d.ingest_key, 40);
  EXPECT_EQ(a.payload, "\xbe\xef");
}

// An object downlink is encoded by the device's decoder (encodeDownlink) and queued as bytes.
TEST_P(CoapDownlinkTest, ObjectDownlinkIsEncodedByTheDecoder) {
  DeviceHandle d = CreateHttpDevice("Horsens");
  auto dec = admin_->PostJson("/api/v1/organizations/" + std::to_string(d.org_id) + "/decoders",
                              {{"name", "valve"},
                               {"code",
                                "function decodeUplink(input) { return {data: {}}; }\n"
                                "function encodeDownlink(input) { return {bytes: [input.data.open "
                                "? 1 : 0, 7], fPort: 1}; }"}});
  ASSERT_EQ(dec.status, 201) << dec.body;
  AttachDecoder(d.device_id, dec.Json()["id"]);
  json q = Queue(d.device_id, {{"object", {{"open", true}}}});
  EXPECT_EQ(q.value("status", ""), "queued") << q.dump();
  RawCoapDevice dev(port_);
  CoapMessage a = Uplink(dev, d.ingest_key, 50);
  EXPECT_EQ(a.payload, std::string("\x01\x07", 2));
  json h = History(d.device_id);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0]["object"], json({{"open", true}}));
}

// A refused uplink (wrong format) takes no downlink; neither does a DTLS uplink of another
// device. The DTLS device gets its own.
TEST_P(CoapDownlinkTest, RefusedUplinksTakeNoDownlinkAndDtlsDevicesGetTheirOwn) {
  DeviceHandle d = CreateHttpDevice("Silkeborg");
  DeviceHandle e = CreateHttpDevice("Skive");
  Queue(d.device_id, {{"hex", "0102"}});
  RawCoapDevice dev(port_);
  auto bad = RawCoapDevice::Post(60, d.ingest_key, 50, R"({"t": )");
  dev.Send(bad);
  auto a = dev.Answer(bad);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code, 400);
  EXPECT_EQ(History(d.device_id)[0].value("status", ""), "queued");

  auto [e_identity, e_key] = CreatePsk(e.device_id, "skive-1");
  auto [rc, out] = CoapsPost(e_identity, e_key, R"({"v": 1})");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(History(d.device_id)[0].value("status", ""), "queued");

  auto [d_identity, d_key] = CreatePsk(d.device_id, "silkeborg-1");
  std::tie(rc, out) = CoapsPost(d_identity, d_key, R"({"v": 2})");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\x01\x02"), std::string::npos) << out;
  EXPECT_EQ(History(d.device_id)[0].value("status", ""), "sent");
}

// Separate answers (coap.piggyback_ms=0): a confirmable answer carrying a downlink that the
// device resets puts the downlink back in the queue; the next answer carries it again.
class CoapDownlinkSeparateTest : public CoapDownlinkTest {
 protected:
  void SetUp() override {
    server_env_ = {"BYSANS_COAP_PIGGYBACK_MS=0"};
    CoapDownlinkTest::SetUp();
  }
};

BYSANS_ON_BOTH_STORES(CoapDownlinkSeparateTest);

TEST_P(CoapDownlinkSeparateTest, ResetAnswerQueuesTheDownlinkAgain) {
  DeviceHandle d = CreateHttpDevice("Herning");
  Queue(d.device_id, {{"hex", "c0ffee"}});
  RawCoapDevice dev(port_);
  auto req = RawCoapDevice::Post(70, d.ingest_key, 50, R"({"x": 1})");
  dev.Send(req);
  auto ack = dev.Receive();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->type, 2);
  EXPECT_EQ(ack->code, 0);
  auto sep = dev.Receive();
  ASSERT_TRUE(sep);
  EXPECT_EQ(sep->type, 0);
  EXPECT_EQ(sep->payload, "\xc0\xff\xee");
  dev.Send(CoapMessage{3, 0, sep->mid, "", {}, ""});  // RST
  json h;
  for (int i = 0; i < 50; ++i) {
    h = History(d.device_id);
    if (!h.empty() && h[0].value("status", "") == "queued") break;
    usleep(100'000);
  }
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].value("status", ""), "queued");
  EXPECT_NE(h[0].value("error", "").find("reset"), std::string::npos) << h.dump();
  CoapMessage a = Uplink(dev, d.ingest_key, 71);
  EXPECT_EQ(a.payload, "\xc0\xff\xee");
  EXPECT_EQ(History(d.device_id)[0].value("status", ""), "sent");
}

}  // namespace
}  // namespace bysans::testing
