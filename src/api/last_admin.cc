#include "api/last_admin.h"

#include <string>

namespace bysans::api {

Status KeepsAnAdmin(ApiContext& ctx, Id org_id, Id user_id) {
  BYSANS_ASSIGN_OR_RETURN(auto ms, ctx.store.ListMembershipsOfOrganization(org_id));
  bool target_is_admin = false;
  int admins = 0;
  for (const auto& m : ms) {
    if (m.role != Role::kAdmin) continue;
    ++admins;
    if (m.user_id == user_id) target_is_admin = true;
  }
  if (target_is_admin && admins == 1)
    return FailedPrecondition("user " + std::to_string(user_id) +
                              " is the organisation's last admin; make another member admin first");
  return Status::Ok();
}

std::unique_lock<std::mutex> MembershipChangeLock() {
  static std::mutex mu;
  return std::unique_lock<std::mutex>(mu);
}

}  // namespace bysans::api
