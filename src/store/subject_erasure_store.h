// SubjectErasureStore: "erase a data subject" (issue 18, api/subject_erasure.cc). The jobs
// (persisted, so queued and running ones resume after a restart) and the erasure primitives the
// job needs beside SeriesStore's (DeleteReadings, EraseRawMessages): a device's downlinks, alarms
// and share-log copies in a time range. Thread-safe, like every store interface (store.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans {

// One "erase a data subject" job of an organisation.
struct SubjectErasureJob {
  Id id = 0;
  Id org_id = 0;
  std::string state = "queued";  // queued | running | done | failed
  std::string request_json;      // the request as the API validated it
  std::string report_json;       // what was (or, in progress, has been) removed
  std::string error;             // why it failed
  std::optional<Id> user_id;     // who asked (a user), for the audit entry at the end
  std::optional<Id> api_key_id;  // ... or an API key
  std::string requested_by;      // the caller's name (email or "apikey:<prefix>")
  TimeMs created_ms = 0;
  TimeMs updated_ms = 0;
};

class SubjectErasureStore {
 public:
  virtual ~SubjectErasureStore() = default;

  // Assigns id and times.
  virtual Result<SubjectErasureJob> CreateSubjectErasure(SubjectErasureJob job) = 0;
  virtual Result<SubjectErasureJob> GetSubjectErasure(Id id) = 0;
  // The organisation's jobs, newest first.
  virtual Result<std::vector<SubjectErasureJob>> ListSubjectErasures(Id org_id) = 0;
  // Jobs still queued or running (of every organisation), oldest first.
  virtual Result<std::vector<SubjectErasureJob>> UnfinishedSubjectErasures() = 0;
  // State, report, error and updated time.
  virtual Status UpdateSubjectErasure(const SubjectErasureJob& job) = 0;

  // The primitives: each removes (or, when `dry_run`, only counts) what device `device_id`
  // left in [from, to] (inclusive) and returns how many. Rows are deleted with
  // secure_delete=ON (their pages zeroed); ScrubFiles then empties the WAL.
  // Downlinks queued or sent for the device, by creation time.
  virtual Result<int64_t> EraseDownlinks(Id device_id, TimeMs from, TimeMs to, bool dry_run) = 0;
  // Alarms raised on the device, by the time they were raised.
  virtual Result<int64_t> EraseAlarms(Id device_id, TimeMs from, TimeMs to, bool dry_run) = 0;
  // The device's records in application `app_id`'s share log (data targets, target_store.h),
  // by receive time: each becomes a tombstone (device 0, no content) so that positions and
  // cursors stay; and its dead letters (copies a target gave up on) are deleted.
  virtual Result<int64_t> EraseShareCopies(Id app_id, Id device_id, TimeMs from, TimeMs to,
                                           bool dry_run) = 0;
  // The device's own responsible contacts (contact_store.h; its application's are not the
  // subject's and stay).
  virtual Result<int64_t> EraseDeviceContacts(Id device_id, bool dry_run) = 0;
  // Free pages overwritten and the WAL checkpointed and truncated: nothing erased remains in
  // the files.
  virtual Status ScrubFiles() = 0;
};

}  // namespace bysans
