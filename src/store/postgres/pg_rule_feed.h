// RuleFeed on PostgreSQL (store/rule_feed.h): the table `rule_feed`, migration 15 (RuleFeedSchema,
// schema.h). The series writer appends to it in its commits (postgres_series_store.cc).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/rule_feed.h"

namespace bysans::pg {

class Pool;
std::unique_ptr<RuleFeed> NewPostgresRuleFeed(Pool& pool);

// A rule_feed row holds every record of one partition in one group commit (migration 20; one row
// per message before): each record as its length (4 bytes, big-endian) and then
// EncodeRuleFeedRecord's bytes, in commit order. Its entries share the row's id, so they are
// acknowledged together.
void AppendPackedFeedRecord(std::string& packed, std::string_view record);
// The records of a packed row, in order; an error when a length runs past the row's end.
Result<std::vector<std::string_view>> SplitPackedFeedRecords(std::string_view packed);

}  // namespace bysans::pg
