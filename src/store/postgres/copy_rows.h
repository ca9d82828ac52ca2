// COPY … FROM STDIN in text format for the series writer's bulk inserts (folder-private: libpqxx).
// COPY skips what an INSERT … SELECT FROM unnest(…) costs the backend per row: parsing the array
// parameters, materialising them, ON CONFLICT's speculative insertion. A row that breaks a
// unique constraint fails the whole COPY (pqxx::unique_violation): callers run it under a
// savepoint and fall back to their ON CONFLICT statement.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace bysans::pg {

// Copies `rows` rows into `table (columns)`; append_row(i, line) appends row i's fields, each
// in COPY's text form (sql_text.h AppendCopy*, "\N" for NULL), separated by tabs and without
// the newline. Sent in chunks of about 1 MB.
void CopyRows(pqxx::transaction_base& w, const std::string& table,
              const std::vector<std::string>& columns, size_t rows,
              const std::function<void(size_t, std::string&)>& append_row);

}  // namespace bysans::pg
