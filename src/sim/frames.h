// LoRaWAN frames of the demo's devices, in their vendors' documented binary formats, so that
// the decoders bysans ships (decoders/*.js) turn them back into the simulated values.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace bysans::sim {

// How a demo device talks: JSON over HTTP, or LoRaWAN frames of one vendor's device.
enum class DemoCodec {
  kJson,            // HTTP JSON (the demo's own format)
  kElsysErsCo2,     // Elsys ERS CO2: type/value pairs (fPort 5)
  kDecentlabMbx,    // Decentlab DL-MBX: protocol v2, distance + battery (fPort 1)
  kDecentlabPm,     // Decentlab DL-PM: protocol v2, PM, temperature/humidity, pressure (fPort 1)
  kMilesightWs101,  // Milesight WS101 button: channel/type frames (fPort 85)
};

// The shipped decoder for a codec: file name under decoders/ and a display name ("" for kJson).
const char* CodecDecoderFile(DemoCodec c);
const char* CodecDisplayName(DemoCodec c);
// The embedded source of a shipped decoder (decoders/<file>), or "" when not embedded.
std::string_view ShippedDecoderSource(std::string_view file);

struct LorawanFrame {
  int fport = 1;
  std::string bytes;
};

// Values keyed as the codec's shipped decoder names them (e.g. Elsys: temperature, humidity,
// light, motion, co2, vdd; DL-MBX: device_id, distance, number_of_valid_samples,
// battery_voltage). Missing keys are sent as 0, except the WS101's optional button_code (a
// button press is sent only when present). Values are rounded to the frame's resolution;
// Decentlab's air_temperature / air_humidity come back within 0.01 (a 16-bit sensor scale).
LorawanFrame EncodeFrame(DemoCodec codec, const std::map<std::string, double>& values);

}  // namespace bysans::sim
