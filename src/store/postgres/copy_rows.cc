#include "store/postgres/copy_rows.h"

#include <libpq-fe.h>

#include <bit>
#include <cstring>
#include <memory>
#include <pqxx/largeobject>
#include <pqxx/pqxx>
#include <stdexcept>

namespace bysans::pg {
namespace {

template <typename T>
void AppendBigEndian(std::string& out, T v) {
  using U = std::make_unsigned_t<T>;
  auto u = static_cast<U>(v);
  char bytes[sizeof(U)];
  for (size_t i = sizeof(U); i-- > 0;) {
    bytes[i] = static_cast<char>(u & 0xff);
    u = static_cast<U>(u >> 8);
  }
  out.append(bytes, sizeof bytes);
}

// libpqxx 6.4 has no binary COPY: the transaction's libpq connection, through the one door it
// leaves open to code of its own (largeobject's protected raw_connection).
struct RawConnection : pqxx::largeobject {
  static PGconn* Of(const pqxx::dbtransaction& w) { return raw_connection(w); }
};

using Result = std::unique_ptr<PGresult, void (*)(PGresult*)>;

// A failed result as the exception pqxx would throw for it.
[[noreturn]] void Throw(PGconn* c, const PGresult* r, const std::string& sql) {
  const std::string message = r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(c);
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  if (PQstatus(c) != CONNECTION_OK) throw pqxx::broken_connection(message);
  if (state != nullptr && std::strcmp(state, "23505") == 0)
    throw pqxx::unique_violation(message, sql, state);
  throw pqxx::sql_error(message, sql, state);
}

}  // namespace

template <typename T>
CopyRow& CopyRow::Fixed(T v) {
  AppendBigEndian(out_, static_cast<int32_t>(sizeof v));
  AppendBigEndian(out_, v);
  ++fields_;
  return *this;
}

CopyRow& CopyRow::Int8(int64_t v) { return Fixed(v); }
CopyRow& CopyRow::Int4(int32_t v) { return Fixed(v); }
CopyRow& CopyRow::Int2(int16_t v) { return Fixed(v); }
CopyRow& CopyRow::Float8(double v) { return Fixed(std::bit_cast<int64_t>(v)); }

CopyRow& CopyRow::Bytes(std::string_view v) {
  AppendBigEndian(out_, static_cast<int32_t>(v.size()));
  out_.append(v);
  ++fields_;
  return *this;
}

CopyRow& CopyRow::Null() {
  AppendBigEndian<int32_t>(out_, -1);
  ++fields_;
  return *this;
}

std::string CopyStream(size_t columns, size_t rows,
                       const std::function<void(size_t, CopyRow&)>& append_row) {
  static constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // 11 bytes with its NUL
  std::string out(kSignature, sizeof kSignature);
  AppendBigEndian<int32_t>(out, 0);  // flags: no OIDs
  AppendBigEndian<int32_t>(out, 0);  // no header extension
  for (size_t i = 0; i < rows; ++i) {
    AppendBigEndian(out, static_cast<int16_t>(columns));
    CopyRow row(out);
    append_row(i, row);
    if (row.fields() != columns)
      throw std::logic_error("a COPY row has " + std::to_string(row.fields()) + " fields, not " +
                             std::to_string(columns));
  }
  AppendBigEndian<int16_t>(out, -1);  // trailer
  return out;
}

void CopyRows(pqxx::dbtransaction& w, const std::string& table,
              const std::vector<std::string>& columns, size_t rows,
              const std::function<void(size_t, CopyRow&)>& append_row) {
  const std::string stream = CopyStream(columns.size(), rows, append_row);
  std::string sql = "COPY " + table + " (";
  for (size_t i = 0; i < columns.size(); ++i) sql += (i ? "," : "") + columns[i];
  sql += ") FROM STDIN (FORMAT binary)";
  PGconn* c = RawConnection::Of(w);
  {
    const Result start(PQexec(c, sql.c_str()), &PQclear);  // PQexec read all its results
    if (PQresultStatus(start.get()) != PGRES_COPY_IN) Throw(c, start.get(), sql);
  }
  constexpr size_t kChunk = 1 << 20;
  bool sent = true;
  for (size_t at = 0; at < stream.size() && sent; at += kChunk) {
    const size_t n = std::min(kChunk, stream.size() - at);
    sent = PQputCopyData(c, stream.data() + at, static_cast<int>(n)) == 1;
  }
  if (!sent || PQputCopyEnd(c, nullptr) != 1) Throw(c, nullptr, sql);
  // The COPY's own result, then the end of results; the first failure is the one reported.
  Result failed(nullptr, &PQclear);
  while (Result r{PQgetResult(c), &PQclear}) {
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && !failed) failed = std::move(r);
  }
  if (failed) Throw(c, failed.get(), sql);
}

}  // namespace bysans::pg
