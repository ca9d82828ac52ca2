// Small text helpers shared by the option, path and filter parsers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace bysans::sta {

// Percent-decodes a URL component; '+' becomes a space when `plus_is_space`.
// A bad escape is kInvalidArgument naming its 0-based position.
Result<std::string> PercentDecode(std::string_view in, bool plus_is_space);

// Splits `text` at each top-level `sep` (outside parentheses and 'quoted'
// strings with '' escapes) into [begin, end) ranges; kInvalidArgument
// naming the position of an unbalanced parenthesis or an unterminated string.
struct Range {
  size_t begin = 0, end = 0;
};
Result<std::vector<Range>> SplitTopLevel(std::string_view text, char sep);

// `s` in single quotes for an error message: bytes other than printable
// ASCII as \xNN, and at most 60 of them ("..." after), so echoed input keeps
// a message short and valid UTF-8.
std::string Quoted(std::string_view s);

// The message "<what> at position <pos>".
Status ErrorAt(std::string_view what, size_t pos);

// `text` without leading and trailing spaces, and the offset of what remains.
std::string_view Trim(std::string_view text, size_t* offset);

}  // namespace bysans::sta
