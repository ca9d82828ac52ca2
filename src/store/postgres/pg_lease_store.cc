// Leases on PostgreSQL: taking one is one upsert that only wins when the row is free, expired or
// already the caller's (ON CONFLICT DO UPDATE … WHERE locks the row, so two nodes asking at once
// are decided one after the other and only one is granted). clock_timestamp(), not now(): the
// time of the statement, not of an older transaction start.
#include "store/postgres/pg_lease_store.h"

#include <string>
#include <vector>

#include "store/postgres/pool.h"
#include "store/postgres/schema.h"

namespace bysans::pg {

const char* LeasesSchema() {
  return R"sql(
CREATE TABLE node_leases (
  name text PRIMARY KEY,
  holder text NOT NULL,
  expires_at timestamptz NOT NULL
);
)sql";
}

namespace {

class PostgresLeaseStore final : public LeaseStore {
 public:
  explicit PostgresLeaseStore(Pool& pool) : pool_(pool) {}

  Result<bool> AcquireLease(const std::string& name, const std::string& holder,
                            TimeMs ttl_ms) override {
    if (name.empty() || holder.empty() || ttl_ms <= 0)
      return InvalidArgument("a lease needs a name, a holder and a positive time to live");
    return pool_.Run<Result<bool>>("AcquireLease", [&](pqxx::connection& c) -> Result<bool> {
      pqxx::nontransaction tx(c);
      pqxx::result r = tx.exec_params(
          "INSERT INTO node_leases (name, holder, expires_at) "
          "VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond') "
          "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, "
          "expires_at = EXCLUDED.expires_at "
          "WHERE node_leases.holder = EXCLUDED.holder OR node_leases.expires_at <= "
          "clock_timestamp() RETURNING 1",
          name, holder, ttl_ms);
      return !r.empty();
    });
  }

  Status ReleaseLease(const std::string& name, const std::string& holder) override {
    return pool_.Run<Status>("ReleaseLease", [&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      tx.exec_params("DELETE FROM node_leases WHERE name = $1 AND holder = $2", name, holder);
      return Status::Ok();
    });
  }

  Result<std::vector<Lease>> ListLeases(const std::string& prefix) override {
    return List("ListLeases", prefix, "expires_at > clock_timestamp()");
  }
  Result<std::vector<Lease>> ListExpiredLeases(const std::string& prefix) override {
    return List("ListExpiredLeases", prefix, "expires_at <= clock_timestamp()");
  }

 private:
  Result<std::vector<Lease>> List(const char* what, const std::string& prefix,
                                  const std::string& condition) {
    return pool_.Run<
        Result<std::vector<Lease>>>(what, [&](pqxx::connection& c) -> Result<std::vector<Lease>> {
      pqxx::nontransaction tx(c);
      // starts_with, not LIKE: a prefix with % or _ means itself.
      pqxx::result r = tx.exec_params(
          "SELECT name, holder, "
          "(extract(epoch FROM expires_at - clock_timestamp()) * 1000)::bigint "
          "FROM node_leases WHERE starts_with(name, $1) AND " +
              condition + " ORDER BY name",
          prefix);
      std::vector<Lease> out;
      out.reserve(r.size());
      for (const auto& row : r) {
        out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int64_t>()});
      }
      return out;
    });
  }

  Pool& pool_;
};

}  // namespace

std::unique_ptr<LeaseStore> NewPostgresLeaseStore(Pool& pool) {
  return std::make_unique<PostgresLeaseStore>(pool);
}

}  // namespace bysans::pg
