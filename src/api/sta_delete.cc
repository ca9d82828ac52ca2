// SensorThings deletes that really remove data (api/sta_crud.h): DELETE Datastreams(N) erases
// the series and its Observations, DELETE Observations('<series>-<ms>') the one reading, through
// the store's erasure primitives (SeriesStore::DeleteSeries / DeleteReadings); a deleted Thing's
// series likewise.
#include "api/common.h"
#include "api/sta_crud.h"
#include "sta/entity.h"

namespace bysans::api {

Result<http::Response> DeleteStaDatastream(ApiContext& ctx, const http::Request& req,
                                           const auth::Principal& p, int64_t id) {
  BYSANS_ASSIGN_OR_RETURN(StaDatastream ds, LoadStaDatastream(ctx, p, id, Role::kEditor));
  Audit(ctx, p, req, ds.device.org_id, "delete", "datastream", std::to_string(id),
        "key '" + ds.series.key.substr(0, 64) + "' of device " + std::to_string(ds.device.id) +
            " and its Observations (SensorThings)");
  BYSANS_RETURN_IF_ERROR(ctx.store.DeleteSeries(id));
  return NoContent();
}

Result<http::Response> DeleteStaObservation(ApiContext& ctx, const http::Request& req,
                                            const auth::Principal& p, std::string_view id) {
  auto key = sta::ParseObservationId(id);
  if (!key) return NotFound("no Observation with id '" + std::string(id.substr(0, 64)) + "'");
  auto ds = LoadStaDatastream(ctx, p, key->series_id, Role::kEditor);
  if (!ds.ok() && ds.status().code() == Code::kNotFound)
    return NotFound("no Observation with id '" + std::string(id.substr(0, 64)) + "'");
  if (!ds.ok()) return ds.status();
  ReadingQuery q;
  q.device_id = ds->device.id;
  q.key = ds->series.key;
  q.from = q.to = key->ts;
  q.limit = 1;
  BYSANS_ASSIGN_OR_RETURN(std::vector<Reading> found, ctx.store.QueryReadings(q));
  if (found.empty())
    return NotFound("no Observation with id '" + std::string(id.substr(0, 64)) + "'");
  Audit(ctx, p, req, ds->device.org_id, "delete", "observation", std::string(id.substr(0, 64)),
        "reading of '" + ds->series.key.substr(0, 64) + "' of device " +
            std::to_string(ds->device.id) + " (SensorThings)");
  BYSANS_RETURN_IF_ERROR(ctx.store.DeleteReadings(key->series_id, key->ts, key->ts));
  return NoContent();
}

Status EraseSeriesOfDevice(ApiContext& ctx, Id device_id) {
  BYSANS_ASSIGN_OR_RETURN(std::vector<SeriesRef> series, ctx.store.ListSeries({device_id}));
  for (const SeriesRef& s : series) {
    Status st = ctx.store.DeleteSeries(s.id);
    if (!st.ok() && st.code() != Code::kNotFound) return st;  // deleted meanwhile: fine
  }
  return Status::Ok();
}

}  // namespace bysans::api
