// Versioned schema migrations of the PostgreSQL store: a positional list (version = index + 1),
// recorded in `schema_migrations`. ApplyMigrations runs the missing ones in one transaction that
// first takes pg_advisory_xact_lock(kMigrationLock), so nodes starting at once apply each exactly
// once (the second waits, then finds them applied). Append new migrations at the END only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace bysans::pg {

// The advisory lock key of migrations (and of partition creation, which is DDL too).
inline constexpr int64_t kMigrationLock = 0x62797361'6e73'0001;  // "bysans" 1

const std::vector<std::string>& Migrations();

// Connects to `url` (postgresql://…) and brings the schema up to date (or only up to version
// `upto` when > 0: tests of a migration over data of the versions before); the schema's version.
Result<int> ApplyMigrations(const std::string& url, int upto = 0);

}  // namespace bysans::pg
