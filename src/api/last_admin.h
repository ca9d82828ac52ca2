// An organisation keeps at least one admin: removing or demoting its last one (by the members
// routes, or by accepting an invitation with a lower role) would leave no one to manage its
// members and keys but a global admin. Membership changes that could do so run under
// MembershipChangeLock(), so two admins cannot remove each other at the same moment.
#pragma once

#include <mutex>

#include "api/context.h"
#include "core/status.h"

namespace bysans::api {

// kFailedPrecondition (409) when `user_id` is the organisation's only admin; Ok otherwise (also
// when the user is no member, or not an admin).
Status KeepsAnAdmin(ApiContext& ctx, Id org_id, Id user_id);

// Held across KeepsAnAdmin and the change it guards (one server process per data directory).
std::unique_lock<std::mutex> MembershipChangeLock();

}  // namespace bysans::api
