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

// The contract names of the API: "auto" (kUnknown: chosen from the code), "os2iot", "ttn"
// (decodeUplink; "chirpstack" is accepted as the same contract), "chirpstack-v3" (Decode) and
// "ttn-v2" (Decoder). Native contracts have no API name here (they are decoder kinds).
Result<Contract> ParseContractName(std::string_view name);
// The API name of a JS contract ("auto" for kUnknown); "cayenne-lpp" / "senml" for the natives.
const char* ContractApiName(Contract c);
// The function a JS contract calls: "decodeUplink", "decode", "Decode", "Decoder"; "" otherwise.
const char* EntryPointName(Contract c);

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
  // decodeUplink's `errors` (TTN meaning: non-empty = decoding failed, status is not ok, and
  // output_json still holds `data` when the decoder returned it).
  std::vector<std::string> errors;
  // The function that ran ("decodeUplink", "decode", "Decode", "Decoder"); empty for native
  // decoders or when the code failed before an entry point was chosen.
  std::string entry_point;
  int64_t duration_us = 0;
  // The part of duration_us spent getting the decoder ready (compiling it and running its top
  // level when it was not cached; about nothing when it was).
  int64_t compile_us = 0;
};

// A downlink given as an object, to be encoded by the decoder's encodeDownlink({data, fPort?})
// (TTN / ChirpStack v4 contract).
struct EncodeInput {
  std::string data_json;                         // the object to encode (a JSON object)
  int fport = 0;                                 // requested fPort, 0 = let the encoder choose
  std::map<std::string, std::string> variables;  // from the device's metadata
};

struct EncodeResult {
  Status status;      // not ok: limit, throw, errors[] non-empty, bad bytes / fPort
  std::string bytes;  // the encoded payload (binary)
  int fport = 0;      // the fPort the encoder returned (or the requested one)
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  std::vector<std::string> log;  // console.* lines
  int64_t duration_us = 0;
};

}  // namespace bysans::decode
