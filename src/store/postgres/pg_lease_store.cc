// Leases on PostgreSQL: taking one is one upsert that only wins when the row is free, expired or
// already the caller's (ON CONFLICT DO UPDATE … WHERE locks the row, so two nodes asking at once
// are decided one after the other and only one is granted). clock_timestamp(), not now(): the
// time of the statement, not of an older transaction start.
#include "store/postgres/pg_lease_store.h"

#include <memory>
#include <string>
#include <utility>
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

// The first key of every LockAcrossNodes lock ('bs'): the two-key space of advisory locks is
// PostgreSQL's own, apart from the one-key locks of the migrations (kMigrationLock).
constexpr int kNodesLockClass = 0x6273;
// How long LockAcrossNodes waits for another node before it gives up.
constexpr const char* kNodesLockWait = "5s";

// A session-level advisory lock on a connection of the pool, kept out of the pool while held.
class PgNodesLock final : public NodesLock {
 public:
  PgNodesLock(Pool& pool, std::unique_ptr<pqxx::connection> c, std::string name)
      : pool_(pool), c_(std::move(c)), name_(std::move(name)) {}
  ~PgNodesLock() override {
    try {
      pqxx::nontransaction n(*c_);
      n.exec_params("SELECT pg_advisory_unlock($1, hashtext($2))", kNodesLockClass, name_);
      pool_.Give(std::move(c_));
    } catch (const std::exception&) {
      // The connection is dropped with c_: its session's end gives the lock up.
    }
  }

 private:
  Pool& pool_;
  std::unique_ptr<pqxx::connection> c_;
  std::string name_;
};

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

  Result<std::unique_ptr<NodesLock>> LockAcrossNodes(const std::string& name) override {
    std::unique_ptr<pqxx::connection> c;
    BYSANS_RETURN_IF_ERROR(pool_.Take(c));
    try {
      // Taken in a transaction only for its lock_timeout; the lock is the session's, so it is
      // still held after the commit.
      pqxx::work tx(*c);
      tx.exec(std::string("SET LOCAL lock_timeout = '") + kNodesLockWait + "'");
      tx.exec_params("SELECT pg_advisory_lock($1, hashtext($2))", kNodesLockClass, name);
      tx.commit();
    } catch (const pqxx::sql_error& e) {
      if (e.sqlstate() == "55P03")  // lock_not_available: another node held it all the while
        return Unavailable("the same work is under way on another node; try again");
      return FromException(e, "LockAcrossNodes");
    } catch (const std::exception& e) {
      return FromException(e, "LockAcrossNodes");
    }
    return std::unique_ptr<NodesLock>(std::make_unique<PgNodesLock>(pool_, std::move(c), name));
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
