// The rule partitions' feed on PostgreSQL: rows of one organisation's records in a partition in one
// group commit, read by the partition's holder and deleted once evaluated. Only the holder of a
// partition reads it (server/node_coordinator.h), so reading needs no row locks; an entry read by
// a holder that then lost the partition is read again by the next one (at least once).
#include "store/postgres/pg_rule_feed.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <string>
#include <vector>

#include "store/postgres/pool.h"
#include "store/postgres/schema.h"
#include "store/postgres/sql_text.h"
#include "store/rule_feed_codec.h"

namespace bysans::pg {

const char* RuleFeedSchema() {
  return R"sql(
CREATE TABLE rule_feed (
  id bigserial PRIMARY KEY,
  partition integer NOT NULL,
  record bytea NOT NULL   -- store/rule_feed.h EncodeRuleFeedRecord; packed since migration 20
);
CREATE INDEX rule_feed_partition ON rule_feed (partition, id);
)sql";
}

const char* PackedRuleFeedMigration() {
  return R"sql(
UPDATE rule_feed SET record = int4send(length(record)) || record;
)sql";
}

const char* RuleFeedByOrganisationMigration() {
  // Rows from before: organisation 0, read as one more organisation's.
  return R"sql(
ALTER TABLE rule_feed ADD COLUMN IF NOT EXISTS org_id bigint NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS rule_feed_org ON rule_feed (org_id, id);
)sql";
}

void AppendPackedFeedRecord(std::string& packed, std::string_view record) {
  const auto n = static_cast<uint32_t>(record.size());
  for (int shift = 24; shift >= 0; shift -= 8) packed.push_back(static_cast<char>(n >> shift));
  packed.append(record);
}

void AddFeedRecord(std::vector<std::string>& rows, std::string_view record) {
  if (rows.empty() || rows.back().size() + 4 + record.size() > kFeedRowBytes) rows.emplace_back();
  AppendPackedFeedRecord(rows.back(), record);
}

Result<std::vector<std::string_view>> SplitPackedFeedRecords(std::string_view packed) {
  std::vector<std::string_view> out;
  while (!packed.empty()) {
    if (packed.size() < 4) return Internal("a rule feed row ends inside a record's length");
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(packed[i]);
    packed.remove_prefix(4);
    if (n > packed.size()) return Internal("a rule feed record runs past its row's end");
    out.push_back(packed.substr(0, n));
    packed.remove_prefix(n);
  }
  return out;
}

namespace {

class PostgresRuleFeed final : public RuleFeed {
 public:
  explicit PostgresRuleFeed(Pool& pool) : pool_(pool) {}

  Result<std::vector<RuleFeedEntry>> ReadFeed(std::span<const int> partitions,
                                              int64_t limit) override {
    if (partitions.empty()) return std::vector<RuleFeedEntry>{};
    std::vector<int64_t> parts(partitions.begin(), partitions.end());
    return pool_.Run<Result<std::vector<RuleFeedEntry>>>(
        "ReadFeed", [&](pqxx::connection& c) -> Result<std::vector<RuleFeedEntry>> {
          // A plain index scan, which marks the deleted rows it meets dead in the index, so the
          // next reads skip them; the bitmap scan PostgreSQL prefers here never does, and so
          // visited every deleted row's heap page until a VACUUM (1.5 -> 0.3 ms a read).
          pqxx::work tx(c);
          tx.exec("SET LOCAL enable_bitmapscan = off");
          // The organisations with rows (a skip scan of rule_feed_org: one index descent each,
          // whatever one organisation's backlog), then each one's oldest rows of these
          // partitions: another organisation's flood does not push a row out of the read.
          pqxx::result r = tx.exec_params(
              "WITH RECURSIVE orgs(o) AS ("
              " (SELECT org_id FROM rule_feed ORDER BY org_id LIMIT 1)"
              " UNION ALL SELECT (SELECT org_id FROM rule_feed WHERE org_id > orgs.o"
              " ORDER BY org_id LIMIT 1) FROM orgs WHERE orgs.o IS NOT NULL) "
              "SELECT f.id, f.partition, f.record FROM orgs CROSS JOIN LATERAL ("
              " SELECT id, partition, record FROM rule_feed WHERE org_id = orgs.o"
              " AND partition = ANY($1::int[]) ORDER BY id LIMIT $2) f "
              "WHERE orgs.o IS NOT NULL ORDER BY f.id",
              IntArray(parts), limit);
          tx.commit();
          std::vector<RuleFeedEntry> out;
          RuleFeedDecoder decoder;
          for (const auto& row : r) {
            const std::string packed = FromByteaHex(row[2].c_str());
            BYSANS_ASSIGN_OR_RETURN(std::vector<std::string_view> records,
                                    SplitPackedFeedRecords(packed));
            for (std::string_view record : records) {
              BYSANS_ASSIGN_OR_RETURN(RuleFeedEntry e, decoder.Decode(record));
              e.id = row[0].as<int64_t>();
              e.partition = row[1].as<int>();
              out.push_back(std::move(e));
            }
          }
          return out;
        });
  }

