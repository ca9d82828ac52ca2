// The "applications" field of a member (PUT …/members/{userId}) or an invitation
// (POST …/invitations): null or absent gives the role in the whole organisation; a list of the
// organisation's application ids gives it on those only (access per application, issue 21 §2).
// Admins manage the whole organisation and cannot be restricted.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/context.h"
#include "core/status.h"
#include "model/model.h"

namespace bysans::api {

struct ApplicationScope {
  bool scoped = false;
  std::vector<Id> app_ids;  // sorted, unique, each an application of the organisation
};

// 400 naming the field for a malformed list, an application of another organisation or none,
// more than 1000 applications, or a restricted admin.
Result<ApplicationScope> ParseApplicationScope(ApiContext& ctx, const nlohmann::json& body,
                                               Id org_id, Role role);

// For the audit: "editor", or "editor on applications 3 7".
std::string RoleWithScope(Role role, bool scoped, const std::vector<Id>& app_ids);

}  // namespace bysans::api
