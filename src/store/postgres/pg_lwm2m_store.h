// Lwm2mStore on PostgreSQL (store/lwm2m_store.h); its tables are migration 10 (Lwm2mSchema,
// schema.h).
#pragma once

#include <memory>

#include "store/lwm2m_store.h"

namespace bysans::pg {

class Pool;
std::unique_ptr<Lwm2mStore> NewPostgresLwm2mStore(Pool& pool);

}  // namespace bysans::pg
