// The demo's LoRaWAN devices: the simulator's vendor frames, run through the decoders bysans
// ships (decoders/*.js, embedded into the binary), give back the simulated values; the ChirpStack
// uplink JSON it publishes parses as a ChirpStack v4 "up" event carrying that frame.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "decode/js/js_engine.h"
#include "lorawan/chirpstack.h"
#include "sim/frames.h"
#include "sim/simulator.h"

namespace bysans::sim {
namespace {

using json = nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct Case {
  DemoKind kind;
  DemoCodec codec;
};

class SimFramesTest : public ::testing::TestWithParam<Case> {};

TEST_P(SimFramesTest, ShippedDecoderReturnsTheSimulatedValues) {
  const Case c = GetParam();
  const std::string file = CodecDecoderFile(c.codec);
  std::string_view code = ShippedDecoderSource(file);
  ASSERT_FALSE(code.empty()) << file << " is not embedded";
  // The embedded copy is the file in decoders/ (re-embedded when it changes).
  EXPECT_EQ(code, ReadFile(std::string(BYSANS_SOURCE_DIR) + "/decoders/" + file));

  auto engine = decode::JsEngine::Create();
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  DeviceModelSim sim(c.kind, 4242, 0x1234);
  TimeMs now = 1'764'000'000'000;  // covers nights, school hours and rush hours below
  int buttons = 0;
  for (int step = 0; step < 300; ++step, now += 5 * 60 * 1000) {
    std::map<std::string, double> values = sim.NextVendor(c.codec, now);
    ASSERT_FALSE(values.empty());
    LorawanFrame frame = EncodeFrame(c.codec, values);
    decode::DecodeInput in;
    in.bytes = frame.bytes;
    in.fport = frame.fport;
    in.recv_time = now;
    auto r = (*engine)->Decode(decode::JsDecoder{1, 1, 1, code}, in, 7);
    ASSERT_TRUE(r.status.ok()) << file << ": " << r.status.message();
    EXPECT_TRUE(r.warnings.empty()) << file << ": " << r.warnings[0];
    json out = json::parse(r.output_json);
    for (const auto& [key, value] : values) {
      ASSERT_TRUE(out.contains(key))
          << file << " step " << step << ": no " << key << " in " << r.output_json;
      double tolerance = key == "air_temperature" || key == "air_humidity" ? 0.011 : 1e-9;
      EXPECT_NEAR(out[key].get<double>(), value, tolerance)
          << file << " step " << step << " key " << key;
    }
    if (values.count("button_code")) {
      ++buttons;
      EXPECT_TRUE(out["button"].is_string());
    }
    // Plausible physical values, not just a round trip.
    if (c.codec == DemoCodec::kElsysErsCo2) {
      EXPECT_GE(values["co2"], 380);
      EXPECT_LT(values["co2"], 2500);
      EXPECT_GT(values["temperature"], 10);
      EXPECT_LT(values["temperature"], 30);
    } else if (c.codec == DemoCodec::kDecentlabMbx) {
      EXPECT_GE(values["distance"], 50);
      EXPECT_LE(values["distance"], 1250);
    } else if (c.codec == DemoCodec::kDecentlabPm) {
      EXPECT_GT(values["barometric_pressure"], 95000);
      EXPECT_LE(values["pm2_5_mass_concentration"], values["pm10_mass_concentration"]);
    }
  }
  if (c.codec == DemoCodec::kMilesightWs101) {
    EXPECT_LT(buttons, 30);  // presses are rare
  }
}

INSTANTIATE_TEST_SUITE_P(Demo, SimFramesTest,
                         ::testing::Values(Case{DemoKind::kRoomClimate, DemoCodec::kElsysErsCo2},
                                           Case{DemoKind::kWasteBin, DemoCodec::kDecentlabMbx},
                                           Case{DemoKind::kAirQuality, DemoCodec::kDecentlabPm},
                                           Case{DemoKind::kFallSensor, DemoCodec::kMilesightWs101}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string name = CodecDisplayName(info.param.codec);
                           std::string out;
                           for (char ch : name)
                             if (std::isalnum(static_cast<unsigned char>(ch))) out.push_back(ch);
                           return out;
                         });

TEST(SimFrames, ButtonPressIsEncoded) {
  LorawanFrame f = EncodeFrame(DemoCodec::kMilesightWs101, {{"battery", 91}, {"button_code", 2}});
  EXPECT_EQ(f.fport, 85);
  EXPECT_EQ(f.bytes, std::string("\x01\x75\x5b\xff\x2e\x02", 6));
  // The vendor example from the Elsys documentation shape: type/value pairs, big-endian.
  LorawanFrame e = EncodeFrame(DemoCodec::kElsysErsCo2, {{"temperature", -1.5}, {"co2", 500}});
  EXPECT_EQ(e.fport, 5);
  EXPECT_EQ(e.bytes.substr(0, 3), std::string("\x01\xff\xf1", 3));
}

TEST(SimFrames, ChirpstackUplinkParsesAsAnUpEvent) {
  DemoDevice d;
  d.id = 9;
  d.name = "Klasselokale 1";
  d.codec = DemoCodec::kElsysErsCo2;
  d.dev_eui = "a81758fffede0001";
  d.chirpstack_app_id = "6f0d3a1e-5b2c-4e8a-9a41-0c1d2e3f4a02";
  d.app_name = "Indeklima – Nørreskolen";
  LorawanFrame frame = EncodeFrame(d.codec, {{"temperature", 21.4}, {"co2", 812}});
  std::mt19937_64 rng(1);
  std::string payload = ChirpstackUplinkJson(d, frame, 17, 1'764'000'000'000, rng);
  auto topic = lorawan::ParseEventTopic("application/" + d.chirpstack_app_id + "/device/" +
                                        d.dev_eui + "/event/up");
  ASSERT_TRUE(topic.ok()) << topic.status().message();
  auto e = lorawan::ParseEvent(*topic, payload);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->type, lorawan::EventType::kUp);
  EXPECT_EQ(e->dev_eui, d.dev_eui);
  EXPECT_EQ(e->frame, frame.bytes);
  EXPECT_EQ(e->fport, 5);
  EXPECT_EQ(e->fcnt, 17);
  EXPECT_EQ(e->time_ms, 1'764'000'000'000);
  EXPECT_EQ(e->deduplication_id.size(), 36u);
  ASSERT_EQ(e->gateways.size(), 1u);
  EXPECT_TRUE(e->gateways[0].rssi.has_value());
  EXPECT_TRUE(e->gateways[0].snr.has_value());
  // A second uplink has a different deduplication id.
  auto e2 = lorawan::ParseEvent(*topic, ChirpstackUplinkJson(d, frame, 18, 1, rng));
  ASSERT_TRUE(e2.ok());
  EXPECT_NE(e2->deduplication_id, e->deduplication_id);
}

}  // namespace
}  // namespace bysans::sim
