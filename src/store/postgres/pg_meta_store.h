// MetaStore on PostgreSQL 15 (issue 19): organisations, applications, device models, devices and
// their location history, users, memberships, invitations, API keys, sessions and the audit log,
// in the tables of migration 3 (schema_meta.cc). Layout and reasons: README.md. Not wired into the
// server yet.
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "store/store.h"

namespace bysans {

namespace pg {
class Pool;  // pool.h (folder-private)
}  // namespace pg

// A MetaStore on `pool`'s database, whose schema is migrated (pg::ApplyMigrations). `pool` and
// `clock` must outlive the store.
std::unique_ptr<MetaStore> NewPostgresMetaStore(pg::Pool& pool, const Clock& clock);

// Applies the migrations to the database at `url` and opens a MetaStore on a pool of its own
// (for tests and tools that have no pool). `clock` must outlive the store.
Result<std::unique_ptr<MetaStore>> OpenPostgresMetaStore(const std::string& url,
                                                         const Clock& clock);

}  // namespace bysans
