// OGC SensorThings API 1.1, write side (sta/README.md "Writes"): creating Observations is
// ingest. POST /sta/v1.1/CreateObservations (Data Array extension, 14.4), POST
// /sta/v1.1/Observations with a Datastream link and POST /sta/v1.1/Datastreams(N)/Observations
// turn every Observation into a reading of the Datastream's (device, key) and submit them to the
// same pipeline as HTTP ingest (quality flags, rules, data targets): one uplink per device and
// request, answered 201 only after the store committed all of them (503 + Retry-After when the
// pipeline pushes back). Callers: the REST API's principals, editor of the Datastream's
// organisation (a viewer gets 403, another organisation's Datastream is 404); audited.
#include <atomic>
#include <map>
#include <mutex>

#include "api/common.h"
#include "api/devices.h"
#include "api/sta_batch.h"
#include "api/sta_crud.h"
#include "core/time_format.h"
#include "http/csrf.h"
#include "sta/catalog.h"
#include "sta/entity.h"
#include "sta/entity_json.h"
#include "sta/service.h"
#include "sta/write_observations.h"
#include "sta/write_things.h"

namespace bysans::api {
namespace {

constexpr std::string_view kRoot = kStaRoot;
// CreateObservations bodies: kMaxObservationsPerRequest rows of ~40 bytes.
constexpr size_t kCreateObservationsBodyLimit = 8 * 1024 * 1024;

// A Datastream the caller may write: its series and device.
struct Writable {
  SeriesRef series;
  std::shared_ptr<const Device> device;
};

Result<Writable> WritableDatastream(ApiContext& ctx, const auth::Principal& p, int64_t id) {
  BYSANS_ASSIGN_OR_RETURN(StaDatastream ds, LoadStaDatastream(ctx, p, id, Role::kEditor));
  return Writable{std::move(ds.series), std::make_shared<const Device>(std::move(ds.device))};
}

nlohmann::json ValueJson(const Value& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

// One device's readings of a request and the raw message recording them: SenML
// (application/senml+json), which is also what data targets receive as its payload.
struct DeviceUplink {
  std::shared_ptr<const Device> device;
  std::vector<Reading> readings;
};

class UplinkBuilder {
 public:
  void Add(const Writable& w, const sta::NewObservation& obs) {
    DeviceUplink& u = by_device_[w.device->id];
    u.device = w.device;
    Reading r;
    r.device_id = w.device->id;
    r.key = w.series.key;
    r.ts = obs.ts;
    r.value = obs.value;
    r.unit = w.series.unit;
    u.readings.push_back(std::move(r));
  }

  std::vector<pipeline::Uplink> Take(TimeMs now) {
    std::vector<pipeline::Uplink> out;
    for (auto& [id, d] : by_device_) {
      pipeline::Uplink u;
      u.device = d.device;
      u.skip_decode = true;
      u.raw.device_id = id;
      u.raw.received_ms = now;
      u.raw.transport = Transport::kHttp;
      u.raw.content_type = "application/senml+json";
      u.raw.decode_status = DecodeStatus::kNone;
      nlohmann::json senml = nlohmann::json::array();
      for (const Reading& r : d.readings) {
        const char* field = r.value.index() == 0 ? "v" : r.value.index() == 1 ? "vs" : "vb";
        senml.push_back(
            {{"n", r.key}, {"t", static_cast<double>(r.ts) / 1000.0}, {field, ValueJson(r.value)}});
      }
      u.raw.payload = senml.dump();
      u.readings = std::move(d.readings);
      out.push_back(std::move(u));
    }
    by_device_.clear();
    return out;
  }

 private:
  std::map<Id, DeviceUplink> by_device_;
};

// Submits the uplinks and calls `done` once: Ok after every commit, else the first error.
void SubmitAll(ApiContext& ctx, std::vector<pipeline::Uplink> uplinks,
               std::function<void(const Status&)> done) {
  if (uplinks.empty()) {
    done(Status());
    return;
  }
  struct State {
    std::atomic<size_t> left;
    std::mutex mu;
    Status first;
    std::function<void(const Status&)> done;
  };
  auto state = std::make_shared<State>();
  state->left = uplinks.size();
  state->done = std::move(done);
  for (pipeline::Uplink& u : uplinks) {
    ctx.pipeline.Submit(std::move(u), [state](const Status& st) {
      if (!st.ok()) {
        std::lock_guard lock(state->mu);
        if (state->first.ok()) state->first = st;
      }
      if (state->left.fetch_sub(1) != 1) return;
      Status first;
      {
        std::lock_guard lock(state->mu);
        first = state->first;
      }
      state->done(first);
    });
  }
}

http::Response CommitError(const Status& st) {
  http::Response r = http::ErrorResponse(st);
  if (st.code() == Code::kUnavailable || st.code() == Code::kRateLimited)
    r.headers.Set("Retry-After", "1");
  return r;
}

// What a POST does once its uplinks are committed.
struct Prepared {
  std::vector<pipeline::Uplink> uplinks;
  http::Response created;  // 201
};

sta::Entity ObservationEntity(int64_t series_id, TimeMs ts) {
  sta::Entity e;
  e.set = sta::EntitySet::kObservations;
  e.id = series_id;
  e.reading.ts = ts;
  return e;
}

std::string ObservationLink(const std::string& base, int64_t series_id, TimeMs ts) {
  return sta::SelfLink(base, ObservationEntity(series_id, ts));
}

// POST CreateObservations: the 201 body lists each row's selfLink or "error", in body order
// (OGC 18-088 14.4). A request where no row is an Observation is a 400 naming the first bad row.
Result<Prepared> CreateObservations(ApiContext& ctx, const http::Request& req,
                                    const auth::Principal& p, const nlohmann::json& body) {
  const TimeMs now = ctx.clock.NowMs();
  BYSANS_ASSIGN_OR_RETURN(std::vector<sta::ObservationGroup> groups,
                          sta::ParseCreateObservations(body, now));
  std::map<int64_t, Writable> streams;
  for (const sta::ObservationGroup& g : groups) {
    if (streams.count(g.datastream_id)) continue;
    BYSANS_ASSIGN_OR_RETURN(Writable w, WritableDatastream(ctx, p, g.datastream_id));
    streams.emplace(g.datastream_id, std::move(w));
  }
  const std::string base = BaseUrl(ctx, req) + std::string(kRoot);
  UplinkBuilder builder;
  std::string links = "[";
  std::string first_error;
  size_t created = 0;
  std::map<int64_t, size_t> per_stream;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const Writable& w = streams.at(groups[gi].datastream_id);
    for (size_t ri = 0; ri < groups[gi].rows.size(); ++ri) {
      const sta::ObservationRow& row = groups[gi].rows[ri];
      std::string error = row.obs ? sta::ResultTypeError(w.series, row.obs->value) : row.error;
      if (links.size() > 1) links += ',';
      if (!error.empty()) {
        if (first_error.empty())
          first_error =
              "element " + std::to_string(gi) + ", row " + std::to_string(ri) + ": " + error;
        links += "\"error\"";
        continue;
      }
      builder.Add(w, *row.obs);
      links += nlohmann::json(ObservationLink(base, w.series.id, row.obs->ts)).dump();
      ++created;
      ++per_stream[w.series.id];
    }
  }
  links += ']';
  if (created == 0 && !first_error.empty()) return InvalidArgument(first_error);
  for (const auto& [id, n] : per_stream) {
    const Writable& w = streams.at(id);
    Audit(ctx, p, req, w.device->org_id, "create", "observations", std::to_string(id),
          std::to_string(n) + " Observations of device " + std::to_string(w.device->id) +
              " (SensorThings CreateObservations)");
  }
  Prepared out;
  out.uplinks = builder.Take(now);
  out.created.status = 201;
  out.created.headers.Set("Content-Type", "application/json");
  out.created.body = std::move(links);
  return out;
}

// POST Observations or Datastreams(N)/Observations: 201 with Location and the Observation.
Result<Prepared> CreateObservation(ApiContext& ctx, const http::Request& req,
                                   const auth::Principal& p, const nlohmann::json& body,
                                   std::optional<int64_t> path_datastream) {
  const TimeMs now = ctx.clock.NowMs();
  BYSANS_ASSIGN_OR_RETURN(sta::ObservationPost post, sta::ParseObservationPost(body, now));
  if (path_datastream && post.datastream_id && *post.datastream_id != *path_datastream)
    return InvalidArgument("Datastream/@iot.id differs from the Datastream of the path");
  if (path_datastream) post.datastream_id = path_datastream;
  if (!post.datastream_id)
    return InvalidArgument("Datastream is required: {\"Datastream\": {\"@iot.id\": N}}");
  BYSANS_ASSIGN_OR_RETURN(Writable w, WritableDatastream(ctx, p, *post.datastream_id));
  if (std::string e = sta::ResultTypeError(w.series, post.obs.value); !e.empty())
    return InvalidArgument(e);
  Audit(ctx, p, req, w.device->org_id, "create", "observations", std::to_string(w.series.id),
        "1 Observation of device " + std::to_string(w.device->id) + " (SensorThings)");
  const std::string base = BaseUrl(ctx, req) + std::string(kRoot);
  const std::string self = ObservationLink(base, w.series.id, post.obs.ts);
  const sta::Entity e = ObservationEntity(w.series.id, post.obs.ts);
  // resultQuality is assigned by the pipeline's quality checks: GET the Location to read it.
  nlohmann::json entity = {{"@iot.id", sta::IdText(e)},
                           {"@iot.selfLink", self},
                           {"phenomenonTime", FormatRfc3339(post.obs.ts)},
                           {"resultTime", nullptr},
                           {"result", ValueJson(post.obs.value)},
                           {"Datastream@iot.navigationLink", self + "/Datastream"},
                           {"FeatureOfInterest@iot.navigationLink", self + "/FeatureOfInterest"}};
  UplinkBuilder builder;
  builder.Add(w, post.obs);
  Prepared out;
  out.uplinks = builder.Take(now);
  out.created = Json(201, entity);
  out.created.headers.Set("Location", self);
  return out;
}

// "Datastreams(12)/Observations" -> 12.
std::optional<int64_t> DatastreamOfPath(std::string_view path) {
  return StaIdOfPath(path, "Datastreams", "/Observations");
}

// The path after the root ("CreateObservations", "Datastreams(5)/Observations").
std::string_view StaPath(const http::Request& req) {
  std::string_view path = req.path;
  path.remove_prefix(std::min(path.size(), kRoot.size() + 1));
  return path;
}

bool Creatable(std::string_view path) {
  return path == "CreateObservations" || path == "Observations" || DatastreamOfPath(path);
}

Result<Prepared> Prepare(ApiContext& ctx, const http::Request& req, const auth::Principal& p) {
  const std::string_view path = StaPath(req);
  BYSANS_ASSIGN_OR_RETURN(nlohmann::json body, StaJsonBody(req));
  if (path == "CreateObservations") return CreateObservations(ctx, req, p, body);
  return CreateObservation(ctx, req, p, body, DatastreamOfPath(path));
}

// The device owning the entity a path starts with ("Things(3)/...", "Datastreams(5)",
// "Observations('5-1700000000000')"), nullopt for an entity set or a path naming no device.
Result<std::optional<Id>> OwnerOfPath(ApiContext& ctx, std::string_view path) {
  size_t open = path.find('('), close = path.find(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return std::optional<Id>();
  const std::string_view set = path.substr(0, open);
  std::string_view id = path.substr(open + 1, close - open - 1);
  if (id.size() >= 2 && id.front() == '\'' && id.back() == '\'') id = id.substr(1, id.size() - 2);
  std::optional<int64_t> series;
  if (set == "Datastreams") {
    series = sta::ParseNumericId(id);
  } else if (set == "Observations") {
    if (auto key = sta::ParseObservationId(id)) series = key->series_id;
  } else if (set == "Things" || set == "FeaturesOfInterest") {
    return std::optional<Id>(sta::ParseNumericId(id).value_or(0));
  } else if (set == "Locations" || set == "HistoricalLocations") {  // a location history entry
    auto entry = ctx.store.GetDeviceLocation(sta::ParseNumericId(id).value_or(0));
    if (!entry.ok() && entry.status().code() != Code::kNotFound) return entry.status();
    return std::optional<Id>(entry.ok() ? entry->device_id : 0);
  } else {
    return std::optional<Id>();
  }
  if (!series) return std::optional<Id>(0);
  auto s = ctx.store.GetSeries(*series);
  if (!s.ok() && s.status().code() != Code::kNotFound) return s.status();
  return std::optional<Id>(s.ok() ? s->device_id : 0);
}

// A write this service does not do: 501, after the caller's role on the entity the path names
// is checked (another organisation's entity stays a 404, a viewer gets 403, as on every write).
http::Response Unsupported(ApiContext& ctx, const http::Request& req, const auth::Principal& p) {
  const std::string_view path = StaPath(req);
  auto owner = OwnerOfPath(ctx, path);
  if (!owner.ok()) return http::ErrorResponse(owner.status());
  if (owner->has_value()) {
    auto d = LoadDevice(ctx, p, **owner, Role::kEditor);
    if (!d.ok() && d.status().code() == Code::kNotFound)
      return http::ErrorResponse(NotFound("no entity " + std::string(path.substr(0, 100))));
    if (!d.ok()) return http::ErrorResponse(d.status());
  }
  if (!req.body.empty()) {  // a malformed or too deeply nested body is a 400 as on every route
    auto body = StaJsonBody(req);
    if (!body.ok()) return http::ErrorResponse(body.status());
  }
  return http::ErrorResponse(501, "not_implemented",
                             req.method + " " + std::string(path.substr(0, 100)) +
                                 " is not supported: bysans has nothing to keep such an entity "
                                 "in on its own (a Sensor is a device model, an "
                                 "ObservedProperty a reading key, a FeatureOfInterest and a "
                                 "HistoricalLocation a device's location): create Things, "
                                 "Datastreams, Locations and Observations (docs/sensorthings.md)");
}

// "Observations('12-1700000000000')" -> "12-1700000000000" (quotes optional).
std::optional<std::string_view> ObservationIdOfPath(std::string_view path) {
  constexpr std::string_view kPre = "Observations(";
  if (path.size() <= kPre.size() + 1 || path.substr(0, kPre.size()) != kPre || path.back() != ')')
    return std::nullopt;
  std::string_view id = path.substr(kPre.size(), path.size() - kPre.size() - 1);
  if (id.size() >= 2 && id.front() == '\'' && id.back() == '\'') id = id.substr(1, id.size() - 2);
  return id;
}

// "Things(12)" -> 12.
std::optional<int64_t> ThingOfPath(std::string_view path) { return StaIdOfPath(path, "Things"); }

// The Thing as GET Things(id) answers it, in the device's organisation.
Result<http::Response> ThingAnswer(ApiContext& ctx, const http::Request& req, const Device& d,
                                   int status) {
  return StaEntityAnswer(ctx, req, d.org_id, "Things(" + std::to_string(d.id) + ")", status);
}

// POST Things: an HTTP device in properties.application.id (editor there), 201 + Location.
// Its ingest key is not shown here: rotate it in the REST API to let the device send.
// Deep-inserted Datastreams become its series; if one cannot be created the device is deleted
// again (nothing of the request stays).
Result<http::Response> CreateThing(ApiContext& ctx, const http::Request& req,
                                   const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(nlohmann::json body, StaJsonBody(req));
  BYSANS_ASSIGN_OR_RETURN(sta::ThingWrite w, sta::ParseThing(body, /*create=*/true));
  BYSANS_RETURN_IF_ERROR(CheckNewThingDatastreams(w.datastreams));
  BYSANS_ASSIGN_OR_RETURN(nlohmann::json created,
                          CreateDeviceFromBody(ctx, req, p, w.app_id, w.device));
  BYSANS_ASSIGN_OR_RETURN(Device d, ctx.store.GetDevice(created["id"].get<Id>()));
  if (Status st = CreateThingDatastreams(ctx, req, p, d, w.datastreams); !st.ok()) {
    (void)DeleteLoadedDevice(ctx, req, p, d);
    return st;
  }
  return ThingAnswer(ctx, req, d, 201);
}

// PATCH Things(N): name, properties.tags/metadata, Locations; 200 with the Thing.
Result<http::Response> PatchThing(ApiContext& ctx, const http::Request& req,
                                  const auth::Principal& p, Id id) {
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(nlohmann::json body, StaJsonBody(req));
  BYSANS_ASSIGN_OR_RETURN(sta::ThingWrite w, sta::ParseThing(body, /*create=*/false));
  BYSANS_ASSIGN_OR_RETURN(d, PatchDeviceFromBody(ctx, req, p, std::move(d), w.device));
  return ThingAnswer(ctx, req, d, 200);
}

// DELETE Things(N): the device, as the REST API deletes it; its Location, HistoricalLocation,
// FeatureOfInterest, Datastreams and their Observations are gone with it (404 from then on).
Result<http::Response> DeleteThing(ApiContext& ctx, const http::Request& req,
                                   const auth::Principal& p, Id id) {
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kEditor));
  BYSANS_RETURN_IF_ERROR(DeleteLoadedDevice(ctx, req, p, d));
  // The device is gone (its ingest stops); its readings are erased, not only unreachable.
  BYSANS_RETURN_IF_ERROR(EraseSeriesOfDevice(ctx, d.id));
  return NoContent();
}

void Post(ApiContext& ctx, http::Request& req, const http::Responder& respond) {
  WithPrincipal(ctx, req, respond, [&](const auth::Principal& p) {
    const std::string_view path = StaPath(req);
    if (path == "Things" || path == "Datastreams" || StaIdOfPath(path, "Things", "/Datastreams")) {
      auto r = path == "Things"
                   ? CreateThing(ctx, req, p)
                   : CreateStaDatastream(ctx, req, p, StaIdOfPath(path, "Things", "/Datastreams"));
      respond(r.ok() ? std::move(*r) : http::ErrorResponse(r.status()));
      return;
    }
    if (path == "Locations" || StaIdOfPath(path, "Things", "/Locations")) {
      auto r = CreateStaLocation(ctx, req, p, StaIdOfPath(path, "Things", "/Locations"));
      respond(r.ok() ? std::move(*r) : http::ErrorResponse(r.status()));
      return;
    }
    if (!Creatable(StaPath(req))) {
      respond(Unsupported(ctx, req, p));
      return;
    }
    auto prepared = Prepare(ctx, req, p);
    if (!prepared.ok()) {
      respond(http::ErrorResponse(prepared.status()));
      return;
    }
    auto created = std::make_shared<http::Response>(std::move(prepared->created));
    SubmitAll(ctx, std::move(prepared->uplinks), [respond, created](const Status& st) {
      respond(st.ok() ? std::move(*created) : CommitError(st));
    });
  });
}

// PATCH and DELETE: Things(N), PATCH Datastreams(N); anything else 501 after the role check.
void ChangeOrDelete(ApiContext& ctx, http::Request& req, const http::Responder& respond) {
  WithPrincipal(ctx, req, respond, [&](const auth::Principal& p) {
    const std::string_view path = StaPath(req);
    std::optional<int64_t> datastream = StaIdOfPath(path, "Datastreams");
    if (datastream) {
      auto r = req.method == "PATCH" ? PatchStaDatastream(ctx, req, p, *datastream)
                                     : DeleteStaDatastream(ctx, req, p, *datastream);
      respond(r.ok() ? std::move(*r) : http::ErrorResponse(r.status()));
      return;
    }
    if (std::optional<int64_t> location = StaIdOfPath(path, "Locations")) {
      auto r = ChangeStaLocation(ctx, req, p, *location);
      respond(r.ok() ? std::move(*r) : http::ErrorResponse(r.status()));
      return;
    }
    if (req.method == "DELETE" && ObservationIdOfPath(path)) {
      auto r = DeleteStaObservation(ctx, req, p, *ObservationIdOfPath(path));
      respond(r.ok() ? std::move(*r) : http::ErrorResponse(r.status()));
      return;
    }
    std::optional<int64_t> thing = ThingOfPath(StaPath(req));
    if (!thing) {
      respond(Unsupported(ctx, req, p));
      return;
    }
    auto r =
        req.method == "PATCH" ? PatchThing(ctx, req, p, *thing) : DeleteThing(ctx, req, p, *thing);
    respond(r.ok() ? std::move(*r) : http::ErrorResponse(r.status()));
  });
}

}  // namespace

