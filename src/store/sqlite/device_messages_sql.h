// SQL for the raw messages of one device.
//
// raw_messages has no index on device_id: with many devices its entries would
// land on as many B-tree pages per group commit (3.2 KB of WAL per message in
// bench/mqtt). The writer instead adds (device, message) pairs to
// raw_device_index in sorted batches, and seal_state.raw_indexed_upto says that
// every message up to that id is there. A device's messages are therefore the
// union of two arms, read in one statement (one snapshot):
//   newest: id > raw_indexed_upto AND device_id = ?1   (a short rowid range scan)
//   indexed: raw_device_index (dev = ?1, msg <= raw_indexed_upto) → raw_messages
// Both arms deliver rows in id order, so ORDER BY id ... LIMIT merges them.
#pragma once

#include <string>
#include <string_view>

#include "store/sqlite/raw_message_row.h"

namespace bysans::sqlite {

namespace device_messages_internal {

inline std::string Replace(std::string_view where, std::string_view id_column) {
  std::string out;
  for (size_t i = 0; i < where.size();) {
    if (where.compare(i, 4, "{id}") == 0) {
      out += id_column;
      i += 4;
    } else {
      out += where[i++];
    }
  }
  return out;
}

inline constexpr std::string_view kUpto = "(SELECT raw_indexed_upto FROM seal_state)";

}  // namespace device_messages_internal

// FROM ... WHERE of the newest arm; `where` (may be empty) is ANDed, "{id}" in
// it stands for the message id. Parameter ?1 is the device id.
inline std::string NewestArm(std::string_view where) {
  using namespace device_messages_internal;
  std::string s = "FROM raw_messages WHERE id > " + std::string(kUpto) + " AND device_id = ?1";
  if (!where.empty()) s += " AND " + Replace(where, "id");
  return s;
}

// FROM ... WHERE of the indexed arm (same conventions).
inline std::string IndexedArm(std::string_view where) {
  using namespace device_messages_internal;
  std::string s =
      "FROM raw_device_index CROSS JOIN raw_messages ON id = msg WHERE dev = ?1 "
      "AND msg <= " +
      std::string(kUpto);
  if (!where.empty()) s += " AND " + Replace(where, "msg");
  return s;
}

// SELECT kRawMessageColumns of device ?1's messages matching `where`, then
// `order_limit` (which orders by column 1, the id).
inline std::string DeviceMessagesSql(std::string_view where, std::string_view order_limit) {
  const std::string cols(kRawMessageColumns);
  // In the indexed arm the id comes from the index (msg), so its order is the index's.
  const std::string indexed_cols = "msg" + cols.substr(cols.find(','));
  return "SELECT " + cols + " " + NewestArm(where) + " UNION ALL SELECT " + indexed_cols + " " +
         IndexedArm(where) + " " + std::string(order_limit);
}

// The number of device ?1's messages matching `where`.
inline std::string CountDeviceMessagesSql(std::string_view where) {
  return "SELECT (SELECT count(*) " + NewestArm(where) + ") + (SELECT count(*) " +
         IndexedArm(where) + ")";
}

}  // namespace bysans::sqlite
