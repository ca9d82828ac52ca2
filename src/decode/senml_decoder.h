// Native SenML decoder: wraps ingest::ParseSenml (RFC 8428 JSON) so SenML can be selected like
// any other decoder. Lives in its own library (bysans_decode_senml) because it links
// bysans_ingest.
#pragma once

#include "decode/decoder.h"

namespace bysans::decode {

// Decodes input.bytes (or, when empty, input.uplink_json) as a SenML JSON pack. Records without
// a time get input.recv_time. output_json is the input pack; readings come from ParseSenml.
DecodeResult DecodeSenmlToResult(const DecodeInput& input, Id device_id);

}  // namespace bysans::decode
