// ISO 8601 instants, durations and times of day for the $filter literals and
// the date functions; civil (proleptic Gregorian) fields of an instant.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "sta/query/value.h"

namespace bysans::sta {

// "2020-01-02T03:04:05.678+01:00", "...Z", "2020-01-02" (midnight UTC);
// keeps the offset for totaloffsetminutes(). nullopt when malformed.
std::optional<TimeValue> ParseIsoTime(std::string_view text);
// "2020-01-01T00:00:00Z/2020-01-02T00:00:00Z" (ISO 8601 start/end, as the
// standard writes phenomenonTime intervals) -> {start, end} in ms; nullopt
// when malformed or end < start.
struct TimeInterval {
  int64_t start = 0, end = 0;
};
std::optional<TimeInterval> ParseIsoInterval(std::string_view text);
// "P1DT2H3M4.5S", "PT15M", "P2W", "-P1D": days and shorter only (years and
// months have no fixed length); ms. nullopt when malformed.
std::optional<int64_t> ParseIsoDuration(std::string_view text);
// "07:16:23", "07:16", "07:16:23.5" -> ms since midnight.
std::optional<int64_t> ParseTimeOfDay(std::string_view text);

struct CivilTime {
  int64_t year = 1970;
  int month = 1, day = 1, hour = 0, minute = 0, second = 0, millis = 0;
};
// The fields of `t` in its own offset (local time as written).
CivilTime ToCivil(const TimeValue& t);

}  // namespace bysans::sta
