// The whole Store on PostgreSQL 15 (issue 19): every store interface on one database, chosen by
// `store.url = "postgresql://…"`. Layout, reasons and limits: README.md.
#pragma once

#include <memory>
#include <string>

#include "store/postgres/postgres_series_store.h"
#include "store/store.h"

namespace bysans {

// Applies the migrations, then opens every store on a pool of `options.url`'s connections (the
// series writer has its own). `secret_key_path`: the SecretBox key file (core/secret_box.h),
// created if missing; every node of one database must have the same key (docs/SCALE.md).
Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresStoreOptions& options,
                                                 const std::string& secret_key_path);

}  // namespace bysans
