// The property every input must satisfy, shared by the libFuzzer target and
// the replay test: parsing never crashes or hangs; an error names a position
// inside the input (offset ≤ size) and its message starts with "at "; a
// parsed expression evaluates without crashing and its canonical form parses
// back to the same canonical form (unless the canonical form hits a limit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bysans::rules::fuzz {

// Returns an empty string when the property holds, else what went wrong.
std::string CheckExpression(std::string_view input);

}  // namespace bysans::rules::fuzz
