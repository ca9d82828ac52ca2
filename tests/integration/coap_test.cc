// CoAP ingest (issue 20) against the real server: libcoap's own coap-client as the device for
// the formats, a raw UDP client (coap_client.h) for message ids, retransmissions and malformed
// input. The answer to a confirmable POST comes after the commit (on the ACK when it is quick).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "coap_fixture.h"

namespace bysans::testing {
namespace {

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

BYSANS_ON_BOTH_STORES(CoapTest);

TEST_P(CoapTest, CoapClientPostsJsonSenmlJsonAndSenmlCbor) {
  DeviceHandle d = CreateHttpDevice("Aarhus");
  auto [rc, out] = CoapClientPost(d.ingest_key, "50", R"({"level": 42.5})");
  EXPECT_EQ(rc, 0) << out;
  auto level = Readings(d.device_id, "level");
  ASSERT_EQ(level.size(), 1u) << out;
  EXPECT_DOUBLE_EQ(level[0]["value"].get<double>(), 42.5);

  std::tie(rc, out) =
      CoapClientPost(d.ingest_key, "110", R"([{"bn":"bin1/","n":"fill","u":"%","v":73}])");
  EXPECT_EQ(rc, 0) << out;
  auto fill = Readings(d.device_id, "bin1/fill");
  ASSERT_EQ(fill.size(), 1u) << out;
  EXPECT_EQ(fill[0]["unit"], "%");

  // [{-2: "wm/", 0: "flow", 1: "m3", 2: 21.5}] in CBOR (RFC 8428 §6 labels).
  std::string cbor = std::string("\x81\xa4\x21\x63wm/", 7) + std::string("\x00\x64", 2) + "flow" +
                     std::string("\x01\x62", 2) + "m3" +
                     std::string("\x02\xfb\x40\x35\x80\x00\x00\x00\x00\x00", 10);
  std::tie(rc, out) = CoapClientPost(d.ingest_key, "112", cbor);
  EXPECT_EQ(rc, 0) << out;
  auto flow = Readings(d.device_id, "wm/flow");
  ASSERT_EQ(flow.size(), 1u) << out;
  EXPECT_DOUBLE_EQ(flow[0]["value"].get<double>(), 21.5);
  EXPECT_EQ(flow[0]["unit"], "m3");
  EXPECT_EQ(Messages(d.device_id), 3u);
}

TEST_P(CoapTest, RawBytesGoToTheDevicesDecoder) {
  DeviceHandle d = CreateHttpDevice("Vejle");
  auto dec = admin_->PostJson(
      "/api/v1/organizations/" + std::to_string(d.org_id) + "/decoders",
      {{"name", "meter"},
       {"code",
        "function decodeUplink(input) { return {data: {litres: input.bytes[0] * 256 + "
        "input.bytes[1]}}; }"}});
  ASSERT_EQ(dec.status, 201) << dec.body;
  AttachDecoder(d.device_id, dec.Json()["id"]);
  RawCoapDevice dev(port_);
  auto req = RawCoapDevice::Post(100, d.ingest_key, 42, std::string("\x01\x2c", 2));
  dev.Send(req);
  auto answer = dev.Answer(req);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->code, 204) << answer->payload;
  auto litres = Readings(d.device_id, "litres");
  ASSERT_EQ(litres.size(), 1u);
  EXPECT_EQ(litres[0]["value"], 300);
}

// A quick commit (the group commit's 5 ms): the 2.04 is piggybacked on the ACK, after the
// commit — two datagrams. The window is the longest allowed (1 s, not the default 100 ms), so that
// a commit slowed by a busy machine (CI running other servers beside) is still within it.
class CoapPiggybackTest : public CoapTest {
 protected:
  void SetUp() override {
    server_env_ = {"BYSANS_COAP_PIGGYBACK_MS=1000"};
    CoapTest::SetUp();
  }
};

BYSANS_ON_BOTH_STORES(CoapPiggybackTest);

TEST_P(CoapPiggybackTest, QuickCommitIsAnsweredOnTheAck) {
  DeviceHandle d = CreateHttpDevice("Odense");
  RawCoapDevice dev(port_);
  auto req = RawCoapDevice::Post(7, d.ingest_key, 50, R"({"t": 1})");
  dev.Send(req);
  auto first = dev.Receive();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->type, 2);  // ACK
  EXPECT_EQ(first->mid, 7);
  EXPECT_EQ(first->code, 204);  // piggybacked
  EXPECT_EQ(first->token, req.token);
  EXPECT_FALSE(dev.Receive(300)) << "nothing more: no separate response";
  // Answered means committed: the message is there when the answer is.
  EXPECT_EQ(Messages(d.device_id), 1u);
}

