#include "store/postgres/raw_message_row.h"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <vector>

#include "store/postgres/sql_text.h"

namespace bysans::pg {
namespace {

int64_t I64(const pqxx::field& f) { return std::strtoll(f.c_str(), nullptr, 10); }

}  // namespace

RawMessage RawMessageFromRow(const pqxx::row& row) {
  RawMessage m;
  m.id = I64(row[0]);
  m.device_id = I64(row[1]);
  m.received_ms = I64(row[2]);
  m.transport = static_cast<Transport>(static_cast<int>(I64(row[3])));
  m.content_type = row[4].as<std::string>();
  m.payload = FromByteaHex(row[5].c_str());
  m.decode_status = static_cast<DecodeStatus>(static_cast<int>(I64(row[6])));
  m.decode_error = row[7].as<std::string>();
  const std::string notes = row[8].as<std::string>();
  if (!notes.empty()) {
    auto j = nlohmann::json::parse(notes, nullptr, false);
    if (j.is_object()) {
      m.decode_errors = j.value("errors", std::vector<std::string>{});
      m.decode_warnings = j.value("warnings", std::vector<std::string>{});
    }
  }
  m.dedup_key = row[9].as<std::string>();
  return m;
}

std::string DecodeNotesText(const RawMessage& m) {
  if (m.decode_errors.empty() && m.decode_warnings.empty()) return "";
  return nlohmann::json{{"errors", m.decode_errors}, {"warnings", m.decode_warnings}}.dump();
}

}  // namespace bysans::pg
