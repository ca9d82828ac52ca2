// The bounded steps of erasure and retention on PostgreSQL (PostgresSeriesStore's
// EraseRawMessages and ApplyRetention) and the VACUUM that follows an erasure. Each function runs
// its own short transactions on the connection it is given and throws pqxx's exceptions (the
// store turns them into a Status). Why and what PostgreSQL guarantees: README.md "Erasure and
// retention".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"

namespace pqxx {
class connection_base;  // pqxx::connection derives from it; pqxx stays in this folder's .cc files
}

namespace bysans::pg {

constexpr int64_t kRawBatch = 1'000;            // raw messages deleted per transaction
constexpr int64_t kRetentionStepRows = 10'000;  // readings or hourly rows deleted per step
constexpr size_t kRetentionStepSeries = 256;    // series looked at per step

// Deletes the raw messages of `device` received in [from, to], oldest first, in transactions
// of at most `batch` messages (a message committed meanwhile behind the cursor is left for the
// next run); returns how many were deleted.
int64_t DeleteRawMessages(pqxx::connection_base& c, Id device, TimeMs from, TimeMs to,
                          int64_t batch = kRawBatch);

// The devices among `devices` that have a raw message received before `before` (one statement).
std::vector<Id> DevicesWithRawBefore(pqxx::connection_base& c, const std::vector<Id>& devices,
                                     TimeMs before);

// The series of these devices that have a reading, ordered by id.
std::vector<int64_t> SeriesWithReadings(pqxx::connection_base& c, const std::vector<Id>& devices);

// One retention step (one transaction, at most kRetentionStepRows rows, kRetentionStepSeries
// series from the front of `pending`): the readings older than `before` and than the series'
// newest reading are deleted, oldest first. Series with nothing more to do leave `pending`.
// Returns the readings deleted.
int64_t ExpireReadingsStep(pqxx::connection_base& c, std::vector<int64_t>& pending, TimeMs before);

// One retention step of the hourly rollups: the hours before the hour of `before` and before the
// hour of the series' oldest remaining reading (hours whose readings are all gone) are deleted.
// Returns the hourly rows deleted.
int64_t ExpireHoursStep(pqxx::connection_base& c, std::vector<int64_t>& pending, TimeMs before);

// Plain VACUUM of these tables (a SHARE UPDATE EXCLUSIVE lock: ingest goes on), outside any
// transaction, after this connection's statistics were flushed (so pg_stat_user_tables shows
// what the VACUUM left). `index_cleanup` forces the removal of the dead index entries too
// (PostgreSQL 14+ may otherwise skip the indexes when few rows died).
void Vacuum(pqxx::connection_base& c, const std::vector<std::string>& tables, bool index_cleanup);

}  // namespace bysans::pg
