#include "api/org_limits.h"

#include <functional>
#include <map>
#include <memory>
#include <utility>

#include "store/dashboard_store.h"
#include "store/mqtt_store.h"
#include "store/open_data_store.h"
#include "store/rule_store.h"
#include "store/target_store.h"

namespace bysans::api {
namespace {

// Counts `what` of organisation `org_id` (count()) with the organisation's creations of it held
// (HoldLimit), and keeps them held when there is room for one more.
template <typename Count>
Result<LimitHold> Within(ApiContext& ctx, Id org_id, const std::string& what, int64_t limit,
                         const std::string& setting, Count count) {
  BYSANS_ASSIGN_OR_RETURN(LimitHold hold, HoldLimit(ctx, org_id, what));
  BYSANS_ASSIGN_OR_RETURN(int64_t have, count());
  if (have < limit) return hold;
  return FailedPrecondition("the organisation has " + std::to_string(have) + " " + what +
                            " and may have " + std::to_string(limit) + " (" + setting + ")");
}

}  // namespace

Result<LimitHold> HoldLimit(ApiContext& ctx, Id org_id, std::string_view kind) {
  // One lock per (organisation, kind), kept while the process runs (a few per organisation):
  // no organisation's creations wait for another's.
  static std::mutex locks_mu;
  static std::map<std::pair<Id, std::string>, std::unique_ptr<std::mutex>, std::less<>> locks;
  std::mutex* lock = nullptr;
  {
    std::lock_guard lk(locks_mu);
    auto& slot = locks[std::pair<Id, std::string>(org_id, kind)];
    if (!slot) slot = std::make_unique<std::mutex>();
    lock = slot.get();
  }
  std::unique_lock mine(*lock);
  BYSANS_ASSIGN_OR_RETURN(std::unique_ptr<NodesLock> nodes,
                          ctx.store.leases().LockAcrossNodes("limits/" + std::to_string(org_id) +
                                                             "/" + std::string(kind)));
  return LimitHold(std::move(mine), std::move(nodes));
}

int64_t DeviceLimitOf(const ApiContext& ctx, const Organization& o) {
  return o.max_devices.value_or(ctx.limits.devices);
}

Result<LimitHold> CheckDeviceLimit(ApiContext& ctx, Id org_id) {
  BYSANS_ASSIGN_OR_RETURN(Organization o, ctx.store.GetOrganization(org_id));
  return Within(ctx, org_id, "devices", DeviceLimitOf(ctx, o),
                "a global admin may raise it: maxDevices", [&]() -> Result<int64_t> {
                  DeviceFilter f;
                  f.org_id = org_id;
                  BYSANS_ASSIGN_OR_RETURN(Paged<Device> some, ctx.store.ListDevices(f, Page{1, 0}));
                  return some.total;
                });
}

Result<LimitHold> CheckDataTargetLimit(ApiContext& ctx, Id org_id) {
  return Within(ctx, org_id, "data targets", ctx.limits.data_targets,
                "the server's limits.max_data_targets_per_org",
                [&] { return ctx.store.targets().CountTargets(org_id); });
}

Result<LimitHold> CheckIntegrationLimit(ApiContext& ctx, Id org_id) {
  return Within(ctx, org_id, "MQTT integrations", ctx.limits.integrations,
                "the server's limits.max_integrations_per_org", [&]() -> Result<int64_t> {
                  BYSANS_ASSIGN_OR_RETURN(std::vector<MqttIntegration> all,
                                          ctx.store.mqtt().ListIntegrations("", org_id, 0));
                  return static_cast<int64_t>(all.size());
                });
}

Result<LimitHold> CheckRuleLimit(ApiContext& ctx, Id org_id) {
  return Within(ctx, org_id, "rules", ctx.limits.rules, "the server's limits.max_rules_per_org",
                [&]() -> Result<int64_t> {
                  BYSANS_ASSIGN_OR_RETURN(Paged<RuleRecord> some,
                                          ctx.store.rules().ListRules(org_id, Page{1, 0}));
                  return some.total;
                });
}

Result<LimitHold> CheckSilenceLimit(ApiContext& ctx, Id org_id) {
  return Within(ctx, org_id, "silences in force", ctx.limits.silences,
                "the server's limits.max_silences_per_org", [&]() -> Result<int64_t> {
                  BYSANS_ASSIGN_OR_RETURN(
                      std::vector<SilenceRecord> in_force,
                      ctx.store.rules().ListSilences(org_id, ctx.clock.NowMs()));
                  return static_cast<int64_t>(in_force.size());
                });
}

Result<LimitHold> CheckDashboardLimit(ApiContext& ctx, Id org_id) {
  return Within(ctx, org_id, "dashboards", ctx.limits.dashboards,
                "the server's limits.max_dashboards_per_org", [&]() -> Result<int64_t> {
                  BYSANS_ASSIGN_OR_RETURN(
                      std::vector<Dashboard> all,
                      ctx.store.dashboards().ListDashboards(org_id, Role::kAdmin));
                  return static_cast<int64_t>(all.size());
                });
}

Result<LimitHold> CheckDatasetLimit(ApiContext& ctx, Id org_id) {
  return Within(ctx, org_id, "open-data datasets", ctx.limits.datasets,
                "the server's limits.max_datasets_per_org", [&]() -> Result<int64_t> {
                  BYSANS_ASSIGN_OR_RETURN(std::vector<OpenDataset> all,
                                          ctx.store.open_data().ListDatasets(org_id, false));
                  return static_cast<int64_t>(all.size());
                });
}

Result<LimitHold> CheckApplicationLimit(ApiContext& ctx, Id org_id) {
  return Within(ctx, org_id, "applications", ctx.limits.applications,
                "the server's limits.max_applications_per_org", [&]() -> Result<int64_t> {
                  BYSANS_ASSIGN_OR_RETURN(Paged<Application> some,
                                          ctx.store.ListApplications(org_id, Page{1, 0}));
                  return some.total;
                });
}

}  // namespace bysans::api
