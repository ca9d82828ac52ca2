// The rule partitions' feed on PostgreSQL: rows of a partition's records of one group commit, read
// by the partition's holder in id order and deleted once evaluated. Only the holder of a partition
// reads it (server/node_coordinator.h), so reading needs no row locks; an entry read by a holder
// that then lost the partition is read again by the next one (at least once).
#include "store/postgres/pg_rule_feed.h"

#include <string>
#include <vector>

#include "store/postgres/pool.h"
#include "store/postgres/schema.h"
#include "store/postgres/sql_text.h"

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
          pqxx::nontransaction tx(c);
          pqxx::result r = tx.exec_params(
              "SELECT id, partition, record FROM rule_feed WHERE partition = ANY($1::int[]) "
              "ORDER BY id LIMIT $2",
              IntArray(parts), limit);
          std::vector<RuleFeedEntry> out;
          for (const auto& row : r) {
            const std::string packed = FromByteaHex(row[2].c_str());
            BYSANS_ASSIGN_OR_RETURN(std::vector<std::string_view> records,
                                    SplitPackedFeedRecords(packed));
            for (std::string_view record : records) {
              BYSANS_ASSIGN_OR_RETURN(RuleFeedEntry e, DecodeRuleFeedRecord(record));
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
    return pool_.Run<Status>("AcknowledgeFeed", [&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      tx.exec_params("DELETE FROM rule_feed WHERE id = ANY($1::bigint[])", IntArray(list));
      return Status::Ok();
    });
  }

 private:
  Pool& pool_;
};

}  // namespace

std::unique_ptr<RuleFeed> NewPostgresRuleFeed(Pool& pool) {
  return std::make_unique<PostgresRuleFeed>(pool);
}

}  // namespace bysans::pg