// A flood from many source addresses and ports (each a libcoap session, kept 300 s when idle)
// holds at most coap.max_idle_sessions (32 here) of them; a device sending afterwards is served.
class CoapSessionCapTest : public CoapTest {
 protected:
  void SetUp() override {
    server_env_ = {"BYSANS_COAP_MAX_IDLE_SESSIONS=32"};
    CoapTest::SetUp();
  }
};

BYSANS_ON_BOTH_STORES(CoapSessionCapTest);

TEST_P(CoapSessionCapTest, AFloodFromManyPortsHoldsBoundedSessions) {
  DeviceHandle d = CreateHttpDevice("Odense");
  double most = 0;
  for (int i = 0; i < 300; ++i) {
    RawCoapDevice stranger(port_);  // a new source port each
    auto req = RawCoapDevice::Post(static_cast<uint16_t>(i), "not-a-key", 50, R"({"t": 1})");
    stranger.Send(req);
    auto answer = stranger.Answer(req);
    ASSERT_TRUE(answer) << i;
    EXPECT_EQ(answer->code, 403) << i;  // 4.03: no such key
    if (i % 20 == 19) most = std::max(most, MetricLine("bysans_coap_sessions"));
  }
  EXPECT_GE(most, 20);  // sessions are counted...
  EXPECT_LE(most, 33);  // ... and bounded: 32 idle, and the one being answered
  RawCoapDevice dev(port_);
  auto req = RawCoapDevice::Post(1, d.ingest_key, 50, R"({"t": 2})");
  dev.Send(req);
  auto answer = dev.Answer(req);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->code, 204) << answer->payload;
  EXPECT_EQ(Messages(d.device_id), 1u);
}

// A commit slower than coap.piggyback_ms (0 here): the empty ACK first, then the 2.04 as a
// separate confirmable response after the commit, which the device acknowledges.
class CoapSeparateTest : public CoapTest {
 protected:
  void SetUp() override {
    server_env_ = {"BYSANS_COAP_PIGGYBACK_MS=0"};
    CoapTest::SetUp();
  }
};

BYSANS_ON_BOTH_STORES(CoapSeparateTest);

TEST_P(CoapSeparateTest, SlowCommitGetsTheEmptyAckThenTheSeparateResponse) {
  DeviceHandle d = CreateHttpDevice("Odense");
  RawCoapDevice dev(port_);
  auto req = RawCoapDevice::Post(7, d.ingest_key, 50, R"({"t": 1})");
  dev.Send(req);
  auto first = dev.Receive();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->type, 2);  // ACK
  EXPECT_EQ(first->mid, 7);
  EXPECT_EQ(first->code, 0);  // empty: the commit is not done yet
  auto second = dev.Receive();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->type, 0);  // separate, confirmable
  EXPECT_EQ(second->code, 204);
  EXPECT_EQ(second->token, req.token);
  EXPECT_NE(second->mid, 7);
  dev.Send(CoapMessage{2, 0, second->mid, "", {}, ""});
  EXPECT_FALSE(dev.Receive(300)) << "the acknowledged response is not sent again";
  EXPECT_EQ(Messages(d.device_id), 1u);
  // libcoap's coap-client takes the separate response too.
  auto [rc, out] = CoapClientPost(d.ingest_key, "50", R"({"t": 2})");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(Messages(d.device_id), 2u);
}

TEST_P(CoapTest, WrongOrMissingKeyIsRefused) {
  DeviceHandle d = CreateHttpDevice("Aalborg");
  RawCoapDevice dev(port_);
  auto wrong = RawCoapDevice::Post(1, "not-a-key", 50, R"({"t": 1})");
  dev.Send(wrong);
  auto a = dev.Answer(wrong);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code, 403);
  EXPECT_EQ(a->type, 2);  // piggybacked on the ACK
  EXPECT_NE(a->payload.find("unknown device key"), std::string::npos) << a->payload;
  auto none = RawCoapDevice::Post(2, "", 50, R"({"t": 1})");
  dev.Send(none);
  a = dev.Answer(none);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code, 401);
  // coap-client with a wrong key stores nothing either.
  auto [rc, out] = CoapClientPost(d.ingest_key + "x", "50", R"({"t": 2})");
  EXPECT_NE(out.find("4.03"), std::string::npos) << out;
  EXPECT_EQ(Messages(d.device_id), 0u);
}

