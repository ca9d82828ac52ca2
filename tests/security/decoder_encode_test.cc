// Issue 15, items 8–12 for encodeDownlink, through the real server: an editor of organisation A
// sends object downlinks (POST /api/v1/devices/{id}/downlink {"object": …}) to MQTT devices whose
// stored decoders have hostile encodeDownlink functions — a loop, a getter that loops, too many
// bytes, bytes that are not bytes, a throw, a result that is not an object. Each answers a
// clear error naming encodeDownlink, records no downlink, and leaves the server serving: the
// next downlink of organisation B encodes and is sent. And a rule of organisation B with an
// object downlink action never reaches A's device (both send the same reading through the real
// broker), whatever its scope says.
#include <string>
#include <vector>

#include "integration/mqtt_fixture.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

// Decodes the device's JSON messages as they are; encodes {"valve": v} as 10 v on fPort 12.
constexpr const char* kValve =
    "function decodeUplink(input) {\n"
    "  return {data: JSON.parse(String.fromCharCode.apply(null, input.bytes))};\n"
    "}\n"
    "function encodeDownlink(input) { return {bytes: [0x10, input.data.valve], fPort: 12}; }";

class DecoderEncodeTest : public SecurityTest {
 protected:
  // As DeviceWithDecoder, with the device's MQTT credentials.
  MqttDevice MqttDeviceWithDecoder(Tenant& t, const std::string& code, const json& tags) {
    MqttDevice d;
    d.device_id = DeviceWithDecoder(t, code, tags, &d.mqtt);
    return d;
  }
  // An MQTT device of `t` with its own stored decoder `code`; returns the device id.
  int64_t DeviceWithDecoder(Tenant& t, const std::string& code, const json& tags = json::array(),
                            json* mqtt = nullptr) {
    auto dev = Send(*t.editor.client, "POST", t.AppPath() + "/devices",
                    {{"name", "Ventil"}, {"transport", "mqtt"}, {"tags", tags}});
    EXPECT_EQ(dev.status, 201) << dev.body;
    const int64_t id = dev.Json().value("id", int64_t{0});
    if (mqtt) *mqtt = dev.Json().value("mqtt", json::object());
    auto dec = Send(*t.editor.client, "POST", t.OrgPath() + "/decoders",
                    {{"name", "ventil"}, {"code", code}});
    EXPECT_EQ(dec.status, 201) << dec.body;
    auto att = Send(*t.editor.client, "PUT", DevicePath(id) + "/decoder",
                    {{"decoderId", dec.Json().value("id", int64_t{0})}});
    EXPECT_EQ(att.status, 200) << att.body;
    return id;
  }
  static std::string DevicePath(int64_t id) { return "/api/v1/devices/" + std::to_string(id); }
  static HttpResult SendObject(OrgMember& m, int64_t device) {
    return Send(*m.client, "POST", DevicePath(device) + "/downlink", {{"object", {{"valve", 1}}}});
  }
  json History(OrgMember& m, int64_t device) {
    auto r = m.client->Get(DevicePath(device) + "/downlink");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().value("items", json::array());
  }
};

