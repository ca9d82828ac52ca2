// Public dashboards (issue 21 §4), no login: `GET /api/v1/public/dashboards/{id}` answers a
// dashboard an admin made public (api/dashboards.cc) with its name, layout and the names of the
// devices it shows; `GET …/{id}/data` what its widgets read: the latest value of each (device,
// key) its tiles, gauges and tables show, and the series of its time-series widgets over their
// period, averaged in the buckets the logged-in dashboard reads (24h: 15 min, 7d and 30d: 1 h).
// Both are checked again at every read against the organisation's published open datasets
// (api/dashboard_coverage.h): a (device, key) no longer covered is left out, a device no longer
// covered is not named. An unknown, unpublished or deleted dashboard is one 404. Nothing else of
// the organisation (its id, members, audit, metadata, other data) is in the answers, which carry
// Cache-Control and an ETag (api/cacheable.h).
#include <map>

#include "api/cacheable.h"
#include "api/common.h"
#include "api/csv.h"
#include "api/dashboard_coverage.h"
#include "api/latest_pages.h"
#include "core/time_format.h"
#include "store/dashboard_store.h"

namespace bysans::api {
namespace {

constexpr TimeMs kHourMs = 3'600'000;
constexpr TimeMs kMinuteMs = 60'000;

struct Public {
  Dashboard dashboard;
  json layout;
  OpenCoverage coverage;
};

// The public dashboard named in the path with what published open data covers now, or one 404.
Result<Public> LoadPublic(ApiContext& ctx, const http::Request& req) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  auto d = ctx.store.dashboards().GetDashboard(id);
  if (!d.ok() && d.status().code() != Code::kNotFound) return d.status();
  if (!d.ok() || !d->published) return NotFound("no such public dashboard");
  Public p{std::move(d).value(), {}, {}};
  p.layout = json::parse(p.dashboard.layout, nullptr, false);
  if (!p.layout.is_object()) p.layout = json{{"widgets", json::array()}};  // a damaged row
  BYSANS_ASSIGN_OR_RETURN(p.coverage, PublishedCoverage(ctx, p.dashboard.org_id));
  return p;
}

Result<http::Response> Layout(ApiContext& ctx, http::Request& req) {
  BYSANS_ASSIGN_OR_RETURN(Public p, LoadPublic(ctx, req));
  json devices = json::array();
  std::map<Id, bool> named;
  for (const json& w : p.layout["widgets"]) {
    for (const auto& [device, key] : WidgetReads(w)) {
      auto name = p.coverage.names.find(device);
      if (name == p.coverage.names.end() || !named.emplace(device, true).second) continue;
      devices.push_back({{"id", device}, {"name", name->second}});
    }
  }
  return Cacheable(req, Json(200, json{{"id", p.dashboard.id},
                                       {"name", p.dashboard.name},
                                       {"layout", p.layout},
                                       {"devices", std::move(devices)},
                                       {"updatedAt", FormatRfc3339(p.dashboard.updated_ms)}}));
}

// The latest values of the covered (device, key) pairs the widgets read: {deviceId: {key: …}},
// within kLatestBudgetBytes (`truncated` says the budget left some out: a display has no pages).
Result<json> LatestValues(ApiContext& ctx, const Public& p, bool* truncated) {
  std::map<Id, std::set<std::string>> wanted;
  for (const json& w : p.layout["widgets"]) {
    for (const auto& [device, key] : WidgetReads(w)) {
      if (p.coverage.Covers(device, key)) wanted[device].insert(key);
    }
  }
  std::vector<Id> devices;
  for (const auto& [id, keys] : wanted) devices.push_back(id);
  BYSANS_ASSIGN_OR_RETURN(
      LatestPage page,
      ReadLatestPage(ctx.store, devices, std::nullopt, kLatestBudgetBytes,
                     [&wanted](const Reading& r) { return wanted[r.device_id].count(r.key) > 0; }));
  *truncated = page.next.has_value();
  json out = json::object();
  for (const Reading& r : page.rows) out[std::to_string(r.device_id)][r.key] = ReadingJson(r);
  return out;
}

// The bucket averages of each covered series of each time-series widget, the widget's period
// up to `to`.
Result<json> Series(ApiContext& ctx, const Public& p, TimeMs to) {
  json out = json::array();
  const json& widgets = p.layout["widgets"];
  for (size_t i = 0; i < widgets.size(); ++i) {
    if (widgets[i].value("type", "") != "timeseries") continue;
    const std::string period = widgets[i].value("period", "7d");
    const TimeMs range = (period == "24h" ? 24 : period == "30d" ? 30 * 24 : 7 * 24) * kHourMs;
    const TimeMs bucket = period == "24h" ? 15 * kMinuteMs : kHourMs;
    for (const auto& [device, key] : WidgetReads(widgets[i])) {
      if (!p.coverage.Covers(device, key)) continue;
      AggregateQuery q;
      q.device_id = device;
      q.key = key;
      q.from = to - range;
      q.to = to;
      q.bucket_ms = bucket;
      BYSANS_ASSIGN_OR_RETURN(std::vector<Bucket> buckets, ctx.store.Aggregate(q));
      json items = json::array();
      for (const Bucket& b : buckets) {
        items.push_back({{"ts", FormatRfc3339(b.start)}, {"avg", b.avg()}});
      }
      out.push_back({{"widget", i},
                     {"deviceId", device},
                     {"key", key},
                     {"bucket", period == "24h" ? "15m" : "1h"},
                     {"items", std::move(items)}});
    }
  }
  return out;
}

Result<http::Response> Data(ApiContext& ctx, http::Request& req) {
  BYSANS_ASSIGN_OR_RETURN(Public p, LoadPublic(ctx, req));
  // The end of the current minute: answers within a minute are alike (ETag, caches).
  const TimeMs to = (ctx.clock.NowMs() / kMinuteMs + 1) * kMinuteMs - 1;
  bool truncated = false;
  BYSANS_ASSIGN_OR_RETURN(json latest, LatestValues(ctx, p, &truncated));
  BYSANS_ASSIGN_OR_RETURN(json series, Series(ctx, p, to));
  return Cacheable(req, Json(200, json{{"id", p.dashboard.id},
                                       {"to", FormatRfc3339(to)},
                                       {"latest", std::move(latest)},
                                       {"latestTruncated", truncated},
                                       {"series", std::move(series)}}));
}

}  // namespace

void RegisterDashboardPublicRoutes(http::Router& router, ApiContext& ctx) {
  const std::string one = "/api/v1/public/dashboards/{id}";
  AddPublic(router, "GET", one,
            "A public dashboard's name, layout and device names (published open data only); "
            "no login",
            [&ctx](http::Request& req) { return Layout(ctx, req); });
  AddPublic(router, "GET", one + "/data",
            "What a public dashboard's widgets show: latest values and time-series bucket "
            "averages of published open data only; no login",
            [&ctx](http::Request& req) { return Data(ctx, req); });
}

}  // namespace bysans::api
