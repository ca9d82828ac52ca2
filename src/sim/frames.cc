#include "sim/frames.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace bysans::sim {
namespace {

double Get(const std::map<std::string, double>& v, const char* key) {
  auto it = v.find(key);
  return it == v.end() ? 0.0 : it->second;
}

// Rounds and clamps to the range of an unsigned / signed 16-bit field.
uint16_t U16(double x) { return static_cast<uint16_t>(std::clamp(std::lround(x), 0L, 65535L)); }
uint16_t S16(double x) {
  return static_cast<uint16_t>(static_cast<int16_t>(std::clamp(std::lround(x), -32768L, 32767L)));
}
uint8_t U8(double x) { return static_cast<uint8_t>(std::clamp(std::lround(x), 0L, 255L)); }

void Put8(std::string& out, uint8_t b) { out.push_back(static_cast<char>(b)); }
void Put16(std::string& out, uint16_t v) {  // big-endian, as every format here
  Put8(out, static_cast<uint8_t>(v >> 8));
  Put8(out, static_cast<uint8_t>(v & 0xff));
}

// Elsys payload structure: a sequence of (type byte, big-endian value).
LorawanFrame Elsys(const std::map<std::string, double>& v) {
  LorawanFrame f{5, {}};
  Put8(f.bytes, 0x01);  // temperature, signed, 0.1 °C
  Put16(f.bytes, S16(Get(v, "temperature") * 10));
  Put8(f.bytes, 0x02);  // relative humidity, %
  Put8(f.bytes, U8(Get(v, "humidity")));
  Put8(f.bytes, 0x04);  // light, lux
  Put16(f.bytes, U16(Get(v, "light")));
  Put8(f.bytes, 0x05);  // motion (PIR) count
  Put8(f.bytes, U8(Get(v, "motion")));
  Put8(f.bytes, 0x06);  // CO2, ppm
  Put16(f.bytes, U16(Get(v, "co2")));
  Put8(f.bytes, 0x07);  // supply voltage, mV
  Put16(f.bytes, U16(Get(v, "vdd")));
  return f;
}

// Decentlab protocol v2: version 2, device id (u16), sensor flags (u16), then the 16-bit raw
// values of each sensor whose flag bit is set, in flag order.
void DecentlabHeader(std::string& out, const std::map<std::string, double>& v, uint16_t flags) {
  Put8(out, 2);
  Put16(out, U16(Get(v, "device_id")));
  Put16(out, flags);
}

LorawanFrame DecentlabMbx(const std::map<std::string, double>& v) {
  LorawanFrame f{1, {}};
  DecentlabHeader(f.bytes, v, 0x0003);
  Put16(f.bytes, U16(Get(v, "distance")));  // mm
  Put16(f.bytes, U16(Get(v, "number_of_valid_samples")));
  Put16(f.bytes, U16(Get(v, "battery_voltage") * 1000));  // V → mV
  return f;
}

LorawanFrame DecentlabPm(const std::map<std::string, double>& v) {
  LorawanFrame f{1, {}};
  DecentlabHeader(f.bytes, v, 0x000f);
  Put16(f.bytes, U16(Get(v, "battery_voltage") * 1000));
  for (const char* k : {"pm1_0_mass_concentration", "pm2_5_mass_concentration",
                        "pm4_mass_concentration", "pm10_mass_concentration"})
    Put16(f.bytes, U16(Get(v, k) * 10));                 // 0.1 µg/m³
  Put16(f.bytes, U16(Get(v, "typical_particle_size")));  // nm
  for (const char* k :
       {"pm0_5_number_concentration", "pm1_0_number_concentration", "pm2_5_number_concentration",
        "pm4_number_concentration", "pm10_number_concentration"})
    Put16(f.bytes, U16(Get(v, k) * 10));  // 0.1 /cm³
  // Sensirion-style scales: T = 175.72 x / 65536 - 46.85, RH = 125 x / 65536 - 6.
  Put16(f.bytes, U16((Get(v, "air_temperature") + 46.85) * 65536 / 175.72));
  Put16(f.bytes, U16((Get(v, "air_humidity") + 6) * 65536 / 125));
  Put16(f.bytes, U16(Get(v, "barometric_pressure") / 2));  // 2 Pa
  return f;
}

// Milesight: (channel, type, value) triples. 01 75 = battery %, ff 2e = button event.
LorawanFrame MilesightWs101(const std::map<std::string, double>& v) {
  LorawanFrame f{85, {}};
  Put8(f.bytes, 0x01);
  Put8(f.bytes, 0x75);
  Put8(f.bytes, U8(Get(v, "battery")));
  if (auto it = v.find("button_code"); it != v.end()) {
    Put8(f.bytes, 0xff);
    Put8(f.bytes, 0x2e);
    Put8(f.bytes, U8(it->second));  // 1 short, 2 long, 3 double press
  }
  return f;
}

}  // namespace

const char* CodecDecoderFile(DemoCodec c) {
  switch (c) {
    case DemoCodec::kElsysErsCo2:
      return "elsys-ers-co2.js";
    case DemoCodec::kDecentlabMbx:
      return "decentlab-dl-mbx.js";
    case DemoCodec::kDecentlabPm:
      return "decentlab-dl-pm.js";
    case DemoCodec::kMilesightWs101:
      return "milesight-ws101.js";
    case DemoCodec::kJson:
      break;
  }
  return "";
}

const char* CodecDisplayName(DemoCodec c) {
  switch (c) {
    case DemoCodec::kElsysErsCo2:
      return "Elsys ERS CO2";
    case DemoCodec::kDecentlabMbx:
      return "Decentlab DL-MBX";
    case DemoCodec::kDecentlabPm:
      return "Decentlab DL-PM";
    case DemoCodec::kMilesightWs101:
      return "Milesight WS101";
    case DemoCodec::kJson:
      break;
  }
  return "";
}

LorawanFrame EncodeFrame(DemoCodec codec, const std::map<std::string, double>& values) {
  switch (codec) {
    case DemoCodec::kElsysErsCo2:
      return Elsys(values);
    case DemoCodec::kDecentlabMbx:
      return DecentlabMbx(values);
    case DemoCodec::kDecentlabPm:
      return DecentlabPm(values);
    case DemoCodec::kMilesightWs101:
      return MilesightWs101(values);
    case DemoCodec::kJson:
      break;
  }
  return {};
}

}  // namespace bysans::sim