TEST_F(DecoderEncodeTest, HostileEncodersFailClearlyAndTheServerGoesOnServing) {
  const int64_t normal_b = DeviceWithDecoder(b_, kValve);
  struct Attack {
    std::string name, encoder, says;
  } attacks[] = {
    {"loop", "function encodeDownlink(i) { while (true) {} }", "encodeDownlink failed"},
    {"getter", "function encodeDownlink(i) { return { get bytes() { while (true) {} } }; }",
     "encodeDownlink failed"},
    {"too many bytes",
     "function encodeDownlink(i) { return {bytes: new Array(100000).fill(1), fPort: 1}; }",
     "at most 242"},
    {"not bytes", "function encodeDownlink(i) { return {bytes: [300, -1, 'x'], fPort: 1}; }",
     "not an integer 0..255"},
    {"throws", "function encodeDownlink(i) { throw new Error('valve jammed'); }", "valve jammed"},
    {"not an object", "function encodeDownlink(i) { return 42; }", "encodeDownlink"},
    {"named in a comment only", "// encodeDownlink: soon", "no function encodeDownlink"},
  // The allocator budget is off under sanitizers (they own malloc).
#if !defined(__SANITIZE_ADDRESS__)
    {"huge allocation", "function encodeDownlink(i) { return {bytes: new Uint8Array(2 ** 30)}; }",
     "memory limit exceeded"},
#endif
  };
  for (const Attack& a : attacks) {
    SCOPED_TRACE(a.name);
    const int64_t dev = DeviceWithDecoder(
        a_, std::string("function decodeUplink(input) { return {data: {}}; }\n") + a.encoder);
    auto r = SendObject(a_.editor, dev);
    EXPECT_GE(r.status, 400) << r.body;
    EXPECT_LT(r.status, 500) << r.body;  // the decoder's fault, not the server's
    EXPECT_NE(r.body.find(a.says), std::string::npos) << r.body;
    EXPECT_TRUE(History(a_.viewer, dev).empty()) << "no downlink recorded";
    // The server still serves: B's next object downlink is encoded and sent.
    auto ok = SendObject(b_.editor, normal_b);
    ASSERT_EQ(ok.status, 202) << ok.body << server_->log();
    EXPECT_EQ(ok.Json().value("data", ""), "EAE=") << ok.body;  // 10 01
  }
  EXPECT_EQ(History(b_.viewer, normal_b).size(), std::size(attacks));
}

TEST_F(DecoderEncodeTest, ARulesObjectDownlinkNeverReachesAnotherOrganisationsDevice) {
  const MqttDevice victim = MqttDeviceWithDecoder(a_, kValve, {"school"});
  const MqttDevice own = MqttDeviceWithDecoder(b_, kValve, {"school"});
  const json action = {{"type", "downlink"}, {"object", {{"valve", 1}}}, {"on", {"raise"}}};
  // Naming A's device in the scope is refused.
  auto named = Send(*b_.editor.client, "POST", b_.OrgPath() + "/rules",
                    {{"name", "Ventil"},
                     {"scope", {{"kind", "device"}, {"id", victim.device_id}}},
                     {"expression", "co2 > 1000"},
                     {"actions", json::array({action})}});
  EXPECT_EQ(named.status, 400) << named.body;
  // A tag both organisations use: B's rule fires on B's own device, never on A's.
  auto rule = Send(*b_.editor.client, "POST", b_.OrgPath() + "/rules",
                   {{"name", "Ventil"},
                    {"scope", {{"kind", "tag"}, {"tag", "school"}}},
                    {"expression", "co2 > 1000"},
                    {"actions", json::array({action})}});
  ASSERT_EQ(rule.status, 201) << rule.body;
  const std::string url = ReadLine(fs::path(server_->data_dir()) / "mqtt.url");
  // A's reading is stored first; only then does B's device send the same, so that by the time
  // B's downlink is recorded A's reading has long been through the rules.
  ASSERT_TRUE(PublishAs(url, victim, R"({"co2": 1500})")) << server_->log();
  std::string a_messages;
  ASSERT_TRUE(WaitFor([&] {
    a_messages = a_.viewer.client->Get(DevicePath(victim.device_id) + "/messages").body;
    return a_messages.find("co2") != std::string::npos;
  })) << "A's reading was stored: "
      << a_messages << server_->log();
  ASSERT_TRUE(PublishAs(url, own, R"({"co2": 1500})")) << server_->log();
  json own_history;
  ASSERT_TRUE(WaitFor([&] {
    return (own_history = History(b_.viewer, own.device_id)).size() == 1;
  })) << own_history
      << server_->log();
  EXPECT_EQ(own_history[0]["object"], json({{"valve", 1}})) << own_history;
  EXPECT_EQ(own_history[0].value("data", ""), "EAE=") << own_history;  // encoded by B's decoder
  // A's device sent the same reading first and got nothing.
  EXPECT_TRUE(History(a_.viewer, victim.device_id).empty());
}

}  // namespace
}  // namespace bysans::testing
