// Plain types shared by every decoder (JS sandbox, Cayenne LPP, SenML). No engine headers here.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "model/model.h"

namespace bysans::decode {

// The calling convention a decoder follows. JS contracts are detected from the code.
enum class Contract {
  kUnknown,
  kOs2iot,              // decode(payload, metadata)
  kTtnDecodeUplink,     // decodeUplink({bytes, fPort, recvTime, variables}) -> {data, warnings,
                        // errors}
  kTtnV2Decoder,        // Decoder(bytes, port)
  kChirpstackV3Decode,  // Decode(fPort, bytes, variables)
  kCayenneLpp,          // native
  kSenml,               // native
};

const char* ContractName(Contract c);

// Detects the JS contract from the decoder's source: looks for a top-level function
// declaration (or assignment) named decodeUplink, decode, Decode or Decoder. When several are
// present, decodeUplink wins, then decode, Decode, Decoder. kUnknown when none is found.
Contract DetectContract(std::string_view code);

struct DecodeInput {
  std::string bytes;  // the raw payload bytes (binary)
  int fport = 0;
  TimeMs recv_time = 0;
  // The whole ChirpStack uplink JSON (LoRaWAN) or the JSON the device sent (HTTP/MQTT). May be
  // empty; for OS2iot decoders an empty value becomes {"data": base64(bytes), "fPort": fport}.
  std::string uplink_json;
  // The OS2iot-shaped device object: id, name, location (GeoJSON Point [lon, lat]), metadata
  // (a JSON *string*), deviceModel, deviceEUI. May be empty (then {}).
  std::string device_json;
  std::map<std::string, std::string> variables;  // from the device's metadata
};

struct DecodeResult {
  Status status;            // not ok: message says what went wrong (limit, throw, syntax, ...)
  std::string output_json;  // the decoder's output (for decodeUplink: the `data` member)
  std::vector<Reading> readings;
  std::vector<std::string> log;       // console.* lines, "[warn] ..." / "[error] ..." prefixed
  std::vector<std::string> warnings;  // decodeUplink warnings and conversion warnings
  int64_t duration_us = 0;
};

}  // namespace bysans::decode
