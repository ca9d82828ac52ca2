#include "store/sqlite/raw_log_rows.h"

#include <algorithm>
#include <string>

#include "store/sqlite/raw_log_codec.h"

namespace bysans::sqlite {

Status InsertRawLogRow(Db& db, int64_t first_id, std::span<const RawMessage* const> msgs,
                       RawRunsBuilder* runs, ZstdCompressor& z) {
  if (msgs.empty()) return Status::Ok();
  std::string blob;
  blob.reserve(msgs.size() * 160);
  EncodeRawLog(msgs, &blob);
  std::string packed;
  BYSANS_ASSIGN_OR_RETURN(std::string_view row, CompressRawLog(blob, z, &packed));
  TimeMs t_min = msgs.front()->received_ms, t_max = t_min;
  for (const RawMessage* m : msgs) {
    t_min = std::min(t_min, m->received_ms);
    t_max = std::max(t_max, m->received_ms);
    runs->Add(m->device_id, first_id, m->received_ms);
  }
  BYSANS_ASSIGN_OR_RETURN(
      auto st, db.Prepare("INSERT INTO raw_log(id, n, t_min, t_max, data) VALUES(?, ?, ?, ?, ?)"));
  st->Bind(1, first_id).Bind(2, static_cast<int64_t>(msgs.size())).Bind(3, t_min);
  st->Bind(4, t_max).BindBlobUncopied(5, row.data(), row.size());
  return st->Run();
}

}  // namespace bysans::sqlite
