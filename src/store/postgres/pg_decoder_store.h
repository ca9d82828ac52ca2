// DecoderStore on PostgreSQL 15 (issue 19): decoders, their versions and attachments and re-decode
// jobs in migration 4's tables (schema_rules.cc); re-decode paging and results on the SeriesStore's
// raw_messages (migration 1). Not wired into the server yet.
#pragma once

#include <memory>

#include "store/decoder_store.h"

namespace bysans {
namespace pg {
class Pool;
}

class PostgresDecoderStore : public DecoderStore {
 public:
  // Bumps generation() for a change another node made (the change feed, change_feed.h); sends
  // nothing to other nodes.
  virtual void BumpLocal() = 0;
};

// `pool` must outlive the store; the schema must be migrated (pg::ApplyMigrations).
std::unique_ptr<PostgresDecoderStore> NewPostgresDecoderStore(pg::Pool& pool);

}  // namespace bysans
