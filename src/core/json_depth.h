// The one nesting limit for JSON that arrives from outside (API bodies,
// decoder test payloads, device messages). Recursive code (nlohmann's dump(),
// copies, comparisons; our own walkers) must never see a document nested so
// deeply that it exhausts the stack, so the text is checked before parsing.
#pragma once

#include <string_view>

#include "core/status.h"

namespace bysans {

inline constexpr int kMaxJsonDepth = 64;

// Ok when no object or array in `text` is nested deeper than `max_depth`
// levels (the top-level value counts as level 1); kInvalidArgument "JSON
// nested deeper than N levels" otherwise. A linear scan that skips string
// contents; it does not validate the JSON (the parser does that).
Status CheckJsonDepth(std::string_view text, int max_depth = kMaxJsonDepth);

}  // namespace bysans
