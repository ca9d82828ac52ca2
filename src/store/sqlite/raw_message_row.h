// One place that maps a raw_messages row to a RawMessage: every query that
// reads raw messages selects kRawMessageColumns and converts with
// RawMessageFromRow.
#pragma once

#include "model/model.h"
#include "store/sqlite/db.h"

namespace bysans::sqlite {

inline constexpr const char* kRawMessageColumns =
    "id, device_id, received_ms, transport, content_type, payload, decode_status, decode_error";

// Reads the current row of a statement that selected kRawMessageColumns first.
inline RawMessage RawMessageFromRow(Stmt& st) {
  RawMessage m;
  m.id = st.Int(0);
  m.device_id = st.Int(1);
  m.received_ms = st.Int(2);
  m.transport = static_cast<Transport>(st.Int(3));
  m.content_type = st.Text(4);
  m.payload = std::string(st.Blob(5));
  m.decode_status = static_cast<DecodeStatus>(st.Int(6));
  m.decode_error = st.Text(7);
  return m;
}

}  // namespace bysans::sqlite
