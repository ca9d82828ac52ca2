// Text encodings of bytes used at the edges (LoRaWAN frames, downlinks,
// decoder test payloads, URL components): base64 (RFC 4648), hexadecimal and percent-encoding,
// and whether bytes are UTF-8 text.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace bysans {

// Standard or URL-safe alphabet ('+' or '-', '/' or '_'), trailing '='
// padding optional. Any other character, or an impossible length, is
// kInvalidArgument naming what is wrong.
Result<std::string> DecodeBase64(std::string_view in);
// Standard alphabet with '=' padding.
std::string EncodeBase64(std::string_view in);
// URL-safe alphabet ('-', '_') without padding: an opaque cursor in a query string.
std::string EncodeBase64Url(std::string_view in);

// True when `s` is non-empty, of even length and only hexadecimal digits.
bool IsHex(std::string_view s);
// "0102ff" / "0A0B" → bytes; an odd length or a non-hex digit is kInvalidArgument.
Result<std::string> DecodeHex(std::string_view hex);

// Percent-encodes every byte but RFC 3986's unreserved characters (letters, digits, '-', '.',
// '_', '~'), with upper-case hex digits: a URL component or form value.
std::string PercentEncode(std::string_view s);

// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF, not cut), 0 when none starts there (nor U+0000, unless
// nul_allowed).
size_t Utf8SequenceLength(std::string_view s, size_t i, bool nul_allowed = true);

// Whether `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF). With nul_allowed false U+0000 is refused too (MQTT strings, PostgreSQL text).
bool IsValidUtf8(std::string_view s, bool nul_allowed = true);
// `s` with each byte that does not start a well-formed sequence (and U+0000 unless nul_allowed)
// replaced by U+FFFD: text every store keeps and every JSON writer accepts.
std::string ToValidUtf8(std::string_view s, bool nul_allowed = true);

}  // namespace bysans
