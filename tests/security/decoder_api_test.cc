// The decoder API's new surfaces against the real server (issue 15 items 2, 3 and 7): a
// downlink given as an object is encoded by the device's own decoder only for an editor of the
// device's organisation (B's editor: 404 and nothing published or recorded; A's viewer: 403); a
// contract outside the allowed list is refused everywhere it is accepted; a decoder's stored
// errors and warnings are visible to A's viewers and to no one of B. Each test also checks the
// legitimate use, so it cannot pass by everything being broken.
#include <chrono>
#include <string>
#include <thread>

#include "integration/mqtt_fixture.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

constexpr const char* kCodec =
    "function decodeUplink(input) { return {data: {n: input.bytes.length}}; }"
    "function encodeDownlink(input) {"
    "  if (typeof input.data.led !== 'boolean') return {errors: ['led must be true or false']};"
    "  return {bytes: [input.data.led ? 1 : 0, 0xAB], fPort: 7, warnings: ['sent as is']}; }";

class DecoderApiSecurityTest : public SecurityTest {
 protected:
  // An MQTT device of `t` (its JSON, with the broker credentials).
  json MqttDevice(Tenant& t, const std::string& name) {
    auto dev = Send(*t.admin.client, "POST", t.AppPath() + "/devices",
                    {{"name", name}, {"transport", "mqtt"}});
    EXPECT_EQ(dev.status, 201) << dev.body;
    return dev.Json();
  }

