#include "decode/js/text_codec.h"

#include <cstdint>

#include "core/encoding.h"

namespace bysans::decode::js {

bool Base64Decode(std::string_view in, std::string* out) {
  // WHATWG's forgiving-base64: ASCII whitespace is ignored and at most two '=' end the text;
  // the rest (alphabet, impossible lengths) is core's decoder.
  std::string compact;
  compact.reserve(in.size());
  for (char c : in)
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f') compact.push_back(c);
  size_t pad = 0;
  while (pad < compact.size() && compact[compact.size() - 1 - pad] == '=') ++pad;
  if (pad > 2) return false;
  auto bytes = DecodeBase64(compact);
  if (!bytes.ok()) return false;
  out->append(*bytes);
  return true;
}

void AppendUtf16AsUtf8(const char16_t* s, size_t n, std::string* out) {
  for (size_t i = 0; i < n; ++i) {
    // A run of ASCII (nearly all of a decoder's JSON) is appended in one go.
    size_t ascii = i;
    while (ascii < n && s[ascii] < 0x80) ++ascii;
    if (ascii > i) {
      const size_t at = out->size();
      out->resize(at + (ascii - i));
      for (char* d = out->data() + at; i < ascii; ++i) *d++ = static_cast<char>(s[i]);
      if (i == n) break;
    }
    uint32_t c = s[i];
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < n && s[i + 1] >= 0xdc00 && s[i + 1] < 0xe000) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s[i + 1] - 0xdc00);
      ++i;
    } else if (c >= 0xd800 && c < 0xe000) {
      c = 0xfffd;
    }
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (c >> 6)));
      out->push_back(static_cast<char>(0x80 | (c & 63)));
    } else if (c < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (c >> 12)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 63)));
      out->push_back(static_cast<char>(0x80 | (c & 63)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (c >> 18)));
      out->push_back(static_cast<char>(0x80 | ((c >> 12) & 63)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 63)));
      out->push_back(static_cast<char>(0x80 | (c & 63)));
    }
  }
}

}  // namespace bysans::decode::js
