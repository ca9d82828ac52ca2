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

// A rule_feed row holds the records of one organisation's devices in one partition in one group
// commit (migration 27; of every organisation since migration 20, one row per message before):
// each record as its length (4 bytes, big-endian) and then
// EncodeRuleFeedRecord's bytes, in commit order. Its entries share the row's id, so they are
// acknowledged together.
void AppendPackedFeedRecord(std::string& packed, std::string_view record);
// The records of one partition in one commit go into rows of at most this many bytes (a record
// bigger than that alone into its own): a larger value is TOASTed, compressed with pglz and
// written to a second table, which cost PostgreSQL more per message than the rows it saved (COPY
// of 23 messages per row took 12.6 µs per message against 8.7 with one row each; below the TOAST
// threshold of about 2 kB, PostgreSQL stores the row as it is).
inline constexpr size_t kFeedRowBytes = 1900;
// Appends the record to the last of `rows` while that stays within kFeedRowBytes, else to a new
// row.
void AddFeedRecord(std::vector<std::string>& rows, std::string_view record);
// The records of a packed row, in order; an error when a length runs past the row's end.
Result<std::vector<std::string_view>> SplitPackedFeedRecords(std::string_view packed);

}  // namespace bysans::pg
