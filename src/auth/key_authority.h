// The role an API key acts with now. A key is authority delegated by whoever created it (a key
// never out-ranks its creator: api/api_keys.cc), so it ends or shrinks with the creator's: a member
// who left or was removed, a user deleted, a role lowered or restricted to some applications. A
// key created by another key answers to that key's creator, up the chain. Checked at every use
// (Authenticator, the broker users of SensorThings over MQTT), never cached, so a change of the
// creator's membership reaches the key at its next request.
#pragma once

#include <optional>

#include "core/status.h"
#include "model/model.h"
#include "store/store.h"

namespace bysans::auth {

// At most this many keys up a chain of creating keys (deeper: refused as broken).
inline constexpr int kMaxKeyChain = 32;

// The key's role, lowered to what its creator holds in the key's organisation now; nullopt when
// the creator holds no role there as a whole (or no longer exists). An error only when the store
// fails.
Result<std::optional<Role>> KeyRole(MetaStore& store, const ApiKey& key);

}  // namespace bysans::auth
