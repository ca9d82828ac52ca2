// OpenDataStore on PostgreSQL (store/open_data_store.h); its tables are migration 8
// (OpenDataSchema, schema.h).
#pragma once

#include <memory>

#include "store/open_data_store.h"

namespace bysans::pg {

class Pool;
std::unique_ptr<OpenDataStore> NewPostgresOpenDataStore(Pool& pool);

}  // namespace bysans::pg
