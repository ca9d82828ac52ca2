// Reading one device's raw messages: raw_log rows (raw_log_codec.h) found
// through raw_device_runs up to seal_state.raw_indexed_upto and, above it, by
// reading the newest rows (at most one index batch); a re-decode's status and
// error (raw_decode) replace those the message was stored with.
// Call inside a read transaction, so every statement sees one snapshot.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "store/sqlite/db.h"
#include "store/sqlite/raw_device_runs.h"

namespace bysans::sqlite {

struct DeviceMessageFilter {
  Id device_id = 0;
  TimeMs from = INT64_MIN;  // received_ms in [from, to]
  TimeMs to = INT64_MAX;
  Id after_id = 0;  // only ids above this
};

enum class MessageOrder { kOldestFirst, kNewestFirst };

// Calls `visit` with each matching message in id order until it returns false.
Status VisitDeviceMessages(Db& db, const DeviceMessageFilter& f, MessageOrder order,
                           const std::function<bool(RawMessage&&)>& visit);

Result<int64_t> CountDeviceMessages(Db& db, const DeviceMessageFilter& f);

// A row above raw_indexed_upto: not yet known to hold any of the device's messages.
inline constexpr int64_t kUnknown = -1;

// The raw_log rows that may hold the device's messages in the filter's time range, ascending,
// with the count each holds (kUnknown above the index). With `count_inside` set, runs wholly
// inside the time range are only added to *count_inside.
Status FindRows(Db& db, const DeviceMessageFilter& f, std::vector<RunEntry>* rows,
                int64_t* count_inside);

// FindRows for several devices and messages received in [from, to] (what the erasure and
// retention passes work from): each device's rows from the index with its count, then, once for
// all of them, the rows above the index whose oldest message is at most `to` (device
// kErasedDevice, count kUnknown: which devices they hold is not known without reading them).
Status FindDeviceRows(Db& db, const std::vector<Id>& devices, TimeMs from, TimeMs to,
                      std::vector<DeviceInRow>* out);

}  // namespace bysans::sqlite
