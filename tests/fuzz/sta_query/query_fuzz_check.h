// The property every input must satisfy, shared by the libFuzzer target and
// the replay test: ParseQueryOptions and ParseResourcePath never crash or
// hang on any bytes; an error message is printable ASCII (echoed input is
// escaped) and its position lies inside the input; parsed
// options validate and evaluate against a small entity graph without
// crashing.
#pragma once

#include <string>
#include <string_view>

namespace bysans::sta::fuzz {

// Returns an empty string when the property holds, else what went wrong.
std::string CheckQuery(std::string_view input);

}  // namespace bysans::sta::fuzz
