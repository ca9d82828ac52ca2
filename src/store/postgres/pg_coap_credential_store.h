// CoapCredentialStore on PostgreSQL (store/coap_credential_store.h); its table is migration 9
// (CoapCredentialsSchema, schema.h).
#pragma once

#include <memory>

#include "store/coap_credential_store.h"

namespace bysans::pg {

class Pool;
std::unique_ptr<CoapCredentialStore> NewPostgresCoapCredentialStore(Pool& pool);

}  // namespace bysans::pg
