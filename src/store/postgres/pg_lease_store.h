// LeaseStore on PostgreSQL (store/lease_store.h): one row per lease in `node_leases`, migration 14
// (LeasesSchema, schema.h). Expiry is judged by the database server's clock.
#pragma once

#include <memory>

#include "store/lease_store.h"

namespace bysans::pg {

class Pool;
std::unique_ptr<LeaseStore> NewPostgresLeaseStore(Pool& pool);

}  // namespace bysans::pg
