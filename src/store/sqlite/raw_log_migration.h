// Migration 12's C++ step: raw_messages rows → raw_log rows and their
// raw_device_runs; then raw_messages and raw_device_index are dropped.
#pragma once

#include "core/status.h"
#include "store/sqlite/db.h"

namespace bysans::sqlite {

Status MoveRawMessagesToLog(Db& db);

}  // namespace bysans::sqlite
