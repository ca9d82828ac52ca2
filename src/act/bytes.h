// Frame bytes of downlink actions: hexadecimal or base64 text → bytes.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace bysans::act {

// "0102ff" → "\x01\x02\xff"; an odd length or a non-hex character is InvalidArgument.
Result<std::string> DecodeHex(std::string_view hex);
// Standard base64 (RFC 4648, '=' padding optional); anything else is InvalidArgument.
Result<std::string> DecodeBase64(std::string_view b64);

}  // namespace bysans::act
