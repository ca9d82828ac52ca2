// Text forms PostgreSQL parses, without libpq: array literals for `unnest($1::bigint[])` batch
// parameters, bytea hex, and the UTC month arithmetic of the readings' monthly partitions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bysans::pg {

std::string IntArray(const std::vector<int64_t>& v);       // {1,2,3}
std::string DoubleArray(const std::vector<double>& v);     // {1.5,NaN,-Infinity}
std::string TextArray(const std::vector<std::string>& v);  // {"a","b\"c"}
// A bigint[] as PostgreSQL prints it ({1,2,3}; {} for none); NULL elements are skipped.
std::vector<int64_t> ParseIntArray(std::string_view text);

std::string ByteaHex(std::string_view bytes);              // \x0001ff
void AppendHex(std::string& out, std::string_view bytes);  // 0001ff: ByteaHex without the \x
// Decodes a bytea in PostgreSQL's default (hex) output format.
std::string FromByteaHex(std::string_view text);

// Floor of t to a multiple of step (also for negative t).
int64_t FloorTo(int64_t t, int64_t step);

// A UTC month as year*12 + (month-1), and its first millisecond.
int64_t MonthOf(int64_t ts_ms);
int64_t MonthStartMs(int64_t month);
// The partition of readings holding that month: readings_p202401.
std::string PartitionName(int64_t month);

// The URL without its user and password (for messages and logs).
std::string RedactedUrl(const std::string& url);

}  // namespace bysans::pg
