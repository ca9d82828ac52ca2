#include "sta/write_locations.h"

#include <string>

#include "sta/write_things.h"

namespace bysans::sta {
namespace {

using json = nlohmann::json;

Status CheckEncoding(const json& e) {
  if (!e.is_string() || (e != "application/geo+json" && e != "application/vnd.geo+json"))
    return InvalidArgument("encodingType must be application/geo+json");
  return Status::Ok();
}

Result<int64_t> ThingOf(const json& things) {
  if (!things.is_array() || things.size() != 1 || !things[0].is_object() || things[0].size() != 1 ||
      !things[0].contains("@iot.id") || !things[0]["@iot.id"].is_number_integer())
    return InvalidArgument(
        "Things must be [{\"@iot.id\": N}]: a Location is the location of exactly one Thing "
        "(bysans keeps one location per device)");
  return things[0]["@iot.id"].get<int64_t>();
}

}  // namespace

Result<LocationWrite> ParseLocationPost(const json& body) {
  if (!body.is_object()) return InvalidArgument("the body must be a JSON object (a Location)");
  LocationWrite out;
  for (const auto& [m, v] : body.items()) {
    if (m == "name" || m == "description") {
      if (!v.is_string()) return InvalidArgument(m + " must be a string");
    } else if (m == "encodingType") {
      BYSANS_RETURN_IF_ERROR(CheckEncoding(v));
    } else if (m == "location") {
      BYSANS_ASSIGN_OR_RETURN(out.point, PointOf(v, "location"));
    } else if (m == "Things") {
      BYSANS_ASSIGN_OR_RETURN(out.thing_id, ThingOf(v));
    } else {
      return InvalidArgument("'" + m.substr(0, 64) +
                             "' cannot be set on a Location (name, description, encodingType, "
                             "location, Things)");
    }
  }
  if (out.point.is_null()) return InvalidArgument("location is required (a GeoJSON Point)");
  return out;
}

Result<LocationWrite> ParseLocationPatch(const json& body) {
  if (!body.is_object()) return InvalidArgument("the body must be a JSON object (a Location)");
  LocationWrite out;
  for (const auto& [m, v] : body.items()) {
    if (m == "encodingType") {
      BYSANS_RETURN_IF_ERROR(CheckEncoding(v));
    } else if (m == "location") {
      BYSANS_ASSIGN_OR_RETURN(out.point, PointOf(v, "location"));
    } else {
      return InvalidArgument("'" + m.substr(0, 64) +
                             "' cannot be changed: bysans keeps a Location's location only (its "
                             "name and description are derived, its Thing is its device)");
    }
  }
  if (out.point.is_null()) return InvalidArgument("nothing to change: give location");
  return out;
}

}  // namespace bysans::sta
