// PaddedCopy: the text copied into a reused buffer with zero bytes after it, for parsers that
// read a fixed number of bytes past the end of their input (simdjson's SIMDJSON_PADDING). A
// parser told to make such a copy itself allocates one per document; a caller that parses many
// documents keeps one buffer and copies into it instead.
#pragma once

#include <cstring>
#include <string>
#include <string_view>

namespace bysans {

inline const char* PaddedCopy(std::string_view text, size_t padding, std::string& buffer) {
  buffer.resize(text.size() + padding);
  if (!text.empty()) std::memcpy(buffer.data(), text.data(), text.size());
  std::memset(buffer.data() + text.size(), 0, padding);
  return buffer.data();
}

}  // namespace bysans