void RegisterStaWriteRoutes(http::Router& router, ApiContext& ctx) {
  RegisterStaBatchRoute(router, ctx);  // before POST {*path}: routes match in order
  router.SetBodyLimit("POST", std::string(kRoot) + "/CreateObservations",
                      kCreateObservationsBodyLimit);
  router.Add(
      "POST", std::string(kRoot) + "/{*path}",
      [&ctx](http::Request& req, const http::Responder& respond) { Post(ctx, req, respond); },
      "SensorThings API 1.1: create Observations (POST Observations, Datastreams(N)/"
      "Observations, CreateObservations with dataArray); stored through the ingest pipeline, "
      "201 after the commit); POST Things (an HTTP device in properties.application.id), "
      "Datastreams (a series), Locations (the device's location)");
  for (const char* method : {"PATCH", "DELETE"}) {
    router.Add(
        method, std::string(kRoot) + "/{*path}",
        [&ctx](http::Request& req, const http::Responder& respond) {
          ChangeOrDelete(ctx, req, respond);
        },
        std::string("SensorThings API 1.1: ") + method +
            " Things(N), Datastreams(N) (unit; delete erases its Observations), Locations(N)" +
            (std::string(method) == "DELETE" ? ", Observations('<series>-<ms>') (erased)" : ""));
  }
}

}  // namespace bysans::api
