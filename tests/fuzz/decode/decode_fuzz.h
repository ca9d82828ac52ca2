// One fuzz input for the decode paths that take untrusted bytes: Cayenne LPP bytes -> JSON ->
// readings, arbitrary decoder output JSON -> readings, and decoder code run by the JS engine
// (decode, then encodeDownlink) under tight limits. The first byte picks the path: 'J' and 'E'
// the engine (decode / encode), else even LPP, odd JSON.
//
// libFuzzer under ASan: the engine's allocator budget is off there (ASan owns malloc), so the
// memory snippets of the corpus are stopped by the watchdog's coarse check; run with
// -rss_limit_mb=4096 -malloc_limit_mb=8192 so that a lazily mapped 4 GB ArrayBuffer is not
// reported as a leak of the harness.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "decode/cayenne_lpp.h"
#include "decode/js/js_engine.h"
#include "decode/to_readings.h"

namespace bysans::decode::fuzz {

// The engine of this thread, created on first use; it must stay usable after any input.
inline JsEngine& Engine() {
  static thread_local std::unique_ptr<JsEngine> engine = [] {
    auto e = JsEngine::Create();
    if (!e.ok()) std::abort();
    return std::move(e).value();
  }();
  return *engine;
}

inline void FuzzCode(bool encode, std::string_view code) {
  static thread_local int64_t version = 0;
  Limits limits;
  limits.time_ms = 20;
  limits.heap_bytes = 16u << 20;
  limits.output_bytes = 64u << 10;
  JsDecoder d{1, 1, ++version, code};
  if (encode) {
    EncodeInput in;
    in.data_json = R"({"on":true,"level":3})";
    in.fport = 2;
    auto r = Engine().Encode(d, in, limits);
    if (r.status.ok() && (r.bytes.size() > 242 || r.fport < 1 || r.fport > 223)) std::abort();
  } else {
    DecodeInput in;
    in.bytes = std::string("\x01\x02\xff", 3);
    in.fport = 2;
    auto r = Engine().Decode(d, in, 1, limits);
    if (r.status.ok() && !r.errors.empty()) std::abort();
  }
  // The engine still decodes a good decoder.
  DecodeInput in;
  in.bytes = "\x07";
  auto good = Engine().Decode(JsDecoder{2, 2, 1, "function Decoder(b, p) { return { v: b[0] }; }"},
                              in, 1, limits);
  if (!good.status.ok() || good.output_json != R"({"v":7})") std::abort();
}

inline void FuzzOne(const uint8_t* data, size_t size) {
  if (size == 0) return;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] == 'J' || data[0] == 'E') {
    FuzzCode(data[0] == 'E', rest);
  } else if ((data[0] & 1) == 0) {
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
