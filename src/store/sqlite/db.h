// Thin RAII wrapper over one sqlite3 connection with a prepared-statement
// cache. Thread-compatible: one thread uses a Db at a time.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"
#include "store/sqlite/write_gate.h"

namespace bysans::sqlite {

// A cached prepared statement, reset and unbound when the Stmt goes away.
class Stmt {
 public:
  Stmt(sqlite3_stmt* s, sqlite3* db) : s_(s), db_(db) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, bool v) { return Bind(i, static_cast<int64_t>(v ? 1 : 0)); }
  Stmt& Bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Stmt& BindBlob(int i, const void* p, size_t n) {
    sqlite3_bind_blob(s_, i, p, static_cast<int>(n), SQLITE_TRANSIENT);
    return *this;
  }
  // Without a copy: `v` must stay valid until the statement has run (the next Run() or
  // Step() to completion) — for hot inserts of data the caller holds anyway.
  Stmt& BindUncopied(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& BindBlobUncopied(int i, const void* p, size_t n) {
    sqlite3_bind_blob(s_, i, p, static_cast<int>(n), SQLITE_STATIC);
    return *this;
  }
  Stmt& BindNull(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }

  // Steps once. Returns true if a row is available, false when done;
  // errors are reported through status().
  bool Step();
  // Runs to completion and resets, ready to be bound again (no-row statements).
  Status Run();
  const Status& status() const { return status_; }

  int64_t Int(int c) const { return sqlite3_column_int64(s_, c); }
  double Double(int c) const { return sqlite3_column_double(s_, c); }
  bool IsNull(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::string Text(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, c));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, c))) : std::string();
  }
  std::string_view Blob(int c) const {
    const void* p = sqlite3_column_blob(s_, c);
    return p ? std::string_view(static_cast<const char*>(p),
                                static_cast<size_t>(sqlite3_column_bytes(s_, c)))
             : std::string_view();
  }

 private:
  sqlite3_stmt* s_;
  sqlite3* db_;
  Status status_;
};

// Maps an SQLite result code to a Status (constraint clashes → kAlreadyExists,
// foreign-key failures → kNotFound, busy → kUnavailable, the rest →
// kInternal). Messages are neutral and never carry SQL or table names (they
// reach API callers); the SQLite detail is logged.
Status FromSqlite(sqlite3* db, int rc, std::string_view what);

class Db {
 public:
  // Opens the file with WAL, synchronous=FULL and foreign keys. With a gate, the
  // connection's write transactions take it (Txn), its commits release its
  // waiters, and SQLITE_BUSY waits on it (write_gate.h) instead of sleeping;
  // its WAL is then checkpointed only by the store's checkpoint thread. Either
  // way a busy lock is given up after 30 s.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, int64_t cache_kib,
                                          WriteGate* gate = nullptr);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Returns the cached statement for `sql` (prepared on first use). The
  // returned object must go out of scope before the same SQL is used again.
  Result<std::unique_ptr<Stmt>> Prepare(const std::string& sql);
  // Executes one or more statements without results.
  Status Exec(const std::string& sql);
  int64_t Changes() const { return sqlite3_changes64(db_); }
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* raw() const { return db_; }
  WriteGate* gate() const { return gate_; }

 private:
  Db(sqlite3* db, WriteGate* gate) : db_(db), gate_(gate) {}
  static int OnBusy(void* self, int tries);
  sqlite3* db_;
  WriteGate* gate_;
  std::chrono::steady_clock::time_point busy_since_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// A connection setting for one scope: `on` now, `off` when the scope ends (e.g. a background
// job's synchronous=NORMAL; the pool's connections go back to their defaults).
class ScopedPragma {
 public:
  ScopedPragma(Db& db, const char* on, const char* off) : db_(db), off_(off) {
    status_ = db.Exec(on);
  }
  ~ScopedPragma() { (void)db_.Exec(off_); }
  ScopedPragma(const ScopedPragma&) = delete;
  ScopedPragma& operator=(const ScopedPragma&) = delete;
  const Status& status() const { return status_; }

 private:
  Db& db_;
  const char* off_;
  Status status_;
};

// Runs a transaction: BEGIN IMMEDIATE (or DEFERRED for reads), and COMMIT if
// Commit() was called, ROLLBACK otherwise. A write transaction on a gated
// connection holds the gate throughout, in the given turn (write_gate.h).
class Txn {
 public:
  Txn(Db& db, bool write, WriteTurn turn = WriteTurn::kInOrder)
      : db_(db), gate_(write ? db.gate() : nullptr) {
    if (gate_) gate_->Lock(turn);
    begin_ = db_.Exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn() {
    if (begin_.ok() && !done_) (void)db_.Exec("ROLLBACK");
    if (gate_) gate_->Unlock();
  }
  const Status& begin_status() const { return begin_; }
  Status Commit() {
    done_ = true;
    Status s = db_.Exec("COMMIT");
    if (!s.ok()) (void)db_.Exec("ROLLBACK");
    return s;
  }

 private:
  Db& db_;
  WriteGate* gate_;
  Status begin_;
  bool done_ = false;
};

}  // namespace bysans::sqlite
