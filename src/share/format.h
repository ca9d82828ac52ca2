// The bodies data targets send (pure functions, no I/O).
//   "bysans": the envelope {"device": {id, name, devEui, location}, "receivedAt", "messageId",
//             "readings": [{key, value, unit, quality, ts}], "decoded"}
//   "os2iot": the decoded payload as the decoder returned it (OS2iot's HTTP push body)
// With batching (batch size > 1) a request carries a JSON array of them, oldest first.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "model/model.h"
#include "store/target_store.h"

namespace bysans::share {

inline constexpr const char* kFormatBysans = "bysans";
inline constexpr const char* kFormatOs2iot = "os2iot";
bool IsKnownFormat(std::string_view format);

// The device of a record, or null when it no longer exists (the envelope then carries only
// its id).
using DeviceLookup = std::function<const Device*(Id device_id)>;

// One record's body in `format`.
std::string FormatRecord(std::string_view format, const ShareRecord& r, const DeviceLookup& device);
// The body of one request: the record's body when `batched` is false (one record), else a
// JSON array of the records' bodies.
std::string FormatRequest(std::string_view format, std::span<const ShareRecord> records,
                          bool batched, const DeviceLookup& device);

// An MQTT target's topic for a record: the template with {application} (application id),
// {device} (device id), {devEui} and {deviceName} replaced; '/', '+', '#' and NUL in a
// replaced value become '_' (a value never adds a topic level or a wildcard).
std::string ExpandTopic(std::string_view tmpl, Id app_id, const ShareRecord& r,
                        const Device* device);

}  // namespace bysans::share
