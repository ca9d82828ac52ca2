// What one organisation may have of the things that cost the shared server for as long as they
// exist: devices (their series, rules' state and caches), data targets (a delivery thread and a
// connection each), MQTT integrations (a client thread and a connection each), rules (evaluated
// on the one rules thread every tenant shares, for each reading of their scope), silences in force
// (every change reloads them all on that thread), dashboards, open-data datasets and applications
// (read whole: the datasets by the public catalog, for anyone; the applications by SensorThings'
// catalog of the organisation). Without limits
// one organisation's admin or editor could create them without end and grow, or (threads) crash,
// the server every tenant shares. The limits are the server's (`limits.*`, ApiContext::limits);
// a global admin gives an organisation its own limit of devices (`maxDevices`).
#pragma once

#include <cstdint>
#include <string>

#include "api/common.h"

namespace bysans::api {

// The devices organisation `o` may have: its own maxDevices, else limits.max_devices_per_org.
int64_t DeviceLimitOf(const ApiContext& ctx, const Organization& o);

// Each is kFailedPrecondition (409, saying the count and the limit) when organisation `org_id`
// has as many as it may. Requests creating at the same moment may each pass it: an organisation
// can end a few (at most the HTTP threads) over its limit.
Status CheckDeviceLimit(ApiContext& ctx, Id org_id);
Status CheckDataTargetLimit(ApiContext& ctx, Id org_id);
Status CheckIntegrationLimit(ApiContext& ctx, Id org_id);
Status CheckRuleLimit(ApiContext& ctx, Id org_id);
Status CheckSilenceLimit(ApiContext& ctx, Id org_id);  // silences in force
Status CheckDashboardLimit(ApiContext& ctx, Id org_id);
Status CheckDatasetLimit(ApiContext& ctx, Id org_id);
Status CheckApplicationLimit(ApiContext& ctx, Id org_id);

}  // namespace bysans::api
