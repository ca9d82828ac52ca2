#include "api/application_scope.h"

#include <algorithm>

#include "api/common.h"

namespace bysans::api {
namespace {

constexpr size_t kMaxScopedApplications = 1000;

}  // namespace

Result<ApplicationScope> ParseApplicationScope(ApiContext& ctx, const nlohmann::json& body,
                                               Id org_id, Role role) {
  ApplicationScope scope;
  auto it = body.find("applications");
  if (it == body.end() || it->is_null()) return scope;
  if (!it->is_array())
    return InvalidArgument("field 'applications' must be null or a list of application ids");
  if (it->size() > kMaxScopedApplications)
    return InvalidArgument("field 'applications' may list at most " +
                           std::to_string(kMaxScopedApplications) + " applications");
  if (role == Role::kAdmin)
    return InvalidArgument(
        "field 'applications': an admin manages the whole organisation; give a restricted "
        "member the role viewer, operator or editor");
  scope.scoped = true;
  for (const nlohmann::json& v : *it) {
    if (!v.is_number_integer() || v.get<int64_t>() <= 0)
      return InvalidArgument("field 'applications' must list application ids");
    const Id app = v.get<Id>();
    auto a = ctx.store.GetApplication(app);
    if (!a.ok() && a.status().code() != Code::kNotFound) return a.status();
    if (!a.ok() || a->org_id != org_id)
      return InvalidArgument("field 'applications': no application with id " + std::to_string(app) +
                             " in this organisation");
    scope.app_ids.push_back(app);
  }
  std::sort(scope.app_ids.begin(), scope.app_ids.end());
  scope.app_ids.erase(std::unique(scope.app_ids.begin(), scope.app_ids.end()), scope.app_ids.end());
  return scope;
}

std::string RoleWithScope(Role role, bool scoped, const std::vector<Id>& app_ids) {
  std::string out = RoleName(role);
  if (!scoped) return out;
  out += " on applications";
  for (Id a : app_ids) out += " " + std::to_string(a);
  return out;
}

}  // namespace bysans::api
