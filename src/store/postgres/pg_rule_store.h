// RuleStore on PostgreSQL 15 (issue 19): rules, alarms, silences, the action outbox and the
// delivery log in migration 4's tables (schema_rules.cc). Rule definitions and outbox specs are
// stored as the caller gives them: act/action_secrets.h seals the actions' secrets with the
// SecretBox before they reach a store, on every backend alike. Not wired into the server yet.
#pragma once

#include <memory>
#include <vector>

#include "store/rule_store.h"

namespace bysans {
namespace pg {
class Pool;
}

class PostgresRuleStore : public RuleStore {
 public:
  // PostgreSQL only, for several nodes sending from one outbox (not used by act/Outbox yet, which
  // still polls ListPendingOutbox and so would deliver a row once per node): takes up to `limit`
  // pending rows due at `now` (next_attempt_ms <= now) that no caller holds, oldest first, and
  // holds them until now + lease_ms. Until then no other ClaimDueOutbox returns them, on any
  // connection or node (one UPDATE over a `FOR UPDATE SKIP LOCKED` selection). RecordAttempt
  // releases the row; a holder that dies leaves it to be claimed again after the lease (delivery
  // at least once).
  virtual Result<std::vector<OutboxEntry>> ClaimDueOutbox(int64_t limit, TimeMs now,
                                                          TimeMs lease_ms) = 0;
  // Calls the listeners with a change another node made (the change feed, change_feed.h), or
  // kReloadAll after the feed reconnected. Sends nothing to other nodes.
  virtual void NotifyListeners(const RuleStoreChange& change) = 0;
};

// `pool` must outlive the store; the schema must be migrated (pg::ApplyMigrations).
std::unique_ptr<PostgresRuleStore> NewPostgresRuleStore(pg::Pool& pool);

}  // namespace bysans
