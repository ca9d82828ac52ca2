#include "store/sqlite/raw_log_migration.h"

#include <string>
#include <vector>

#include "store/sqlite/raw_device_runs.h"
#include "store/sqlite/raw_log_rows.h"

namespace bysans::sqlite {
namespace {

constexpr size_t kMessagesPerRow = 1024;
constexpr int64_t kMessagesPerRun = 32768;

// Writes `msgs` (consecutive ids) as one raw_log row and notes them in `runs`, writing the
// runs every kMessagesPerRun messages.
Status WriteRow(Db& db, const std::vector<RawMessage>& msgs, RawRunsBuilder* runs,
                ZstdCompressor& z) {
  std::vector<const RawMessage*> ptrs;
  for (const RawMessage& m : msgs) ptrs.push_back(&m);
  BYSANS_RETURN_IF_ERROR(InsertRawLogRow(db, msgs.front().id, ptrs, runs, z));
  if (runs->messages() < kMessagesPerRun) return Status::Ok();
  BYSANS_RETURN_IF_ERROR(runs->Write(db));
  runs->Clear();
  return Status::Ok();
}

}  // namespace

Status MoveRawMessagesToLog(Db& db) {
  BYSANS_RETURN_IF_ERROR(db.Exec("UPDATE seal_state SET raw_indexed_upto = 0"));
  BYSANS_ASSIGN_OR_RETURN(
      auto st, db.Prepare("SELECT id, device_id, received_ms, transport, content_type, payload, "
                          "decode_status, decode_error, coalesce(dedup_key, '') FROM "
                          "raw_messages ORDER BY id"));
  RawRunsBuilder runs;
  ZstdCompressor z;
  std::vector<RawMessage> row;
  while (st->Step()) {
    RawMessage m;
    m.id = st->Int(0);
    m.device_id = st->Int(1);
    m.received_ms = st->Int(2);
    m.transport = static_cast<Transport>(st->Int(3));
    m.content_type = st->Text(4);
    m.payload = std::string(st->Blob(5));
    m.decode_status = static_cast<DecodeStatus>(st->Int(6));
    m.decode_error = st->Text(7);
    m.dedup_key = st->Text(8);
    // A row holds consecutive ids only.
    if (!row.empty() && (row.size() == kMessagesPerRow || m.id != row.back().id + 1)) {
      BYSANS_RETURN_IF_ERROR(WriteRow(db, row, &runs, z));
      row.clear();
    }
    row.push_back(std::move(m));
  }
  BYSANS_RETURN_IF_ERROR(st->status());
  st.reset();
  if (!row.empty()) BYSANS_RETURN_IF_ERROR(WriteRow(db, row, &runs, z));
  BYSANS_RETURN_IF_ERROR(runs.Write(db));
  return db.Exec("DROP TABLE raw_device_index; DROP TABLE raw_messages;");
}

}  // namespace bysans::sqlite
