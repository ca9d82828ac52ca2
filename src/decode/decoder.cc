#include "decode/decoder.h"

#include <cctype>

namespace bysans::decode {

const char* ContractName(Contract c) {
  switch (c) {
    case Contract::kOs2iot:
      return "os2iot";
    case Contract::kTtnDecodeUplink:
      return "ttn_decode_uplink";
    case Contract::kTtnV2Decoder:
      return "ttn_v2_decoder";
    case Contract::kChirpstackV3Decode:
      return "chirpstack_v3_decode";
    case Contract::kCayenneLpp:
      return "cayenne_lpp";
    case Contract::kSenml:
      return "senml";
    case Contract::kUnknown:
      break;
  }
  return "unknown";
}

Result<Contract> ParseContractName(std::string_view name) {
  if (name == "auto") return Contract::kUnknown;
  if (name == "os2iot") return Contract::kOs2iot;
  if (name == "ttn" || name == "chirpstack") return Contract::kTtnDecodeUplink;
  if (name == "chirpstack-v3") return Contract::kChirpstackV3Decode;
  if (name == "ttn-v2") return Contract::kTtnV2Decoder;
  return InvalidArgument("unknown decoder contract '" + std::string(name.substr(0, 40)) +
                         "' (expected auto, os2iot, ttn, chirpstack, chirpstack-v3 or ttn-v2)");
}

const char* ContractApiName(Contract c) {
  switch (c) {
    case Contract::kOs2iot:
      return "os2iot";
    case Contract::kTtnDecodeUplink:
      return "ttn";
    case Contract::kTtnV2Decoder:
      return "ttn-v2";
    case Contract::kChirpstackV3Decode:
      return "chirpstack-v3";
    case Contract::kCayenneLpp:
      return "cayenne-lpp";
    case Contract::kSenml:
      return "senml";
    case Contract::kUnknown:
      break;
  }
  return "auto";
}

const char* EntryPointName(Contract c) {
  switch (c) {
    case Contract::kOs2iot:
      return "decode";
    case Contract::kTtnDecodeUplink:
      return "decodeUplink";
    case Contract::kTtnV2Decoder:
      return "Decoder";
    case Contract::kChirpstackV3Decode:
      return "Decode";
    default:
      break;
  }
  return "";
}

namespace {

bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$';
}

// True when `name` appears as a whole identifier that is declared as a function:
// "function name(" or "name = function"/"name = (" / "name=async" etc.
bool Declares(std::string_view code, std::string_view name) {
  size_t pos = 0;
  while ((pos = code.find(name, pos)) != std::string_view::npos) {
    size_t end = pos + name.size();
    bool left_ok = pos == 0 || !IsIdentChar(code[pos - 1]);
    bool right_ok = end >= code.size() || !IsIdentChar(code[end]);
    if (left_ok && right_ok && !(pos > 0 && code[pos - 1] == '.')) {
      // Look backwards for "function".
      size_t b = pos;
      while (b > 0 && std::isspace(static_cast<unsigned char>(code[b - 1]))) --b;
      if (b >= 8 && code.substr(b - 8, 8) == "function") return true;
      // Look forwards for "=" (not "==") or "(" after optional spaces: assignment.
      size_t f = end;
      while (f < code.size() && std::isspace(static_cast<unsigned char>(code[f]))) ++f;
      if (f < code.size() && code[f] == '=' && (f + 1 >= code.size() || code[f + 1] != '=')) {
        return true;
      }
    }
    pos = end;
  }
  return false;
}

}  // namespace

Contract DetectContract(std::string_view code) {
  if (Declares(code, "decodeUplink")) return Contract::kTtnDecodeUplink;
  if (Declares(code, "decode")) return Contract::kOs2iot;
  if (Declares(code, "Decode")) return Contract::kChirpstackV3Decode;
  if (Declares(code, "Decoder")) return Contract::kTtnV2Decoder;
  return Contract::kUnknown;
}

}  // namespace bysans::decode
