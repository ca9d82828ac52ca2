// SensorThings Datastreams written (api/sta_crud.h): a Datastream is a series (device, key)
// created before its first reading by SeriesStore::CreateSeries; its unit can be patched.
#include "api/common.h"
#include "api/sta_crud.h"
#include "http/csrf.h"
#include "sta/catalog.h"
#include "sta/service.h"

namespace bysans::api {

Result<nlohmann::json> StaJsonBody(const http::Request& req) {
  const std::string& ct = req.headers.Get("content-type");
  if (!ct.empty() && !http::IsJsonMediaType(ct))
    return Status(Code::kUnsupportedMedia,
                  "content type must be application/json, not " + ct.substr(0, 100));
  return ParseJsonText(req.body, "the request body");
}

Result<http::Response> StaEntityAnswer(ApiContext& ctx, const http::Request& req, Id org_id,
                                       const std::string& path, int status) {
  sta::Catalog catalog(ctx.store, std::vector<Id>{org_id});
  sta::ServeRequest sr;
  sr.path = path;
  sr.base = BaseUrl(ctx, req) + std::string(kStaRoot);
  sr.now_ms = ctx.clock.NowMs();
  BYSANS_ASSIGN_OR_RETURN(sta::ServeReply reply, sta::Serve(catalog, sr));
  http::Response r;
  r.status = status;
  r.headers.Set("Content-Type", reply.content_type);
  r.headers.Set("Location", sr.base + "/" + sr.path);
  r.body = std::move(reply.body);
  return r;
}

Result<StaDatastream> LoadStaDatastream(ApiContext& ctx, const auth::Principal& p, int64_t id,
                                        Role min) {
  auto series = ctx.store.GetSeries(id);
  if (!series.ok() && series.status().code() != Code::kNotFound) return series.status();
  Result<Device> device =
      series.ok() ? ctx.store.GetDevice(series->device_id) : Result<Device>(series.status());
  const Id org = device.ok() ? device->org_id : 0;
  const std::optional<Id> app = device.ok() ? std::optional<Id>(device->app_id) : std::nullopt;
  BYSANS_ASSIGN_OR_RETURN(Device d,
                          CheckObject(ctx, std::move(device), p, org, min, "Datastream", id, app));
  return StaDatastream{std::move(*series), std::move(d)};
}

std::optional<int64_t> StaIdOfPath(std::string_view path, std::string_view set,
                                   std::string_view tail) {
  if (path.size() <= set.size() + 2 + tail.size() || path.substr(0, set.size()) != set ||
      path[set.size()] != '(' || path.substr(path.size() - tail.size()) != tail)
    return std::nullopt;
  std::string_view inner = path.substr(set.size() + 1, path.size() - set.size() - 1 - tail.size());
  if (inner.empty() || inner.back() != ')') return std::nullopt;
  inner.remove_suffix(1);
  return sta::ParseNumericId(inner);
}

namespace {

std::string DatastreamPath(int64_t id) { return "Datastreams(" + std::to_string(id) + ")"; }

// A Datastream's Sensor is its Thing's device model, or the unknown Sensor 0 without one: a
// link must name that one (no other organisation's model is ever looked up, so none is
// revealed).
Status CheckSensor(const sta::DatastreamWrite& w, const Device& d, const std::string& where) {
  if (!w.sensor_id) return Status::Ok();
  const int64_t expected = d.device_model_id.value_or(0);
  if (*w.sensor_id == expected) return Status::Ok();
  return InvalidArgument((where.empty() ? "" : where + ".") + "Sensor must be Sensors(" +
                         std::to_string(expected) +
                         "): a Datastream's Sensor is its Thing's device model (0 = unknown)");
}

// Creates the series; kAlreadyExists when the Thing has a Datastream of the key.
Result<SeriesRef> NewSeries(ApiContext& ctx, const http::Request& req, const auth::Principal& p,
                            const Device& d, const sta::DatastreamWrite& w) {
  bool created = false;
  BYSANS_ASSIGN_OR_RETURN(SeriesRef s, ctx.store.CreateSeries(d.id, w.key, w.unit, &created));
  if (!created)
    return AlreadyExists("Thing " + std::to_string(d.id) + " already has a Datastream of '" +
                         w.key.substr(0, 64) + "': " + DatastreamPath(s.id));
  Audit(ctx, p, req, d.org_id, "create", "datastream", std::to_string(s.id),
        "key '" + w.key.substr(0, 64) + "' of device " + std::to_string(d.id) + " (SensorThings)");
  if (ctx.on_entity_change)
    ctx.on_entity_change({sta::EntityChange::Kind::kDatastreamCreated, d.org_id, d.id, s.id});
  return s;
}

}  // namespace

Result<http::Response> CreateStaDatastream(ApiContext& ctx, const http::Request& req,
                                           const auth::Principal& p,
                                           std::optional<Id> thing_in_path) {
  BYSANS_ASSIGN_OR_RETURN(nlohmann::json body, StaJsonBody(req));
  BYSANS_ASSIGN_OR_RETURN(sta::DatastreamWrite w, sta::ParseDatastream(body, "", false));
  if (thing_in_path && w.thing_id && *w.thing_id != *thing_in_path)
    return InvalidArgument("Thing/@iot.id differs from the Thing of the path");
  if (thing_in_path) w.thing_id = thing_in_path;
  if (!w.thing_id) return InvalidArgument("Thing is required: {\"Thing\": {\"@iot.id\": N}}");
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, *w.thing_id, Role::kEditor));
  BYSANS_RETURN_IF_ERROR(CheckSensor(w, d, ""));
  BYSANS_ASSIGN_OR_RETURN(SeriesRef s, NewSeries(ctx, req, p, d, w));
  return StaEntityAnswer(ctx, req, d.org_id, DatastreamPath(s.id), 201);
}

Status CheckNewThingDatastreams(const std::vector<sta::DatastreamWrite>& datastreams) {
  const Device no_model;
  for (size_t i = 0; i < datastreams.size(); ++i)
    BYSANS_RETURN_IF_ERROR(
        CheckSensor(datastreams[i], no_model, "Datastreams[" + std::to_string(i) + "]"));
  return Status::Ok();
}

Status CreateThingDatastreams(ApiContext& ctx, const http::Request& req, const auth::Principal& p,
                              const Device& d,
                              const std::vector<sta::DatastreamWrite>& datastreams) {
  for (const sta::DatastreamWrite& w : datastreams)
    BYSANS_RETURN_IF_ERROR(NewSeries(ctx, req, p, d, w).status());
  return Status::Ok();
}

Result<http::Response> PatchStaDatastream(ApiContext& ctx, const http::Request& req,
                                          const auth::Principal& p, int64_t id) {
  BYSANS_ASSIGN_OR_RETURN(StaDatastream ds, LoadStaDatastream(ctx, p, id, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(nlohmann::json body, StaJsonBody(req));
  BYSANS_ASSIGN_OR_RETURN(std::string unit, sta::ParseDatastreamPatch(body));
  BYSANS_RETURN_IF_ERROR(ctx.store.SetSeriesUnit(id, unit));
  Audit(ctx, p, req, ds.device.org_id, "update", "datastream", std::to_string(id),
        "unit '" + unit.substr(0, 64) + "' (SensorThings)");
  if (ctx.on_entity_change) {
    ctx.on_entity_change({sta::EntityChange::Kind::kDatastreamChanged,
                          ds.device.org_id,
                          ds.device.id,
                          id,
                          {"unitOfMeasurement"}});
  }
  return StaEntityAnswer(ctx, req, ds.device.org_id, DatastreamPath(id), 200);
}

}  // namespace bysans::api
