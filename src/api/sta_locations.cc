// SensorThings Locations written (api/sta_crud.h). A Location is an entry of its device's
// location history (MetaStore::ListDeviceLocations): POST Things(N)/Locations, POST Locations
// (with one Things link) and PATCH Locations(N) of the Thing's current Location set the device's
// location, which the store records as a new entry: the answer names that new Location (the
// old one stays, as history). DELETE Locations(N) removes the entry (and its HistoricalLocation)
// and, when it is the current one, the device's location. Through the REST API's device code
// (api/devices.h: validation, audit).
#include "api/common.h"
#include "api/devices.h"
#include "api/sta_crud.h"
#include "sta/write_locations.h"

namespace bysans::api {
namespace {

std::string LocationPath(int64_t id) { return "Locations(" + std::to_string(id) + ")"; }

// Sets (point) or clears (null) the device's location; the device's current Location as GET
// answers it.
Result<http::Response> SetLocation(ApiContext& ctx, const http::Request& req,
                                   const auth::Principal& p, Device d, nlohmann::json point,
                                   int status) {
  BYSANS_ASSIGN_OR_RETURN(
      d, PatchDeviceFromBody(ctx, req, p, std::move(d), {{"location", std::move(point)}}));
  if (status == 204) return NoContent();
  BYSANS_ASSIGN_OR_RETURN(std::vector<DeviceLocation> history,
                          ctx.store.ListDeviceLocations({d.id}));
  if (history.empty()) return Internal("the device's location was not recorded");
  return StaEntityAnswer(ctx, req, d.org_id, LocationPath(history.back().id), status);
}

}  // namespace

Result<http::Response> CreateStaLocation(ApiContext& ctx, const http::Request& req,
                                         const auth::Principal& p,
                                         std::optional<Id> thing_in_path) {
  BYSANS_ASSIGN_OR_RETURN(nlohmann::json body, StaJsonBody(req));
  BYSANS_ASSIGN_OR_RETURN(sta::LocationWrite w, sta::ParseLocationPost(body));
  if (thing_in_path && w.thing_id && *w.thing_id != *thing_in_path)
    return InvalidArgument("Things/@iot.id differs from the Thing of the path");
  if (thing_in_path) w.thing_id = thing_in_path;
  if (!w.thing_id)
    return InvalidArgument(
        "Things is required: [{\"@iot.id\": N}] (a Location is a device's location)");
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, *w.thing_id, Role::kEditor));
  return SetLocation(ctx, req, p, std::move(d), std::move(w.point), 201);
}

Result<http::Response> ChangeStaLocation(ApiContext& ctx, const http::Request& req,
                                         const auth::Principal& p, int64_t id) {
  auto entry = ctx.store.GetDeviceLocation(id);
  if (!entry.ok() && entry.status().code() != Code::kNotFound) return entry.status();
  if (!entry.ok()) return NotFound("no Location with id " + std::to_string(id));
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, entry->device_id, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(std::vector<DeviceLocation> history,
                          ctx.store.ListDeviceLocations({d.id}));
  const bool current = d.location && !history.empty() && history.back().id == id;
  if (req.method == "DELETE") {
    if (current) BYSANS_RETURN_IF_ERROR(SetLocation(ctx, req, p, d, nullptr, 204).status());
    BYSANS_RETURN_IF_ERROR(ctx.store.DeleteDeviceLocation(id));
    Audit(ctx, p, req, d.org_id, "delete", "device_location", std::to_string(id),
          "device " + std::to_string(d.id));
    return NoContent();
  }
  if (!current)
    return FailedPrecondition(LocationPath(id) + " is a past Location of Things(" +
                              std::to_string(d.id) +
                              "): only the Thing's current Location can be changed");
  BYSANS_ASSIGN_OR_RETURN(nlohmann::json body, StaJsonBody(req));
  BYSANS_ASSIGN_OR_RETURN(sta::LocationWrite w, sta::ParseLocationPatch(body));
  return SetLocation(ctx, req, p, std::move(d), std::move(w.point), 200);
}

}  // namespace bysans::api
