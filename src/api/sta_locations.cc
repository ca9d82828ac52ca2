// SensorThings Locations written (api/sta_crud.h): a Location is its device's location, so
// POST Things(N)/Locations, POST Locations (with one Things link) and PATCH Locations(N) set the
// device's location, DELETE Locations(N) removes it; through the REST API's device code
// (api/devices.h: validation, audit).
#include "api/common.h"
#include "api/devices.h"
#include "api/sta_crud.h"
#include "sta/write_locations.h"

namespace bysans::api {
namespace {

std::string LocationPath(Id id) { return "Locations(" + std::to_string(id) + ")"; }

// Sets (point) or clears (null) the device's location; the Location as GET answers it.
Result<http::Response> SetLocation(ApiContext& ctx, const http::Request& req,
                                   const auth::Principal& p, Device d, nlohmann::json point,
                                   int status) {
  BYSANS_ASSIGN_OR_RETURN(
      d, PatchDeviceFromBody(ctx, req, p, std::move(d), {{"location", std::move(point)}}));
  if (status == 204) return NoContent();
  return StaEntityAnswer(ctx, req, d.org_id, LocationPath(d.id), status);
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
                                         const auth::Principal& p, Id id) {
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kEditor));
  if (!d.location) return NotFound("no Location with id " + std::to_string(id));
  if (req.method == "DELETE") return SetLocation(ctx, req, p, std::move(d), nullptr, 204);
  BYSANS_ASSIGN_OR_RETURN(nlohmann::json body, StaJsonBody(req));
  BYSANS_ASSIGN_OR_RETURN(sta::LocationWrite w, sta::ParseLocationPatch(body));
  return SetLocation(ctx, req, p, std::move(d), std::move(w.point), 200);
}

}  // namespace bysans::api
