// The first administrator: created when the store has no user at all, from
// admin.email / admin.password, or with a generated password printed once.
#pragma once

#include "config/config.h"
#include "core/random.h"
#include "store/store.h"

namespace bysans {

// Returns the id of the first admin (existing or new); 0 if users exist but
// none is a global admin.
Result<Id> EnsureFirstAdmin(Store& store, Random& random, const Clock& clock, const Config& c);

// Creates a user (CLI `bysans admin create-user`). kAlreadyExists if the email is taken;
// kInvalidArgument for a bad email or a password the policy refuses (auth/password_policy.h).
Result<User> CreateUser(Store& store, const Clock& clock, const std::string& email,
                        const std::string& password, bool global_admin);

}  // namespace bysans
