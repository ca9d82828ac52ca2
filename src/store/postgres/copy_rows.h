// COPY … FROM STDIN (FORMAT binary) for the series writer's bulk inserts (folder-private:
// libpqxx). COPY skips what an INSERT … SELECT FROM unnest(…) costs the backend per row (parsing
// the array parameters, materialising them, ON CONFLICT's speculative insertion), and the binary
// format skips what the text format still cost it: reading every byte of a line one at a time
// and parsing numbers and bytea hex (the rule feed's ~1.9 KB rows went as 3.8 KB of hex). A row
// that breaks a unique constraint fails the whole COPY (pqxx::unique_violation): callers run it
// under a savepoint and fall back to their ON CONFLICT statement.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace pqxx {
class dbtransaction;
}

namespace bysans::pg {

// One row's fields, appended in PostgreSQL's binary send forms. Each must match its column's
// type exactly (bigint Int8, integer Int4, smallint Int2, double precision Float8, text and
// bytea Bytes): the backend refuses another width.
class CopyRow {
 public:
  explicit CopyRow(std::string& out) : out_(out) {}
  CopyRow& Int8(int64_t v);
  CopyRow& Int4(int32_t v);
  CopyRow& Int2(int16_t v);
  CopyRow& Float8(double v);
  CopyRow& Bytes(std::string_view v);  // text (valid UTF-8, as the database checks) or bytea
  CopyRow& Null();
  size_t fields() const { return fields_; }

 private:
  template <typename T>
  CopyRow& Fixed(T v);  // a fixed-width integer field, big-endian

  std::string& out_;
  size_t fields_ = 0;
};

// The whole COPY stream of `rows` rows of `columns.size()` fields each: append_row(i, row) adds
// row i's fields. Formatted before the COPY starts (the backend, and the locks its transaction
// holds, do not wait while this thread formats).
std::string CopyStream(size_t columns, size_t rows,
                       const std::function<void(size_t, CopyRow&)>& append_row);

// Copies rows into `table (columns)` inside w's transaction. Throws as a pqxx statement would:
// pqxx::unique_violation (23505), pqxx::broken_connection, or pqxx::sql_error with the SQLSTATE.
void CopyRows(pqxx::dbtransaction& w, const std::string& table,
              const std::vector<std::string>& columns, size_t rows,
              const std::function<void(size_t, CopyRow&)>& append_row);

}  // namespace bysans::pg
