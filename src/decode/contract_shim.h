// TEMPORARY (dec-results): stands in for decode/decoder.h ParseContractName / ContractApiName
// until dec-engine's versions are merged; removed then.
#pragma once

#include <optional>
#include <string_view>

#include "decode/decoder.h"

namespace bysans::decode {

inline std::optional<Contract> ParseContractName(std::string_view s) {
  if (s == "auto") return Contract::kUnknown;
  if (s == "os2iot") return Contract::kOs2iot;
  if (s == "ttn" || s == "chirpstack") return Contract::kTtnDecodeUplink;
  if (s == "chirpstack-v3") return Contract::kChirpstackV3Decode;
  if (s == "ttn-v2") return Contract::kTtnV2Decoder;
  return std::nullopt;
}

}  // namespace bysans::decode
