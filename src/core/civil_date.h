// Calendar dates (proleptic Gregorian, no time zone) to and from a day count since 1970-01-01:
// Howard Hinnant's civil-date algorithms, the one copy for the timestamp formats, SensorThings'
// date functions and PostgreSQL's monthly partitions.
#pragma once

#include <cstdint>

namespace bysans {

struct CivilDate {
  int64_t year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};

// Days since 1970-01-01 of a date (negative before it).
int64_t DaysFromCivil(int64_t year, int month, int day);
// The date of a day count since 1970-01-01 (the inverse).
CivilDate CivilFromDays(int64_t days);

}  // namespace bysans