TEST_P(CoapTest, BadInputGetsAnErrorAndTheServerKeepsServing) {
  DeviceHandle d = CreateHttpDevice("Esbjerg");
  RawCoapDevice dev(port_);
  auto expect_code = [&](const CoapMessage& req, int code, const std::string& text) {
    dev.Send(req);
    auto a = dev.Answer(req);
    ASSERT_TRUE(a) << "no answer to mid " << req.mid;
    EXPECT_EQ(a->code, code) << a->payload;
    EXPECT_NE(a->payload.find(text), std::string::npos) << a->payload;
  };
  // Malformed JSON, truncated CBOR, unsupported Content-Format, oversize payload.
  expect_code(RawCoapDevice::Post(10, d.ingest_key, 50, R"({"t": )"), 400, "");
  expect_code(RawCoapDevice::Post(11, d.ingest_key, 112, std::string("\x81\xa4\x21\x63wm", 6)), 400,
              "truncated");
  expect_code(RawCoapDevice::Post(12, d.ingest_key, 0, "hello"), 415, "Content-Format");
  auto big = RawCoapDevice::Post(13, d.ingest_key, 50, std::string(1060, ' '));
  dev.Send(big);
  auto a = dev.Answer(big);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code, 413);
  bool size1 = false;
  for (const auto& [n, v] : a->options) size1 |= n == 60 && v == UintOption(1024);
  EXPECT_TRUE(size1) << "413 carries Size1 = the limit";

  // An unknown critical option (number 9): 4.02 Bad Option from libcoap.
  auto crit = RawCoapDevice::Post(14, d.ingest_key, 50, R"({"t": 1})");
  crit.options.insert(crit.options.begin(), {9, "x"});
  dev.Send(crit);
  a = dev.Answer(crit);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code, 402);
  // Malformed options (reserved delta nibble 15 before the payload marker), a truncated header,
  // a datagram bigger than libcoap takes (reset): no crash, no store.
  dev.SendBytes(std::string("\x40\x02\x00\x0f\xf1\x00", 6));
  dev.SendBytes(std::string("\x40\x02", 2));
  auto huge = RawCoapDevice::Post(16, d.ingest_key, 50, std::string(3000, '1'));
  dev.Send(huge);
  while (dev.Receive(500)) {
  }
  EXPECT_EQ(Messages(d.device_id), 0u);

  expect_code(RawCoapDevice::Post(20, d.ingest_key, 50, R"({"still": 1})"), 204, "");
  EXPECT_EQ(Messages(d.device_id), 1u);
}

TEST_P(CoapTest, RetransmittedConfirmablePostIsStoredOnce) {
  DeviceHandle d = CreateHttpDevice("Randers");
  RawCoapDevice dev(port_);
  auto req = RawCoapDevice::Post(321, d.ingest_key, 50, R"({"count": 5})");
  // Sent three times at once (ACK lost, client retransmits), and once more after the answer.
  dev.Send(req);
  dev.Send(req);
  dev.Send(req);
  auto a = dev.Answer(req);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code, 204);
  while (dev.Receive(300)) {
  }
  dev.Send(req);
  a = dev.Answer(req);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code, 204) << "a late retransmission gets the same answer";
  EXPECT_EQ(Messages(d.device_id), 1u);
  EXPECT_EQ(Readings(d.device_id, "count").size(), 1u);

  // The same message id from another endpoint is another message.
  RawCoapDevice other(port_);
  other.Send(req);
  a = other.Answer(req);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code, 204);
  EXPECT_EQ(Messages(d.device_id), 2u);
}

TEST_P(CoapTest, NonConfirmablePostIsStoredAndAnswered) {
  DeviceHandle d = CreateHttpDevice("Kolding");
  RawCoapDevice dev(port_);
  auto req = RawCoapDevice::Post(900, d.ingest_key, 50, R"({"x": 1})", /*type=*/1);
  dev.Send(req);
  auto a = dev.Answer(req);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->type, 1);
  EXPECT_EQ(a->code, 204);
  EXPECT_EQ(Messages(d.device_id), 1u);
}

