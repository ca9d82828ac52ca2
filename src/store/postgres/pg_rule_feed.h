// RuleFeed on PostgreSQL (store/rule_feed.h): the table `rule_feed`, migration 15 (RuleFeedSchema,
// schema.h). The series writer appends to it in its commits (postgres_series_store.cc).
#pragma once

#include <memory>

#include "store/rule_feed.h"

namespace bysans::pg {

class Pool;
std::unique_ptr<RuleFeed> NewPostgresRuleFeed(Pool& pool);

}  // namespace bysans::pg
