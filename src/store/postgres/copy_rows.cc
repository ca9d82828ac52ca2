#include "store/postgres/copy_rows.h"

#include <pqxx/pqxx>
#include <pqxx/tablewriter>

namespace bysans::pg {

void CopyRows(pqxx::transaction_base& w, const std::string& table,
              const std::vector<std::string>& columns, size_t rows,
              const std::function<void(size_t, std::string&)>& append_row) {
  constexpr size_t kChunk = 1 << 20;
// pqxx 6.4 marks tablewriter deprecated in favour of stream_to, whose per-field conversions are
// several times slower and which cannot send prepared lines.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  pqxx::tablewriter tw(w, table, columns.begin(), columns.end());
#pragma GCC diagnostic pop
  std::string chunk;
  chunk.reserve(kChunk);
  for (size_t i = 0; i < rows; ++i) {
    if (!chunk.empty()) chunk += '\n';
    append_row(i, chunk);
    if (chunk.size() >= kChunk - 512) {
      tw.write_raw_line(chunk);  // several lines; the writer adds the last newline
      chunk.clear();
    }
  }
  if (!chunk.empty()) tw.write_raw_line(chunk);
  tw.complete();
}

}  // namespace bysans::pg
