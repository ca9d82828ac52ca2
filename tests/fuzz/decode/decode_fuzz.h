// One fuzz input for the decode paths that take untrusted bytes: Cayenne LPP bytes -> JSON ->
// readings, and arbitrary decoder output JSON -> readings. The first byte picks the path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "decode/cayenne_lpp.h"
#include "decode/to_readings.h"

namespace bysans::decode::fuzz {

inline void FuzzOne(const uint8_t* data, size_t size) {
  if (size == 0) return;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    auto json = DecodeCayenneLpp(rest);
    if (json.ok()) {
      // Our own output must always be valid JSON that converts.
      auto readings = ToReadings(*json, 1, 0);
      if (!readings.ok()) std::abort();
    }
  } else {
    auto readings = ToReadings(rest, 1, 0);
    if (readings.ok() && readings->readings.size() > 1000) std::abort();
  }
}

}  // namespace bysans::decode::fuzz
