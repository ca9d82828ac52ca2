// Encoding of share log records (store/target_store.h), used by both backends. SQLite: one
// share_log row per group commit and application holds that commit's records of the application,
// in commit order; a record's position is (row id << kShareIndexBits) | its index in the row, so
// positions grow in commit order and a cursor is one integer. PostgreSQL: one row per record
// (its position a column), the record encoded alone (a row of one). Dead letters keep one record
// encoded the same way on both.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/target_store.h"

namespace bysans {

inline constexpr int kShareIndexBits = 20;  // at most 2^20 records per row (one group commit)
inline constexpr int64_t ShareRowOf(int64_t position) { return position >> kShareIndexBits; }
inline constexpr int64_t ShareIndexOf(int64_t position) {
  return position & ((int64_t{1} << kShareIndexBits) - 1);
}
inline constexpr int64_t SharePosition(int64_t row, int64_t index) {
  return (row << kShareIndexBits) | index;
}

// Appends one record to a row's blob (position is not encoded: it is the row id and index).
void EncodeShareRecord(Id device_id, TimeMs received_ms, Id message_id,
                       std::string_view decoded_json, std::span<const Reading> readings,
                       std::string* out);
// Decodes the records of a row; record i gets position SharePosition(row, i). Only records
// with a position after `after` are appended to *out. Fails on corrupt input.
Status DecodeShareRow(int64_t row, std::string_view data, int64_t after,
                      std::vector<ShareRecord>* out);

}  // namespace bysans
