// The public Open Data DK side (issue 16), no login: an organisation's DCAT catalogue at the
// OS2iot address /api/v1/open-data-dk-sharing/{orgId} (data.json of Project Open Data v1.1,
// opendata/dcat.h) and each published dataset's distributions: latest values (JSON) and history
// (CSV and JSON, a time range in pages). An unknown organisation, one without published
// datasets, and a dataset that is unpublished, deleted or of another organisation all answer
// the same 404. Only the dataset's devices and keys are read (api/open_data.h DatasetDevices).
// Answers carry Cache-Control and an ETag (304 on If-None-Match).
#include <algorithm>
#include <cctype>
#include <map>

#include "api/cacheable.h"
#include "api/common.h"
#include "api/csv.h"
#include "api/latest_pages.h"
#include "api/open_data.h"
#include "core/time_format.h"
#include "opendata/dcat.h"
#include "opendata/history.h"

namespace bysans::api {
namespace {

constexpr int64_t kDefaultHistoryLimit = 1000;
constexpr int64_t kMaxHistoryLimit = 10'000;
constexpr TimeMs kDefaultHistoryRange = 24 * 3'600'000;  // without ?from: the last day

Status NoDataset(Id org, Id id) {
  return NotFound("no published dataset " + std::to_string(id) + " in organisation " +
                  std::to_string(org));
}

Result<Organization> LoadPublicOrganization(ApiContext& ctx, Id org) {
  auto o = ctx.store.GetOrganization(org);
  if (!o.ok() && o.status().code() == Code::kNotFound) {
    return NotFound("no open data in organisation " + std::to_string(org));
  }
  return o;
}

struct Published {
  Organization org;
  OpenDataset dataset;
};

// The organisation and the published dataset named in the path, or the one 404.
Result<Published> LoadPublished(ApiContext& ctx, const http::Request& req) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  auto d = ctx.store.open_data().GetDataset(id);
  if (!d.ok()) {
    if (d.status().code() == Code::kNotFound) return NoDataset(org, id);
    return d.status();
  }
  if (d->org_id != org || !d->published) return NoDataset(org, id);
  auto o = ctx.store.GetOrganization(org);
  if (!o.ok()) return o.status().code() == Code::kNotFound ? NoDataset(org, id) : o.status();
  return Published{std::move(o).value(), std::move(d).value()};
}

Result<http::Response> Catalog(ApiContext& ctx, http::Request& req) {
  BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization org, LoadPublicOrganization(ctx, org_id));
  BYSANS_ASSIGN_OR_RETURN(auto datasets, ctx.store.open_data().ListDatasets(org.id, true));
  if (datasets.empty()) return NotFound("no open data in organisation " + std::to_string(org_id));
  return Cacheable(req, Json(200, opendata::CatalogJson(org, datasets, BaseUrl(ctx, req))));
}

Result<http::Response> OneDataset(ApiContext& ctx, http::Request& req) {
  BYSANS_ASSIGN_OR_RETURN(Published p, LoadPublished(ctx, req));
  return Cacheable(req, Json(200, opendata::DatasetJson(p.org, p.dataset, BaseUrl(ctx, req))));
}

bool KeyShown(const OpenDataset& d, const std::string& key) {
  return d.keys.empty() || std::find(d.keys.begin(), d.keys.end(), key) != d.keys.end();
}

json DeviceJson(const Device& dev) {
  json j = {{"deviceId", dev.id}, {"deviceName", dev.name}};
  if (dev.location) {
    j["location"] = {{"type", "Point"},
                     {"coordinates", json::array({dev.location->lon, dev.location->lat})}};
  }
  return j;
}

// The devices' latest values within kLatestBudgetBytes (latest_pages.h): an answer the budget
// cut names the rest (`next`, Link rel="next"); a device may go on on the next page.
Result<http::Response> Latest(ApiContext& ctx, http::Request& req) {
  BYSANS_ASSIGN_OR_RETURN(Published p, LoadPublished(ctx, req));
  BYSANS_ASSIGN_OR_RETURN(std::optional<LatestPosition> start, LatestCursorQuery(req));
  BYSANS_ASSIGN_OR_RETURN(std::vector<Device> devices, DatasetDevices(ctx, p.dataset));
  std::vector<Id> ids;
  for (const Device& dev : devices) ids.push_back(dev.id);
  BYSANS_ASSIGN_OR_RETURN(LatestPage page, ReadLatestPage(ctx.store, ids, start, kLatestBudgetBytes,
                                                          [&p](const Reading& r) {
                                                            return KeyShown(p.dataset, r.key);
                                                          }));
  std::map<Id, json> readings;
  for (const Reading& r : page.rows) readings[r.device_id][r.key] = ReadingJson(r);
  json items = json::array();
  for (size_t i = page.first; i < page.end; ++i) {
    json item = DeviceJson(devices[i]);
    auto it = readings.find(devices[i].id);
    item["readings"] = it == readings.end() ? json::object() : std::move(it->second);
    items.push_back(std::move(item));
  }
  return Cacheable(req, LatestAnswer(ctx, req,
                                     json{{"datasetId", p.dataset.id},
                                          {"title", p.dataset.title},
                                          {"license", p.dataset.license},
                                          {"items", std::move(items)}},
                                     page));
}

// ?from=&to=&limit=&cursor= of a history request, and what it reads.
struct HistoryRequest {
  opendata::HistoryQuery query;
  std::map<Id, std::string> device_names;
};

