// A device's latest values as one text column (`device_latest.vals`, migration 18): every key's
// newest reading packed into one row, so the latest values of 10,000 devices are 10,000 rows to
// read and send, not 60,000 (issue 19's latest_10k_ms). Pure code, no libpq: the writer merges a
// group commit's readings into the rows it holds, Latest decodes them.
//
// Text form, one line per key, sorted by key:
//   <key length>:<key> <ts> <kind> <num> <quality> <unit length>:<unit> <text length>:<text>\n
// kind: 0 number, 1 text, 2 bool (as `readings.kind`); num is the number or the bool as 0/1
// (shortest round-trip form; nan, inf, -inf); lengths are in bytes, so a key, unit or text may
// hold any character PostgreSQL's text allows (it refuses NUL, as for `readings.txt`).
//
// The row is rewritten whole at each of the device's messages, so it holds only what keeps it
// small whatever a device sends: entries of at most kMaxPackedEntryBytes (key, unit and text),
// at most kMaxPackedKeys of them. A latest reading that does not fit is kept apart, a row of its
// own in `series_latest` (migration 23, pg_latest_values.h); a reader takes the newer of the two
// where a key has both (the packed one when both are of the same time: a write kept apart always
// removes the key's older-or-same packed entry).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans::pg {

struct LatestEntry {
  std::string key;
  TimeMs ts = 0;
  int kind = 0;
  double num = 0;
  int quality = 0;
  std::string unit;
  std::string txt;
  int64_t series = 0;  // not in the text form: the series an entry kept apart is written for
};

constexpr size_t kMaxPackedEntryBytes = 256;
constexpr size_t kMaxPackedKeys = 128;
// Whether the entry is small enough for the packed row.
bool FitsPacked(const LatestEntry& e);

// Sorted by key, one entry per key.
using LatestRow = std::vector<LatestEntry>;

std::string EncodeLatestRow(const LatestRow& row);
Result<LatestRow> DecodeLatestRow(std::string_view text);
// Appends the row's entries to `out` as readings of `device` (in key order); false (and `out` as
// it was) when the text is not a row.
bool AppendLatestReadings(std::string_view text, Id device, std::vector<Reading>& out);

// Puts `e` in the row unless the row holds a newer reading of its key (a reading at the same time
// replaces the stored one, as the last write of a (series, time) wins). Returns whether it did.
bool MergeLatest(LatestRow& row, LatestEntry e);
// Removes the key's entry; returns whether there was one.
bool RemoveLatest(LatestRow& row, std::string_view key);
// The key's entry, or nullptr.
LatestEntry* FindLatest(LatestRow& row, std::string_view key);

// An entry as a reading of `device`.
Reading ReadingOf(const LatestEntry& e, Id device);

// Latest readings by (device, key), as Latest returns them: `apart` (readings kept apart, any
// order) merged into `packed` (sorted by device, then key), each key's newer reading kept (the
// packed one at the same time). With `from_apart`, it gets for each reading of the result the
// index in `apart` it came from, or -1 for a packed one (empty when `apart` is).
void MergeApart(std::vector<Reading>& packed, std::vector<Reading> apart,
                std::vector<int>* from_apart = nullptr);

}  // namespace bysans::pg
