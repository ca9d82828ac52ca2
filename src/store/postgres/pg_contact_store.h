// ContactStore on PostgreSQL (store/contact_store.h); its tables are migration 7
// (ContactsSchema, schema.h).
#pragma once

#include <memory>

#include "store/contact_store.h"

namespace bysans::pg {

class Pool;
std::unique_ptr<ContactStore> NewPostgresContactStore(Pool& pool);

}  // namespace bysans::pg
