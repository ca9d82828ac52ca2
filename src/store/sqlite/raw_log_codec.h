// Encoding of one raw_log row: the raw messages of one group commit, with
// consecutive ids from the row's id (its first message) on. Messages are
// written once and never rewritten; a re-decode's new status goes to
// raw_decode (raw_messages_read.h applies it).
//
// Per message: varint device id, zig-zag varint received_ms delta from the
// previous message (from 0 for the first), one byte transport, one byte decode
// status, the content type as a varint code (0 = a varint-length literal
// follows; 1.. = the common types below), then varint-length payload, decode
// error and dedup key, and (format 2) varint-length decode notes: empty, or
// EncodeDecodeNotes' bytes. The blob starts with a format byte; format 1 rows
// (written before migration 15, without notes) are still read. Format 3 is format 2
// compressed: the byte 3, then one zstd frame holding a format 2 row without its format byte
// (CompressRawLog; ChirpStack events of one commit shrink ~13x: fewer WAL, checkpoint and disk
// bytes per message).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "store/sqlite/zstd_blob.h"

namespace bysans::sqlite {

// One message of a raw_log row, its strings viewing the row's blob.
struct RawLogEntry {
  Id id = 0;
  Id device_id = 0;
  TimeMs received_ms = 0;
  Transport transport = Transport::kHttp;
  DecodeStatus decode_status = DecodeStatus::kPending;
  std::string_view content_type;
  std::string_view payload;
  std::string_view decode_error;
  std::string_view dedup_key;
  std::string_view decode_notes;  // EncodeDecodeNotes' bytes, or empty

  RawMessage ToMessage() const;
};

// An erased message (store/sqlite/raw_erase.cc) stays in its row as a tombstone: device id 0
// (never a device's), its time, and nothing else, so the ids after it keep their places.
inline constexpr Id kErasedDevice = 0;

// A decode's errors and warnings (RawMessage::decode_errors / decode_warnings) as bytes: empty
// when both are empty, else varint count and varint-length strings of the errors, then of the
// warnings. Also the raw_decode.notes column.
std::string EncodeDecodeNotes(const std::vector<std::string>& errors,
                              const std::vector<std::string>& warnings);
// The reverse (either output may be null); false on corrupt input.
bool DecodeDecodeNotes(std::string_view in, std::vector<std::string>* errors,
                       std::vector<std::string>* warnings);

// Appends the encoding of `msgs` (a whole row, format 2) to *out.
void EncodeRawLog(std::span<const RawMessage* const> msgs, std::string* out);

// The row to store for the format 2 row `row`: format 3 when that is smaller (rows under a few
// hundred bytes are left as they are), else `row` itself. *scratch holds the compressed row.
Result<std::string_view> CompressRawLog(std::string_view row, ZstdCompressor& z,
                                        std::string* scratch);

// The largest decompressed row a reader accepts: SQLite's default blob limit, which bounded
// every uncompressed row; larger rows are not compressed (and SQLite refuses them as before),
// and a frame declaring more is corrupt.
inline constexpr size_t kMaxRawLogRowBytes = 1'000'000'000;

// Reads a raw_log row's messages in order. `data` must outlive the reader; the entries it
// gives live as long as both (a format 3 row is decompressed into the reader).
class RawLogReader {
 public:
  RawLogReader(std::string_view data, Id first_id);  // reads formats 1, 2 and 3
  RawLogReader(const RawLogReader&) = delete;
  RawLogReader& operator=(const RawLogReader&) = delete;
  // The next message; false at the end or on corrupt input (then status() says so). Erased
  // messages (tombstones) are skipped; the ids of the others stay as they were.
  bool Next(RawLogEntry* e);
  // As Next, tombstones included (device_id kErasedDevice): for rewriting a row.
  bool NextEntry(RawLogEntry* e);
  const Status& status() const { return status_; }

 private:
  bool Fail();

  std::string plain_;  // a format 3 row, decompressed
  std::string_view in_;
  Id next_id_;
  char format_ = 0;
  TimeMs prev_ms_ = 0;
  Status status_;
};

}  // namespace bysans::sqlite
