// "Erase a data subject" (issue 18): all data of an organisation's devices that carry a tag or a
// metadata value (a citizen's pseudonymous id) in a time range — readings, raw messages,
// downlinks, alarms and data-target share-log copies — removed from the database file, as an
// audited job with a report (api/subject_erasure.cc; routes in api/subject_erasure_routes.cc).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "api/common.h"

namespace bysans::api {

// Which devices: those with `tag`, or those whose metadata `meta_key` equals `meta_value`.
struct SubjectSelector {
  std::string tag;
  std::string meta_key;
  std::string meta_value;
};

struct SubjectErasureRequest {
  SubjectSelector selector;
  TimeMs from = INT64_MIN;  // inclusive; INT64_MIN/MAX = all time
  TimeMs to = INT64_MAX;
  bool delete_devices = false;  // the devices go too (with everything else they hold)
  bool dry_run = false;         // answer what would go, remove nothing
};

// {"tag": "..."} or {"metadata": {"key": "...", "value": "..."}}, optional "from"/"to" (RFC 3339
// or ms), "deleteDevices", "dryRun"; kInvalidArgument naming what is wrong.
Result<SubjectErasureRequest> ParseSubjectErasureRequest(const json& body);
json SubjectErasureRequestJson(const SubjectErasureRequest& r);

// The devices of organisation `org_id` (only) the selector matches, by id.
Result<std::vector<Device>> MatchSubjectDevices(Store& store, Id org_id, const SubjectSelector& s);

// What was (or, in a dry run, would be) removed of one device.
struct SubjectDeviceReport {
  Id id = 0;
  std::string name;
  int64_t readings = 0;
  int64_t raw_messages = 0;
  int64_t downlinks = 0;
  int64_t alarms = 0;
  int64_t share_records = 0;  // share-log records and dead letters of data targets
  int64_t contacts = 0;       // the device's own responsible contacts (whole history only)
  bool device_deleted = false;
  bool done = false;
};
json SubjectDeviceReportJson(const SubjectDeviceReport& r);
SubjectDeviceReport SubjectDeviceReportFrom(const json& j);

// Removes (or counts) the device's data in [from, to]; `stop` ends it early (kUnavailable).
// Counts are taken before each removal.
Result<SubjectDeviceReport> EraseSubjectDevice(Store& store, const Device& d, TimeMs from,
                                               TimeMs to, bool dry_run, bool delete_device,
                                               const std::atomic<bool>& stop);

// The report of a job or dry run: {"devices": [...], "totals": {...}}.
json SubjectReportJson(const std::vector<SubjectDeviceReport>& devices);

}  // namespace bysans::api