  Status AcknowledgeFeed(std::span<const int64_t> ids) override {
    if (ids.empty()) return Status::Ok();
    std::vector<int64_t> list(ids.begin(), ids.end());
    BYSANS_RETURN_IF_ERROR(pool_.Run<Status>("AcknowledgeFeed", [&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      tx.exec_params("DELETE FROM rule_feed WHERE id = ANY($1::bigint[])", IntArray(list));
      return Status::Ok();
    }));
    deleted_ += list.size();
    const auto now = std::chrono::steady_clock::now();
    if (deleted_ >= kVacuumAfterRows && now - last_vacuum_ >= kVacuumEvery) VacuumFeed(now);
    return Status::Ok();
  }

  Result<int64_t> ShedFeed(Id org_id, std::span<const int> partitions, int64_t keep) override {
    if (partitions.empty()) return int64_t{0};
    std::vector<int64_t> parts(partitions.begin(), partitions.end());
    return pool_.Run<Result<int64_t>>("ShedFeed", [&](pqxx::connection& c) -> Result<int64_t> {
      pqxx::nontransaction tx(c);
      // Its rows lie between its oldest and newest id (two descents of rule_feed_org): when those
      // are less than `keep` apart, it cannot have more than `keep` rows, and the walk over its
      // rows below is not made (it read up to `keep` index entries, once a second while the
      // organisation's reads came back full: 18 ms each in bench/mqtt, for nothing).
      const pqxx::row span = tx.exec_params1(
          "SELECT (SELECT max(id) FROM rule_feed WHERE org_id = $1) - "
          "(SELECT min(id) FROM rule_feed WHERE org_id = $1)",
          org_id);
      if (span[0].is_null() || span[0].as<int64_t>() < keep) return int64_t{0};
      // The organisation's rows in id order (rule_feed_org), its oldest `keep` skipped.
      pqxx::result r = tx.exec_params(
          "DELETE FROM rule_feed WHERE id IN (SELECT id FROM rule_feed WHERE org_id = $1"
          " AND partition = ANY($2::int[]) ORDER BY id OFFSET $3)",
          org_id, IntArray(parts), keep);
      return static_cast<int64_t>(r.affected_rows());
    });
  }

 private:
  // The feed is a queue: every row is deleted soon after its insert, and autovacuum comes at most
  // once a minute, by which time bench/mqtt's load had deleted ~170,000 rows (~300 MB of pages to
  // reclaim). So the reader vacuums the
  // table itself, at most every 5 s (a small table: its pending rows). SKIP_LOCKED: another
  // node's VACUUM of it is as good. A failure only delays the next one.
  static constexpr size_t kVacuumAfterRows = 256;
  static constexpr std::chrono::seconds kVacuumEvery{5};
  void VacuumFeed(std::chrono::steady_clock::time_point now) {
    deleted_ = 0;
    last_vacuum_ = now;
    const Status st = pool_.Run<Status>("VacuumFeed", [](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      tx.exec("VACUUM (SKIP_LOCKED) rule_feed");
      return Status::Ok();
    });
    if (!st.ok()) spdlog::debug("postgres: the rule feed was not vacuumed: {}", st.message());
  }

  Pool& pool_;
  size_t deleted_ = 0;  // rows acknowledged since the last VACUUM
  std::chrono::steady_clock::time_point last_vacuum_{};
};

}  // namespace

std::unique_ptr<RuleFeed> NewPostgresRuleFeed(Pool& pool) {
  return std::make_unique<PostgresRuleFeed>(pool);
}

}  // namespace bysans::pg
