// Writing one raw_log row (raw_log_codec.h): the messages, ids first_id.. in
// order, encoded as one blob with their time range; each message is noted in
// `runs` (the by-device index batch, raw_device_runs.h), compressed with `z` when that is
// smaller (format 3). Used by the writer's group commit and by migration 12.
#pragma once

#include <span>

#include "core/status.h"
#include "model/model.h"
#include "store/sqlite/db.h"
#include "store/sqlite/raw_device_runs.h"
#include "store/sqlite/zstd_blob.h"

namespace bysans::sqlite {

Status InsertRawLogRow(Db& db, int64_t first_id, std::span<const RawMessage* const> msgs,
                       RawRunsBuilder* runs, ZstdCompressor& z);

}  // namespace bysans::sqlite
