#include "auth/key_authority.h"

#include <algorithm>

namespace bysans::auth {
namespace {

// The user's role in the organisation as a whole (nullopt: none, or restricted to some of its
// applications, as Principal::RoleIn).
Result<std::optional<Role>> UserRoleIn(MetaStore& store, Id user_id, Id org_id) {
  Result<User> user = store.GetUser(user_id);
  if (!user.ok()) {
    if (user.status().code() == Code::kNotFound) return std::optional<Role>();
    return user.status();
  }
  if (user->global_admin) return std::optional<Role>(Role::kAdmin);
  Result<Membership> m = store.GetMembership(user_id, org_id);
  if (!m.ok()) {
    if (m.status().code() == Code::kNotFound) return std::optional<Role>();
    return m.status();
  }
  if (m->app_scoped) return std::optional<Role>();
  return std::optional<Role>(m->role);
}

}  // namespace

Result<std::optional<Role>> KeyRole(MetaStore& store, const ApiKey& key) {
  Role role = key.role;
  ApiKey at = key;
  for (int depth = 0; depth < kMaxKeyChain; ++depth) {
    if (at.created_by != 0) {
      BYSANS_ASSIGN_OR_RETURN(std::optional<Role> creator,
                              UserRoleIn(store, at.created_by, key.org_id));
      if (!creator) return creator;
      return std::optional<Role>(std::min(role, *creator));
    }
    // Made by a key before the creating key was recorded: its own role.
    if (!at.created_by_key) return std::optional<Role>(role);
    Result<ApiKey> parent = store.GetApiKey(*at.created_by_key);
    if (!parent.ok()) {
      // Revoking a key revokes the keys it created (store.h DeleteApiKey): only a race gets here.
      if (parent.status().code() == Code::kNotFound) return std::optional<Role>();
      return parent.status();
    }
    if (parent->org_id != key.org_id) return std::optional<Role>();
    role = std::min(role, parent->role);
    at = std::move(parent).value();
  }
  return std::optional<Role>();
}

}  // namespace bysans::auth
