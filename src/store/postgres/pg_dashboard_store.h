// DashboardStore on PostgreSQL (store/dashboard_store.h); its table is migration 6
// (DashboardsSchema, schema.h).
#pragma once

#include <memory>

#include "store/dashboard_store.h"

namespace bysans::pg {

class Pool;
std::unique_ptr<DashboardStore> NewPostgresDashboardStore(Pool& pool);

}  // namespace bysans::pg
