// A consistent export of a database another thread or process may be writing: the database is
// copied in one read transaction (store/sqlite/snapshot.h, as backup/ does) to a scratch directory,
// opened as a store of its own (nothing writes to it), exported, and removed.
#pragma once

#include <atomic>
#include <string>

#include "archive/export.h"

namespace bysans::archive {

// `db_path`: the live database (bysans.db). `scratch_dir`: a directory for the copy (created,
// then removed with everything in it). Needs free space for one copy of the database.
Result<ExportSummary> ExportFromDatabase(const std::string& db_path, const std::string& scratch_dir,
                                         const Clock& clock, Id org_id, const std::string& out_path,
                                         const ExportOptions& opts,
                                         const std::atomic<bool>& cancel);

}  // namespace bysans::archive
