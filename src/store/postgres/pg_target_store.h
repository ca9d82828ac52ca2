// TargetStore on PostgreSQL 15 (issue 19; store/target_store.h): data targets with their sealed
// header values and MQTT password, cursors, the share log's reads and pruning, dead letters and
// the delivery log, in the tables of migration 11 (schema_targets.cc). The share log itself is
// written by PostgresSeriesStore in the message's transaction. Not wired into the server yet.
#pragma once

#include <memory>
#include <string>

#include "core/secret_box.h"
#include "store/target_store.h"

namespace bysans {

namespace pg {
class Pool;  // pool.h (folder-private)
}  // namespace pg

class PostgresTargetStore : public TargetStore {
 public:
  // Bumps targets_generation() for a change another node made (the change feed,
  // change_feed.h); sends nothing to other nodes.
  virtual void BumpLocal() = 0;
};

// A TargetStore on `pool`'s database, whose schema is migrated (pg::ApplyMigrations). Header
// values and passwords are sealed with `box`. `pool` and `box` must outlive the store.
std::unique_ptr<PostgresTargetStore> NewPostgresTargetStore(pg::Pool& pool, const SecretBox& box);

// Applies the migrations to the database at `url` and opens a TargetStore on a pool of its own
// (for tests and tools that have no pool). `box` must outlive the store.
Result<std::unique_ptr<TargetStore>> OpenPostgresTargetStore(const std::string& url,
                                                             const SecretBox& box);

}  // namespace bysans
