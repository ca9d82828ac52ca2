// SeriesStore on PostgreSQL 15 (issue 19): readings in monthly range partitions, hourly rollups
// and each device's latest values kept by the writers, raw messages; group commit on
// `store.writers` writer threads (shared out among the nodes, writer_share.h). Layout and
// reasons: README.md. The server's store when `store.url` names PostgreSQL.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "store/postgres/writer_share.h"
#include "store/store.h"

namespace bysans {

namespace pg {
class PgLiveRelay;  // pg_live_relay.h
}

struct PostgresStoreOptions {
  std::string url;                       // postgresql://user@host:port/database
  const Clock* clock = nullptr;          // required
  int64_t group_commit_interval_us = 0;  // paced batches wait this long for company
  size_t max_queue_batches = 4096;       // more queued: kUnavailable (back-pressure)
  // Readings per group commit (more wait for the next). Large: a bulk load's group then holds
  // several readings of each (series, hour), folded into one rollup upsert (bench/store at 2 M
  // readings with two writers: 112,000 readings/s at 50,000, 148,000 at 200,000); live ingest
  // commits far smaller groups anyway.
  size_t max_commit_readings = 200'000;
  int months_ahead = 2;    // partitions created ahead of the clock's month
  size_t max_readers = 4;  // pooled connections for reads
  // Group-commit writers, each a thread with its own connection, committing in parallel (the
  // backend of one writer idles while its writer builds the next group, and the other way round).
  // What the database takes from all nodes together: a node uses max(1, writers / nodes alive)
  // of them (writer_share.h). A device's batches are committed in order; operations run on the
  // first.
  int writers = 2;
  // This node's name in change notifications (PostgresStore's change feed, README "Change
  // feed"): unique per node of one database; "" = a random one.
  std::string node_id;
};

class PostgresSeriesStore final : public SeriesStore {
 public:
  // Connects, applies the migrations (pg/migrations.h) and starts the writer.
  static Result<std::unique_ptr<PostgresSeriesStore>> Open(PostgresStoreOptions options);
  ~PostgresSeriesStore() override;
  // Commits what is queued, stops the writer and closes the connections. Idempotent.
  void Close();

  void AppendShared(std::shared_ptr<const IngestBatch> batch, AppendDone done) override;
  Status Append(IngestBatch batch) override;
  Result<std::vector<Reading>> QueryReadings(const ReadingQuery& q) override;
  Result<std::vector<Bucket>> Aggregate(const AggregateQuery& q) override;
  Result<LatestSlice> LatestWithin(const LatestQuery& q) override;
  Result<std::vector<std::string>> Keys(Id device_id) override;
  Result<std::vector<SeriesRef>> ListSeries(const std::vector<Id>& device_ids) override;
  Result<SeriesRef> GetSeries(int64_t series_id) override;
  Result<SeriesRef> CreateSeries(Id device_id, const std::string& key, const std::string& unit,
                                 bool* created) override;
  Status SetSeriesUnit(int64_t series_id, const std::string& unit) override;
  Status DeleteReadings(int64_t series_id, TimeMs from, TimeMs to) override;
  Status DeleteSeries(int64_t series_id) override;
  Result<std::vector<RawMessage>> QueryMessages(const MessageQuery& q) override;
  Result<std::map<Quality, int64_t>> CountQuality(Id device_id) override;
  Result<int64_t> EraseRawMessages(Id device_id, TimeMs from, TimeMs to) override;
  Result<RetentionCounts> ApplyRetention(const std::vector<Id>& device_ids,
                                         const RetentionCutoffs& c) override;

  // The writer's cache of series ids and units forgets a series another node deleted or gave a
  // new unit (the change feed), or every series (after the feed reconnected). Does not wait:
  // the writer applies it before its next group commit or operation.
  void ForgetCachedSeries(int64_t series_id);
  void ForgetAllCachedSeries();
  // Several nodes: while relay->Relaying(), each group commit also sends the rule-feed records of
  // its messages to the other nodes' live streams (pg_live_relay.h), named `node`. Before the
  // first append.
  void SetLiveRelay(pg::PgLiveRelay* relay, std::string node);
  // The writers this node commits with now (writer_share.h).
  size_t writers_in_use() const { return share_.in_use(); }

  struct Impl;  // pqxx stays inside postgres_series_store.cc

 private:
  explicit PostgresSeriesStore(std::vector<std::unique_ptr<Impl>> writers);
  // What an operation on the first writer changed, for the other writers' caches.
  void ForgetInOtherWriters(int64_t series_id);
  // Counts the nodes alive now and then, and shares the writers out (writer_share.h).
  void WatchNodes();
  std::vector<std::unique_ptr<Impl>> writers_;  // at least one
  Impl* impl_;                                  // writers_[0]: reads, operations
  pg::WriterShare share_;
  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool watch_stop_ = false;  // guarded by watch_mu_
  std::thread nodes_watch_;  // with more than one writer
};

}  // namespace bysans
