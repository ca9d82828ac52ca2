// RuleStore on PostgreSQL 15 (issue 19): rules, alarms, silences, the action outbox and the
// delivery log in migration 4's tables (schema_rules.cc). Rule definitions and outbox specs are
// stored as the caller gives them: act/action_secrets.h seals the actions' secrets with the
// SecretBox before they reach a store, on every backend alike.
#pragma once

#include <memory>
#include <vector>

#include "store/rule_store.h"

namespace bysans {
namespace pg {
class Pool;
}

// PostgreSQL's RuleStore (a type of its own for the tests that reach into its tables). The
// outbox claims (RuleStore::ClaimDueOutbox) use the column claimed_until of migration 4: one
// UPDATE over a `FOR UPDATE SKIP LOCKED` selection, so senders on several nodes never claim the
// same row.
class PostgresRuleStore : public RuleStore {
 public:
  // Calls the listeners with a change another node made (the change feed, change_feed.h), or
  // kReloadAll after the feed reconnected. Sends nothing to other nodes.
  virtual void NotifyListeners(const RuleStoreChange& change) = 0;
};

// `pool` must outlive the store; the schema must be migrated (pg::ApplyMigrations).
std::unique_ptr<PostgresRuleStore> NewPostgresRuleStore(pg::Pool& pool);

}  // namespace bysans
