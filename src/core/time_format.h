// RFC 3339 at the edges, int64 ms inside.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace bysans {

// "2026-11-25T14:55:38.123Z" (always UTC, always milliseconds).
std::string FormatRfc3339(TimeMs t);
// The same appended to `out`, without a temporary (for writers of many timestamps).
void AppendRfc3339(std::string& out, TimeMs t);

// Parses RFC 3339 / ISO 8601 ("2026-11-25T14:55:38Z", fractional seconds,
// "+01:00" offsets, a date alone "2026-11-25") or an integer of ms since the
// epoch. Returns nullopt on anything else.
std::optional<TimeMs> ParseTime(std::string_view text);

// Parses a duration like "500ms", "10s", "15m", "1h", "7d". nullopt if bad.
std::optional<TimeMs> ParseDurationMs(std::string_view text);

}  // namespace bysans
