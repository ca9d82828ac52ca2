// The rule partitions' feed on PostgreSQL: one row per stored batch with a partition, read by
// the partition's holder in id order and deleted once evaluated. Only the holder of a partition
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
  record bytea NOT NULL   -- store/rule_feed.h EncodeRuleFeedRecord
);
CREATE INDEX rule_feed_partition ON rule_feed (partition, id);
)sql";
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
          out.reserve(r.size());
          for (const auto& row : r) {
            Result<RuleFeedEntry> e = DecodeRuleFeedRecord(FromByteaHex(row[2].c_str()));
            if (!e.ok()) return e.status();
            e->id = row[0].as<int64_t>();
            e->partition = row[1].as<int>();
            out.push_back(std::move(*e));
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
