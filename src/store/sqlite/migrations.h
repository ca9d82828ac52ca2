// Versioned schema migrations: an ordered list, each applied once in its own
// transaction and recorded in schema_version.
#pragma once

#include "core/status.h"
#include "store/sqlite/db.h"

namespace bysans::sqlite {

// Applies every migration newer than the database's version. `now_ms` is
// recorded with each applied version. Returns the number applied.
Result<int> Migrate(Db& db, int64_t now_ms);

}  // namespace bysans::sqlite