  int64_t Decoder(Tenant& t, const std::string& code) {
    auto r = Send(*t.editor.client, "POST", t.OrgPath() + "/decoders",
                  {{"name", "codec"}, {"code", code}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("id", int64_t{0});
  }

  static std::string DevicePath(int64_t id) { return "/api/v1/devices/" + std::to_string(id); }

  json History(Tenant& t, int64_t device) {
    auto r = t.viewer.client->Get(DevicePath(device) + "/downlink");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().value("items", json::array());
  }

  // A connected device peer subscribed to its down topic.
  std::unique_ptr<Peer> Listen(const json& dev) {
    const std::string url = ReadLine(fs::path(server_->data_dir()) / "mqtt.url");
    const json& m = dev["mqtt"];
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto p = std::make_unique<Peer>(m.value("username", "") + "-" + std::to_string(attempt));
      if (p->Connect(url, m.value("username", ""), m.value("password", "")) == 0) {
        if (p->Subscribe(m.value("downTopic", ""))) return p;
        return nullptr;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return nullptr;
  }
};

TEST_F(DecoderApiSecurityTest, OnlyTheDevicesEditorsEncodeAndSendADownlinkObject) {
  json a_dev = MqttDevice(a_, "A's valve");
  const int64_t a_id = a_dev.value("id", int64_t{0});
  const int64_t codec = Decoder(a_, kCodec);
  ASSERT_EQ(
      Send(*a_.editor.client, "PUT", DevicePath(a_id) + "/decoder", {{"decoderId", codec}}).status,
      200);
  auto peer = Listen(a_dev);
  ASSERT_TRUE(peer);
  const json object = {{"led", true}};
  const std::string path = DevicePath(a_id) + "/downlink";

  // B's editor: the device does not exist for B; nothing encoded, recorded or published.
  auto b_try = Send(*b_.editor.client, "POST", path, {{"object", object}});
  EXPECT_EQ(b_try.status, 404) << b_try.body;
  // A's viewer: may read, not send.
  auto viewer_try = Send(*a_.viewer.client, "POST", path, {{"object", object}});
  EXPECT_EQ(viewer_try.status, 403) << viewer_try.body;
  // B's editor cannot reach A's encoder through B's own device either: B's device has no
  // decoder, so an object is refused there with a clear message.
  json b_dev = MqttDevice(b_, "B's valve");
  auto b_own = Send(*b_.editor.client, "POST",
                    DevicePath(b_dev.value("id", int64_t{0})) + "/downlink", {{"object", object}});
  EXPECT_EQ(b_own.status, 409) << b_own.body;
  EXPECT_NE(b_own.body.find("no decoder"), std::string::npos) << b_own.body;
  EXPECT_FALSE(peer->Received(0, 1).has_value()) << "published for a refused request";
  EXPECT_TRUE(History(a_, a_id).empty()) << History(a_, a_id).dump();

  // The decoder's own errors: 400 with errors[]; nothing sent.
  auto bad = Send(*a_.editor.client, "POST", path, {{"object", {{"led", "on"}}}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.Json()["error"]["errors"], json::array({"led must be true or false"})) << bad.body;
  auto both = Send(*a_.editor.client, "POST", path, {{"object", object}, {"hex", "01"}});
  EXPECT_EQ(both.status, 400) << both.body;
  EXPECT_TRUE(History(a_, a_id).empty()) << History(a_, a_id).dump();

  // A's editor: encoded by the device's decoder, published, recorded with the object.
  auto ok = Send(*a_.editor.client, "POST", path, {{"object", object}});
  ASSERT_EQ(ok.status, 202) << ok.body << server_->log();
  EXPECT_EQ(ok.Json()["data"], "Aas=") << ok.body;  // 01 AB
  EXPECT_EQ(ok.Json()["fPort"], 7) << ok.body;
  EXPECT_EQ(ok.Json()["warnings"], json::array({"sent as is"})) << ok.body;
  auto got = peer->Received(0);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->second, std::string("\x01\xAB", 2));
  json history;
  ASSERT_TRUE(WaitFor([&] {
    history = History(a_, a_id);
    return history.size() == 1 && history[0].value("status", "") == "published";
  })) << history.dump();
  EXPECT_EQ(history[0]["object"], object) << history.dump();
  EXPECT_EQ(history[0]["data"], "Aas=") << history.dump();
  // B still sees nothing of it.
  EXPECT_EQ(b_.viewer.client->Get(path).status, 404);
}

TEST_F(DecoderApiSecurityTest, AContractOutsideTheListIsRefused) {
  const std::string code = "function decode(p, m) { return {n: 1}; }";
  auto create = Send(*a_.editor.client, "POST", a_.OrgPath() + "/decoders",
                     {{"name", "x"}, {"code", code}, {"contract", "__proto__"}});
  EXPECT_EQ(create.status, 400) << create.body;
  EXPECT_NE(create.body.find("auto, os2iot, ttn, chirpstack, chirpstack-v3, ttn-v2"),
            std::string::npos)
      << create.body;
  auto wrong_type = Send(*a_.editor.client, "POST", a_.OrgPath() + "/decoders",
                         {{"name", "x"}, {"code", code}, {"contract", 1}});
  EXPECT_EQ(wrong_type.status, 400) << wrong_type.body;
  const int64_t id = [&] {
    auto r = Send(*a_.editor.client, "POST", a_.OrgPath() + "/decoders",
                  {{"name", "x"}, {"code", code}, {"contract", "os2iot"}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("id", int64_t{0});
  }();
  const std::string path = "/api/v1/decoders/" + std::to_string(id);
  EXPECT_EQ(Send(*a_.editor.client, "PATCH", path, {{"contract", "os2iot "}}).status, 400);
  EXPECT_EQ(Send(*a_.editor.client, "POST", "/api/v1/decoders/test",
                 {{"decoderId", id}, {"payload", "01"}, {"contract", "Decoder"}})
                .status,
            400);
  auto r = a_.viewer.client->Get(path);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json()["contract"], "os2iot") << r.body;
  EXPECT_EQ(r.Json()["version"], 1) << r.body;
  // B's editor cannot change A's decoder's contract, even to a valid one.
  EXPECT_EQ(Send(*b_.editor.client, "PATCH", path, {{"contract", "ttn"}}).status, 404);
  EXPECT_EQ(Send(*a_.editor.client, "PATCH", path, {{"contract", "ttn-v2"}}).status, 200);
}

TEST_F(DecoderApiSecurityTest, StoredDecodeErrorsAreVisibleOnlyInTheirOrganisation) {
  const int64_t dec =
      Decoder(a_,
              "function decodeUplink(i) {"
              "  return {data: {}, errors: ['secret frame 42 of A'], warnings: ['w of A']}; }");
  ASSERT_EQ(
      Send(*a_.editor.client, "PUT", a_.DevicePath() + "/decoder", {{"decoderId", dec}}).status,
      200);
  ASSERT_EQ(Ingest(a_.device.ingest_key, R"({"x": 1})").status, 204);
  auto mine = a_.viewer.client->Get(a_.DevicePath() + "/messages");
  ASSERT_EQ(mine.status, 200) << mine.body;
  json items = mine.Json()["items"];
  ASSERT_EQ(items.size(), 1u) << mine.body;
  EXPECT_EQ(items[0]["decodeErrors"], json::array({"secret frame 42 of A"})) << mine.body;
  EXPECT_EQ(items[0]["decodeWarnings"], json::array({"w of A"})) << mine.body;
  for (Tenant* t : {&b_}) {
    for (OrgMember* m : {&t->admin, &t->editor, &t->viewer}) {
      auto theirs = m->client->Get(a_.DevicePath() + "/messages");
      EXPECT_EQ(theirs.status, 404) << theirs.body;
      EXPECT_EQ(theirs.body.find("secret frame"), std::string::npos) << theirs.body;
      auto csv = m->client->Get(a_.DevicePath() + "/messages?format=csv");
      EXPECT_EQ(csv.body.find("secret frame"), std::string::npos) << csv.body;
    }
  }
}

}  // namespace
}  // namespace bysans::testing

namespace bysans::testing {
namespace {

// Which decoder a device or an application has (GET .../decoder, for the UI's decoder choice):
// A's viewer reads it; B's admin gets 404 for A's device and application, as for every other
// path under them, and cannot learn whether a decoder is attached.
TEST_F(DecoderApiSecurityTest, AttachedDecoderIsReadOnlyInItsOrganisation) {
  const int64_t dec = Decoder(a_, kCodec);
  ASSERT_GT(dec, 0);
  ASSERT_EQ(
      Send(*a_.editor.client, "PUT", a_.DevicePath() + "/decoder", {{"decoderId", dec}}).status,
      200);
  auto mine = a_.viewer.client->Get(a_.DevicePath() + "/decoder");
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(mine.Json()["decoderId"], dec);
  auto app = a_.viewer.client->Get(a_.AppPath() + "/decoder");
  ASSERT_EQ(app.status, 200) << app.body;
  EXPECT_TRUE(app.Json()["decoderId"].is_null());
  for (const std::string& path : {a_.DevicePath() + "/decoder", a_.AppPath() + "/decoder"}) {
    auto theirs = b_.admin.client->Get(path);
    EXPECT_EQ(theirs.status, 404) << path << ": " << theirs.body;
    EXPECT_EQ(theirs.body.find("decoderId"), std::string::npos) << theirs.body;
  }
}

}  // namespace
}  // namespace bysans::testing
