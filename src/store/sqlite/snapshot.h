// Whole-database copies for `bysans backup` / `restore` (backup/): a consistent snapshot of a
// database that a running server keeps writing, and a check of a copy before it is used.
#pragma once

#include <string>

#include "core/status.h"

namespace bysans::sqlite {

// Copies the database at `src` into the new file `dest` with SQLite's online backup, all pages in
// one step, i.e. inside one read transaction: every transaction committed before the copy began
// is in it, none that commits later, and the writer is never blocked (WAL). The copy is one
// self-contained file (rollback journal mode; the store switches it back to WAL when it opens
// it), synced to disk.
Status SnapshotDatabase(const std::string& src, const std::string& dest);

// SQLite's quick_check of the database file at `path`, opened read-only: ok, or the first
// problem it reports.
Status CheckDatabase(const std::string& path);

}  // namespace bysans::sqlite
