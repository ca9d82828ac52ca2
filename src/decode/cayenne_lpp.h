// Native Cayenne Low Power Payload decoder (IPSO data types, channel + type + value frames).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "decode/decoder.h"

namespace bysans::decode {

// Decodes `bytes` into a flat JSON object: {"temperature_3": 27.2, "gps_1": {"latitude": ..,
// "longitude": .., "altitude": ..}, "accelerometer_5": {"x":..,"y":..,"z":..}, ...}.
// Fails with a message naming the offset on an unknown type or a truncated frame.
Result<std::string> DecodeCayenneLpp(std::string_view bytes);

// Runs DecodeCayenneLpp and converts its output into readings (keys like temperature_3, with
// units), filling a DecodeResult like the JS engine does.
DecodeResult DecodeCayenneLppToResult(const DecodeInput& input, Id device_id);

}  // namespace bysans::decode
