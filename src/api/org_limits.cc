#include "api/org_limits.h"

#include "store/dashboard_store.h"
#include "store/mqtt_store.h"
#include "store/open_data_store.h"
#include "store/rule_store.h"
#include "store/target_store.h"

namespace bysans::api {
namespace {

Status Within(int64_t have, int64_t limit, const std::string& what, const std::string& setting) {
  if (have < limit) return Status::Ok();
  return FailedPrecondition("the organisation has " + std::to_string(have) + " " + what +
                            " and may have " + std::to_string(limit) + " (" + setting + ")");
}

}  // namespace

int64_t DeviceLimitOf(const ApiContext& ctx, const Organization& o) {
  return o.max_devices.value_or(ctx.limits.devices);
}

Status CheckDeviceLimit(ApiContext& ctx, Id org_id) {
  BYSANS_ASSIGN_OR_RETURN(Organization o, ctx.store.GetOrganization(org_id));
  DeviceFilter f;
  f.org_id = org_id;
  BYSANS_ASSIGN_OR_RETURN(Paged<Device> some, ctx.store.ListDevices(f, Page{1, 0}));
  return Within(some.total, DeviceLimitOf(ctx, o), "devices",
                "a global admin may raise it: maxDevices");
}

Status CheckDataTargetLimit(ApiContext& ctx, Id org_id) {
  BYSANS_ASSIGN_OR_RETURN(int64_t have, ctx.store.targets().CountTargets(org_id));
  return Within(have, ctx.limits.data_targets, "data targets",
                "the server's limits.max_data_targets_per_org");
}

Status CheckIntegrationLimit(ApiContext& ctx, Id org_id) {
  BYSANS_ASSIGN_OR_RETURN(std::vector<MqttIntegration> all,
                          ctx.store.mqtt().ListIntegrations("", org_id, 0));
  return Within(static_cast<int64_t>(all.size()), ctx.limits.integrations, "MQTT integrations",
                "the server's limits.max_integrations_per_org");
}

Status CheckRuleLimit(ApiContext& ctx, Id org_id) {
  BYSANS_ASSIGN_OR_RETURN(Paged<RuleRecord> some, ctx.store.rules().ListRules(org_id, Page{1, 0}));
  return Within(some.total, ctx.limits.rules, "rules", "the server's limits.max_rules_per_org");
}

Status CheckSilenceLimit(ApiContext& ctx, Id org_id) {
  BYSANS_ASSIGN_OR_RETURN(std::vector<SilenceRecord> in_force,
                          ctx.store.rules().ListSilences(org_id, ctx.clock.NowMs()));
  return Within(static_cast<int64_t>(in_force.size()), ctx.limits.silences, "silences in force",
                "the server's limits.max_silences_per_org");
}

Status CheckDashboardLimit(ApiContext& ctx, Id org_id) {
  BYSANS_ASSIGN_OR_RETURN(std::vector<Dashboard> all,
                          ctx.store.dashboards().ListDashboards(org_id, Role::kAdmin));
  return Within(static_cast<int64_t>(all.size()), ctx.limits.dashboards, "dashboards",
                "the server's limits.max_dashboards_per_org");
}

Status CheckDatasetLimit(ApiContext& ctx, Id org_id) {
  BYSANS_ASSIGN_OR_RETURN(std::vector<OpenDataset> all,
                          ctx.store.open_data().ListDatasets(org_id, false));
  return Within(static_cast<int64_t>(all.size()), ctx.limits.datasets, "open-data datasets",
                "the server's limits.max_datasets_per_org");
}

Status CheckApplicationLimit(ApiContext& ctx, Id org_id) {
  BYSANS_ASSIGN_OR_RETURN(Paged<Application> some, ctx.store.ListApplications(org_id, Page{1, 0}));
  return Within(some.total, ctx.limits.applications, "applications",
                "the server's limits.max_applications_per_org");
}

}  // namespace bysans::api
