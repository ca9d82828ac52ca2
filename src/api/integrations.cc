// LoRaWAN onboarding views: gateways seen per organisation and uplinks from
// DevEUIs no device has. The ChirpStack integration of this version is one
// subscription on the supervised broker (ChirpStack publishes into it with
// bysans' service credentials), so it is not tied to an organisation: unknown
// DevEUIs are listed to global admins only.
#include "api/common.h"
#include "core/time_format.h"
#include "store/mqtt_store.h"

namespace bysans::api {
namespace {

Result<http::Response> Gateways(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization org, LoadOrganization(ctx, p, org_id, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(auto gws, ctx.store.mqtt().ListGateways(org.id));
  json items = json::array();
  for (const LorawanGateway& g : gws) {
    items.push_back({{"gatewayId", g.gateway_id},
                     {"firstSeen", FormatRfc3339(g.first_seen_ms)},
                     {"lastSeen", FormatRfc3339(g.last_seen_ms)},
                     {"uplinks", g.uplinks}});
  }
  return Json(200, json{{"items", std::move(items)}});
}

Result<http::Response> UnknownDevices(ApiContext& ctx, http::Request&, const auth::Principal& p) {
  BYSANS_RETURN_IF_ERROR(auth::RequireGlobalAdmin(p));
  BYSANS_ASSIGN_OR_RETURN(auto devs, ctx.store.mqtt().ListUnknownDevices());
  json items = json::array();
  for (const UnknownLorawanDevice& d : devs) {
    items.push_back({{"devEui", d.dev_eui},
                     {"applicationId", d.application_id},
                     {"firstSeen", FormatRfc3339(d.first_seen_ms)},
                     {"lastSeen", FormatRfc3339(d.last_seen_ms)},
                     {"uplinks", d.uplinks}});
  }
  return Json(200, json{{"items", std::move(items)}});
}

}  // namespace

void RegisterLorawanRoutes(http::Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  AddAuthed(router, ctx, "GET", "/api/v1/organizations/{orgId}/lorawan/gateways",
            "LoRaWAN gateways that carried uplinks of the organisation's devices", bind(Gateways));
  AddAuthed(router, ctx, "GET", "/api/v1/lorawan/unknown-devices",
            "Uplinks from DevEUIs no device has (global admin; for onboarding)",
            bind(UnknownDevices));
}

}  // namespace bysans::api