Result<HistoryRequest> ParseHistory(ApiContext& ctx, const http::Request& req,
                                    const OpenDataset& d) {
  HistoryRequest h;
  opendata::HistoryQuery& q = h.query;
  BYSANS_ASSIGN_OR_RETURN(q.to, TimeQuery(req, "to", ctx.clock.NowMs()));
  BYSANS_ASSIGN_OR_RETURN(q.from, TimeQuery(req, "from", q.to - kDefaultHistoryRange));
  if (q.from > q.to) return InvalidArgument("'from' must not be after 'to'");
  BYSANS_ASSIGN_OR_RETURN(q.limit, LimitQuery(req, kDefaultHistoryLimit, kMaxHistoryLimit));
  if (const std::string* cursor = req.Query("cursor"); cursor && !cursor->empty()) {
    BYSANS_ASSIGN_OR_RETURN(q.after, opendata::DecodeCursor(*cursor));
  }
  q.keys = d.keys;
  BYSANS_ASSIGN_OR_RETURN(std::vector<Device> devices, DatasetDevices(ctx, d));
  for (const Device& dev : devices) {
    q.device_ids.push_back(dev.id);
    h.device_names[dev.id] = dev.name;
  }
  return h;
}

// The link to the page after `page`, or "" when it was the last.
std::string NextUrl(const ApiContext& ctx, const http::Request& req,
                    const opendata::HistoryQuery& q, const opendata::HistoryPage& page) {
  if (!page.next) return {};
  return BaseUrl(ctx, req) + req.path + "?from=" + std::to_string(q.from) +
         "&to=" + std::to_string(q.to) + "&limit=" + std::to_string(q.limit) +
         "&cursor=" + opendata::EncodeCursor(*page.next);
}

Result<http::Response> History(ApiContext& ctx, http::Request& req, bool csv) {
  BYSANS_ASSIGN_OR_RETURN(Published p, LoadPublished(ctx, req));
  BYSANS_ASSIGN_OR_RETURN(HistoryRequest h, ParseHistory(ctx, req, p.dataset));
  BYSANS_ASSIGN_OR_RETURN(opendata::HistoryPage page, opendata::ReadHistory(ctx.store, h.query));
  const std::string next = NextUrl(ctx, req, h.query, page);
  http::Response r;
  if (csv) {
    std::string out = "device_id,device_name,key,ts,value,unit,quality\r\n";
    for (const Reading& x : page.rows) {
      CsvRow(out, {std::to_string(x.device_id), h.device_names[x.device_id], x.key,
                   FormatRfc3339(x.ts), ValueText(x.value), x.unit, QualityName(x.quality)});
    }
    r = CsvResponse(std::move(out), "dataset-" + std::to_string(p.dataset.id) + "-history.csv");
  } else {
    json items = json::array();
    for (const Reading& x : page.rows) {
      items.push_back({{"deviceId", x.device_id},
                       {"deviceName", h.device_names[x.device_id]},
                       {"key", x.key},
                       {"ts", FormatRfc3339(x.ts)},
                       {"value", ValueJson(x.value)},
                       {"unit", x.unit},
                       {"quality", QualityName(x.quality)}});
    }
    r = Json(200, json{{"datasetId", p.dataset.id},
                       {"from", FormatRfc3339(h.query.from)},
                       {"to", FormatRfc3339(h.query.to)},
                       {"limit", h.query.limit},
                       {"items", std::move(items)},
                       {"next", next.empty() ? json(nullptr) : json(next)}});
  }
  return Cacheable(req, WithNextLink(std::move(r), next));
}

}  // namespace

Result<OpenDataset> LoadPublishedDataset(ApiContext& ctx, const http::Request& req) {
  BYSANS_ASSIGN_OR_RETURN(Published p, LoadPublished(ctx, req));
  return std::move(p.dataset);
}

void RegisterOpenDataPublicRoutes(http::Router& router, ApiContext& ctx) {
  const std::string root = "/api/v1/open-data-dk-sharing/{orgId}";
  const std::string one = root + "/datasets/{id}";
  AddPublic(router, "GET", root,
            "Public DCAT catalogue (Project Open Data v1.1 data.json) of an organisation's "
            "published datasets; no login",
            [&ctx](http::Request& req) { return Catalog(ctx, req); });
  AddPublic(router, "GET", one, "One published dataset as a dcat:Dataset; no login",
            [&ctx](http::Request& req) { return OneDataset(ctx, req); });
  AddPublic(router, "GET", one + "/latest",
            "Latest value of every key of every device of a published dataset (?cursor=, next: a "
            "page ends at about 16 MiB); no login",
            [&ctx](http::Request& req) { return Latest(ctx, req); });
  AddPublic(router, "GET", one + "/history.csv",
            "Readings of a published dataset as CSV (?from=&to=&limit=&cursor=, Link rel=next; "
            "a page ends at `limit` readings or about 16 MiB); no login",
            [&ctx](http::Request& req) { return History(ctx, req, true); });
  AddPublic(router, "GET", one + "/history.json",
            "Readings of a published dataset as JSON (?from=&to=&limit=&cursor=, next; a page "
            "ends at `limit` readings or about 16 MiB); no login",
            [&ctx](http::Request& req) { return History(ctx, req, false); });
}

}  // namespace bysans::api
