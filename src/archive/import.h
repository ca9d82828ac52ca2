// Import of an archive (README.md) as a new organisation beside the others: everything is
// checked first (format version, every file's SHA-256 and record count, the type of every field
// of every record, references between files), then written with new ids. Secrets are not in an
// archive: HTTP devices get no ingest key, data targets and integrations no credential (targets
// paused, integrations disabled), rules are disabled, members are invited (no password).
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace bysans::archive {

struct ImportOptions {
  std::string org_name;  // empty = the archive's organisation name
  Id invited_by = 0;     // the importing user (members' invitations), 0 = none
  TimeMs invitation_ttl_ms = 7 * 86'400'000;
  // Progress: (lines of readings and raw messages written, in all).
  std::function<void(int64_t, int64_t)> progress;
  int64_t batch_readings = 50'000;  // readings per store commit
};

struct ImportReport {
  Id org_id = 0;
  std::string org_name;
  int64_t applications = 0, devices = 0, device_models = 0, decoders = 0, rules = 0,
          data_targets = 0, integrations = 0, invitations = 0, readings = 0, raw_messages = 0,
          silences = 0, alarms = 0;
  std::vector<std::string> notes;  // what needs a person: secrets to re-enter, clashes
};

// Checks the archive without writing anything; the error names the file, line and field.
Status VerifyArchive(const std::string& path);

// VerifyArchive, then the import. On a failure after the organisation was created it is deleted
// again (its data goes as a deleted organisation's does), so a re-run starts clean. `cancel` stops
// it (kUnavailable) the same way.
Result<ImportReport> ImportArchive(Store& store, const Clock& clock, const std::string& path,
                                   const ImportOptions& opts, const std::atomic<bool>& cancel);

}  // namespace bysans::archive