// Answered means committed: a kill -9 right after the last 2.04 loses none of the answered
// messages (4 devices posting at once, so group commits hold several).
TEST_P(CoapTest, AnsweredMessagesSurviveKill9) {
  DeviceHandle d = CreateHttpDevice("Viborg");
  std::vector<std::unique_ptr<RawCoapDevice>> devs;
  for (int i = 0; i < 4; ++i) devs.push_back(std::make_unique<RawCoapDevice>(port_));
  int answered = 0;
  for (int round = 0; round < 15; ++round) {
    std::vector<CoapMessage> reqs;
    for (int i = 0; i < 4; ++i) {
      // Each message its own time: readings of one key at the same millisecond are one reading.
      json body = {{"seq", round * 4 + i}, {"timestamp", 1'700'000'000'000 + round * 4 + i}};
      reqs.push_back(RawCoapDevice::Post(static_cast<uint16_t>(1000 + round * 4 + i), d.ingest_key,
                                         50, body.dump()));
      devs[i]->Send(reqs.back());
    }
    for (int i = 0; i < 4; ++i) {
      auto a = devs[i]->Answer(reqs[i]);
      ASSERT_TRUE(a);
      ASSERT_EQ(a->code, 204);
      ++answered;
    }
  }
  server_->Kill9();
  std::string dir = server_->data_dir();
  auto keep = std::move(server_);  // keeps the temporary directory
  server_ = std::make_unique<ServerProcess>(dir);
  server_->SetEnv(server_env_);
  ASSERT_TRUE(server_->Start()) << server_->log();
  admin_ = std::make_unique<HttpClient>(server_->url());
  ASSERT_EQ(admin_->Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword).status, 200);
  const std::string dev = "/api/v1/devices/" + std::to_string(d.device_id);
  EXPECT_EQ(static_cast<int>(Items(dev + "/messages?limit=1000").size()), answered);
  auto seqs = Items(dev + "/readings?key=seq&limit=1000&from=1700000000000&to=1700000001000");
  EXPECT_EQ(static_cast<int>(seqs.size()), answered);
}

TEST_P(CoapTest, DtlsWithTheDevicesPskIsStored) {
  DeviceHandle d = CreateHttpDevice("Silkeborg");
  auto [identity, key] = CreatePsk(d.device_id, "meter-17");
  ASSERT_FALSE(key.empty());
  auto [rc, out] = CoapsPost(identity, key, R"({"volume": 12.5})");
  EXPECT_EQ(rc, 0) << out;
  auto volume = Readings(d.device_id, "volume");
  ASSERT_EQ(volume.size(), 1u) << out;
  EXPECT_DOUBLE_EQ(volume[0]["value"].get<double>(), 12.5);
  // The key is never in the server's log.
  EXPECT_EQ(server_->log().find(key), std::string::npos);
}

TEST_P(CoapTest, DtlsWithAWrongKeyOrAnotherDevicesIdentityIsRefused) {
  DeviceHandle a = CreateHttpDevice("Horsens");
  DeviceHandle b = CreateHttpDevice("Herning");
  auto [id_a, key_a] = CreatePsk(a.device_id, "meter-a");
  auto [id_b, key_b] = CreatePsk(b.device_id, "meter-b");
  // A wrong key: the handshake fails, nothing is stored.
  auto [rc, out] = CoapsPost(id_a, key_a + "x", R"({"t": 1})");
  EXPECT_EQ(Messages(a.device_id), 0u) << out;
  // B's identity with A's key: refused in the handshake; neither device gets data.
  std::tie(rc, out) = CoapsPost(id_b, key_a, R"({"t": 2})");
  EXPECT_EQ(Messages(a.device_id), 0u) << out;
  EXPECT_EQ(Messages(b.device_id), 0u) << out;
  // An unknown identity.
  std::tie(rc, out) = CoapsPost("nobody", key_a, R"({"t": 3})");
  EXPECT_EQ(Messages(a.device_id), 0u) << out;
  // The right pairs work (the refusals were not a broken endpoint), each for its own device.
  std::tie(rc, out) = CoapsPost(id_a, key_a, R"({"t": 4})");
  EXPECT_EQ(Messages(a.device_id), 1u) << out;
  std::tie(rc, out) = CoapsPost(id_b, key_b, R"({"t": 5})");
  EXPECT_EQ(Messages(b.device_id), 1u) << out;
  EXPECT_EQ(Messages(a.device_id), 1u);
  // After a rotation the old key no longer completes a handshake.
  auto [id_a2, key_a2] = CreatePsk(a.device_id, "meter-a");
  ASSERT_NE(key_a2, key_a);
  std::tie(rc, out) = CoapsPost(id_a, key_a, R"({"t": 6})");
  EXPECT_EQ(Messages(a.device_id), 1u) << out;
  std::tie(rc, out) = CoapsPost(id_a2, key_a2, R"({"t": 7})");
  EXPECT_EQ(Messages(a.device_id), 2u) << out;
}

}  // namespace
}  // namespace bysans::testing
