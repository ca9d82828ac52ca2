// Export of one organisation into an archive (README.md): its metadata without secrets, every
// reading and every raw message, streamed from the store (a page of one series at a time).
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace bysans::archive {

struct ExportOptions {
  std::string bysans_version;
  // Progress: (devices done, devices in all).
  std::function<void(int64_t, int64_t)> progress;
  // Privacy hook (issue 18, privacy classes): true = leave this metadata field of the device out
  // of the archive (a field marked personal). Empty: every field is exported.
  std::function<bool(const Device&, const std::string& key)> skip_metadata;
};

struct ExportSummary {
  int64_t devices = 0;
  int64_t readings = 0;
  int64_t raw_messages = 0;
  int64_t alarms = 0;
  int64_t bytes = 0;
};

// Writes the organisation's archive to `out_path`: first to `out_path`.partial (and spool files
// in `out_path`.spool/), renamed to `out_path` only once complete, so an interrupted or failed
// export leaves nothing behind. Read from a store nobody writes to (a snapshot:
// archive/snapshot.h) for a consistent archive. `cancel` ends it early (kUnavailable).
Result<ExportSummary> ExportOrganization(Store& store, const Clock& clock, Id org_id,
                                         const std::string& out_path, const ExportOptions& opts,
                                         const std::atomic<bool>& cancel);

}  // namespace bysans::archive
