// LoRaWAN gateway health (issue 20; store/gateway_store.h): an organisation's gateways with
// their online state, location and last seen; one gateway with its online/offline history;
// its rx/tx counters per hour or day; the devices it hears with their last RSSI/SNR. Members
// of the organisation read (viewer and up); a gateway another organisation brought is 404,
// as is an organisation the caller is not in (LoadOrganization).
#include <nlohmann/json.hpp>

#include "api/common.h"
#include "api/context.h"
#include "core/time_format.h"
#include "store/gateway_store.h"

namespace bysans::api {
namespace {

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kDayMs = 24 * kHourMs;
constexpr int64_t kDefaultHistoryMs = 30 * kDayMs;

json TimeOrNull(TimeMs t) { return t > 0 ? json(FormatRfc3339(t)) : json(nullptr); }

json GatewayJson(const GatewayHealth& g) {
  json j = {{"gatewayId", g.gateway_id},
            {"online", g.online ? json(*g.online) : json(nullptr)},
            {"stateSince", TimeOrNull(g.state_ms)},
            {"firstSeen", TimeOrNull(g.first_seen_ms)},
            {"lastSeen", TimeOrNull(g.last_seen_ms)},
            {"uplinks", g.uplinks},
            {"location", nullptr}};
  if (g.location) {
    j["location"] = {{"latitude", g.location->latitude},
                     {"longitude", g.location->longitude},
                     {"altitude", g.location->altitude}};
  }
  return j;
}

// The organisation (caller a member of it) and one of its gateways; kNotFound otherwise.
Result<GatewayHealth> LoadGateway(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization org, LoadOrganization(ctx, p, org_id, Role::kViewer));
  const std::string& gateway_id = req.Param("gatewayId");
  if (gateway_id.empty() || gateway_id.size() > 64) return NotFound("gateway not found");
  return ctx.store.gateways().GetGatewayHealth(org.id, gateway_id);
}

// ?from=&to= (RFC 3339 or ms), by default the last 30 days.
Result<std::pair<TimeMs, TimeMs>> Range(ApiContext& ctx, const http::Request& req) {
  const TimeMs now = ctx.clock.NowMs();
  BYSANS_ASSIGN_OR_RETURN(TimeMs to, TimeQuery(req, "to", now));
  BYSANS_ASSIGN_OR_RETURN(TimeMs from, TimeQuery(req, "from", to - kDefaultHistoryMs));
  if (from > to) return InvalidArgument("'from' is after 'to'");
  return std::make_pair(from, to);
}

Result<http::Response> List(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization org, LoadOrganization(ctx, p, org_id, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(auto gws, ctx.store.gateways().ListGatewayHealth(org.id));
  json items = json::array();
  for (const GatewayHealth& g : gws) items.push_back(GatewayJson(g));
  return Json(200, json{{"items", std::move(items)}});
}

Result<http::Response> Get(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(GatewayHealth g, LoadGateway(ctx, req, p));
  BYSANS_ASSIGN_OR_RETURN(auto range, Range(ctx, req));
  BYSANS_ASSIGN_OR_RETURN(auto history, ctx.store.gateways().GatewayHistory(
                                            g.org_id, g.gateway_id, range.first, range.second));
  json j = GatewayJson(g);
  json items = json::array();
  for (const GatewayStateChange& c : history)
    items.push_back({{"time", FormatRfc3339(c.ts)}, {"online", c.online}});
  j["history"] = std::move(items);
  return Json(200, j);
}

Result<http::Response> Stats(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(GatewayHealth g, LoadGateway(ctx, req, p));
  BYSANS_ASSIGN_OR_RETURN(auto range, Range(ctx, req));
  const std::string* bucket = req.Query("bucket");
  int64_t bucket_ms = kHourMs;
  if (bucket && !bucket->empty() && *bucket != "hour") {
    if (*bucket != "day") return InvalidArgument("'bucket' must be hour or day");
    bucket_ms = kDayMs;
  }
  // Whole buckets: the one holding `from` counts from its start.
  const TimeMs from = range.first - ((range.first % bucket_ms) + bucket_ms) % bucket_ms;
  BYSANS_ASSIGN_OR_RETURN(auto buckets, ctx.store.gateways().GatewayStatsHistory(
                                            g.org_id, g.gateway_id, from, range.second, bucket_ms));
  json items = json::array();
  for (const GatewayStatsBucket& b : buckets) {
    items.push_back({{"start", FormatRfc3339(b.start_ms)},
                     {"rxPacketsReceived", b.counters.rx_received},
                     {"rxPacketsReceivedOk", b.counters.rx_received_ok},
                     {"txPacketsReceived", b.counters.tx_received},
                     {"txPacketsEmitted", b.counters.tx_emitted}});
  }
  return Json(200,
              json{{"bucket", bucket_ms == kDayMs ? "day" : "hour"}, {"items", std::move(items)}});
}

Result<http::Response> Devices(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(GatewayHealth g, LoadGateway(ctx, req, p));
  BYSANS_ASSIGN_OR_RETURN(auto heard, ctx.store.gateways().HeardDevices(g.org_id, g.gateway_id));
  json items = json::array();
  for (const HeardDevice& d : heard) {
    items.push_back({{"deviceId", d.device_id},
                     {"name", d.name},
                     {"devEui", d.dev_eui},
                     {"rssi", d.rssi ? json(*d.rssi) : json(nullptr)},
                     {"snr", d.snr ? json(*d.snr) : json(nullptr)},
                     {"lastSeen", FormatRfc3339(d.last_seen_ms)},
                     {"uplinks", d.uplinks}});
  }
  return Json(200, json{{"items", std::move(items)}});
}

}  // namespace

void RegisterGatewayRoutes(http::Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  const std::string base = "/api/v1/organizations/{orgId}/gateways";
  AddAuthed(router, ctx, "GET", base,
            "The organisation's LoRaWAN gateways: online state, last seen, location, uplinks",
            bind(List));
  AddAuthed(router, ctx, "GET", base + "/{gatewayId}",
            "One gateway with its online/offline history (from, to; default the last 30 days)",
            bind(Get));
  AddAuthed(router, ctx, "GET", base + "/{gatewayId}/stats",
            "A gateway's packet counters summed per hour or day (from, to, bucket=hour|day)",
            bind(Stats));
  AddAuthed(router, ctx, "GET", base + "/{gatewayId}/devices",
            "The organisation's devices a gateway hears, with their last RSSI and SNR",
            bind(Devices));
}

}  // namespace bysans::api
