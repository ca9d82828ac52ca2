// A raw_messages row (migration 1) as a RawMessage, and the decode notes column's text, shared by
// the SeriesStore (ingest, QueryMessages) and the DecoderStore (re-decode paging and results).
// Folder-private: brings in libpqxx.
#pragma once

#include <pqxx/pqxx>
#include <string>

#include "store/store.h"

namespace bysans::pg {

// The columns RawMessageFromRow reads, in its order.
inline constexpr const char* kRawMessageCols =
    "id, device_id, received_ms, transport, content_type, payload, decode_status, decode_error, "
    "decode_notes, coalesce(dedup_key, '')";
RawMessage RawMessageFromRow(const pqxx::row& row);

// decode_notes: JSON {"errors": […], "warnings": […]}, or "" when there are none.
std::string DecodeNotesText(const RawMessage& m);

}  // namespace bysans::pg
