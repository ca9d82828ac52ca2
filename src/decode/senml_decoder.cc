#include "decode/senml_decoder.h"

#include <chrono>

#include "ingest/senml.h"

namespace bysans::decode {

DecodeResult DecodeSenmlToResult(const DecodeInput& input, Id device_id) {
  auto start = std::chrono::steady_clock::now();
  DecodeResult r;
  const std::string& text = input.bytes.empty() ? input.uplink_json : input.bytes;
  auto readings = ingest::ParseSenml(text, device_id, input.recv_time);
  if (!readings.ok()) {
    r.status = readings.status();
  } else {
    r.output_json = text;
    r.readings = std::move(readings).value();
  }
  r.duration_us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  return r;
}

}  // namespace bysans::decode
