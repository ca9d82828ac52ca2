// Pooled PostgreSQL connections shared by the PostgreSQL stores, and what a PostgreSQL error
// means to a caller. Folder-private: only this folder's .cc files include it (it brings in
// libpqxx).
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace bysans::pg {

// An exception of libpqxx as a Status, without SQL or values in the message (those go to the log
// at debug level): a unique clash → kAlreadyExists (with a neutral sentence for the known unique
// columns, never naming the other object's organisation), a foreign-key clash → kNotFound ("a
// referenced object does not exist"), a lost connection, a serialization failure, a deadlock or a
// server shutting down → kUnavailable (try again), anything else → kInternal ("database error").
Status FromException(const std::exception& e, std::string_view what);

// The exception means the connection is gone or about to be: lost (also while a COMMIT was on
// its way), or the server is shutting down, restarting or terminated this backend (SQLSTATE
// classes 08 and 57P). Such a connection is dropped, never used again.
bool ConnectionGone(const std::exception& e);

// The same call may succeed later: the connection is gone, a serialization failure, a deadlock,
// or the server is short of a resource (disk, memory, connections: SQLSTATE class 53).
bool Transient(const std::exception& e);

class Pool {
 public:
  // `url`: postgresql://…; at most `max_idle` connections are kept between calls.
  Pool(std::string url, size_t max_idle);
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Runs f(pqxx::connection&) on a pooled connection and returns its Result<T> (or Status);
  // an exception becomes a Status (FromException) and the connection is dropped.
  template <typename R, typename F>
  R Run(std::string_view what, F&& f) {
    std::unique_ptr<pqxx::connection> c;
    Status got = Take(c);
    if (!got.ok()) return got;
    try {
      R r = f(*c);
      Give(std::move(c));
      return r;
    } catch (const std::exception& e) {
      return FromException(e, what);
    }
  }

  // As Run, inside one transaction (pqxx::work) committed when f returns an ok result; rolled
  // back when it returns an error or throws.
  template <typename R, typename F>
  R Transact(std::string_view what, F&& f) {
    return Run<R>(what, [&](pqxx::connection& c) -> R {
      pqxx::work tx(c);
      R r = f(tx);
      if (r.ok()) tx.commit();
      return r;
    });
  }

  // The first row of `sql` (with `args` as $1, $2, …) as row_fn(row) makes it, or missing() (a
  // Status) when there is none: the read of one object by its key.
  template <typename T, typename RowFn, typename Missing, typename... Args>
  Result<T> ReadOne(std::string_view what, const std::string& sql, RowFn row_fn, Missing missing,
                    const Args&... args) {
    return Run<Result<T>>(what, [&](pqxx::connection& c) -> Result<T> {
      pqxx::nontransaction n(c);
      pqxx::result r = n.exec_params(sql, args...);
      if (r.empty()) return missing();
      return row_fn(r[0]);
    });
  }

  // A connection of the pool for a caller that keeps it past one call (a session-level lock:
  // pg_lease_store.cc), and its return; a connection that failed is dropped, never given back.
  Status Take(std::unique_ptr<pqxx::connection>& c);
  void Give(std::unique_ptr<pqxx::connection> c);

  const std::string& url() const { return url_; }
  // This node's name in change notifications (change_feed.h): random unless set before use.
  const std::string& node_id() const { return node_id_; }
  void set_node_id(std::string id) { node_id_ = std::move(id); }

 private:
  std::string url_;
  std::string node_id_;
  size_t max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
};

}  // namespace bysans::pg
