// Text conversions the JS engine needs, without engine headers: atob's forgiving base64 (btoa
// and the OS2iot payload's `data` use core/encoding.h's EncodeBase64) and UTF-16 to UTF-8
// (JSON output, strings).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace bysans::decode::js {

// Forgiving base64 decode (WHATWG atob: whitespace ignored, padding optional, URL-safe
// alphabet accepted). False when `in` is not base64.
bool Base64Decode(std::string_view in, std::string* out);
// Appends UTF-16 code units as UTF-8; a lone surrogate becomes U+FFFD.
void AppendUtf16AsUtf8(const char16_t* s, size_t n, std::string* out);

}  // namespace bysans::decode::js
