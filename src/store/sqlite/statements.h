// One-statement reads and writes the SQLite stores repeat (folder-private): bind values in
// order (a null optional as NULL), run, and say kNotFound the same way.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/sqlite/db.h"

namespace bysans::sqlite {

inline void BindOne(Stmt& s, int i, int64_t v) { s.Bind(i, v); }
inline void BindOne(Stmt& s, int i, bool v) { s.Bind(i, v); }
inline void BindOne(Stmt& s, int i, double v) { s.Bind(i, v); }
inline void BindOne(Stmt& s, int i, const std::string& v) { s.Bind(i, v); }
template <typename T>
void BindOne(Stmt& s, int i, const std::optional<T>& v) {
  if (v) {
    BindOne(s, i, *v);
  } else {
    s.BindNull(i);
  }
}

// Binds a... to the statement's ?1, ?2, … in order.
template <typename... A>
void BindAll(Stmt& s, const A&... a) {
  int i = 0;
  (BindOne(s, ++i, a), ...);
}

// Runs `sql` with a...; kNotFound ("<what> not found") when it changed no row.
template <typename... A>
Status Modify(Db& db, const std::string& sql, const std::string& what, const A&... a) {
  BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare(sql));
  BindAll(*st, a...);
  BYSANS_RETURN_IF_ERROR(st->Run());
  if (db.Changes() == 0) return NotFound(what + " not found");
  return Status::Ok();
}

// The first row of `sql` with a... as row(statement), or kNotFound with the message `missing`.
template <typename T, typename RowFn, typename... A>
Result<T> FirstRow(Db& db, const std::string& sql, RowFn row, const std::string& missing,
                   const A&... a) {
  BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare(sql));
  BindAll(*st, a...);
  if (!st->Step()) {
    BYSANS_RETURN_IF_ERROR(st->status());
    return NotFound(missing);
  }
  return row(*st);
}

// FirstRow of one object: kNotFound says "<what> not found".
template <typename T, typename RowFn, typename... A>
Result<T> GetOne(Db& db, const std::string& sql, RowFn row, const std::string& what,
                 const A&... a) {
  return FirstRow<T>(db, sql, row, what + " not found", a...);
}

// Every row of `sql` with a..., each as row(statement).
template <typename T, typename RowFn, typename... A>
Result<std::vector<T>> GetAll(Db& db, const std::string& sql, RowFn row, const A&... a) {
  BYSANS_ASSIGN_OR_RETURN(auto st, db.Prepare(sql));
  BindAll(*st, a...);
  std::vector<T> out;
  while (st->Step()) out.push_back(row(*st));
  BYSANS_RETURN_IF_ERROR(st->status());
  return out;
}

}  // namespace bysans::sqlite
