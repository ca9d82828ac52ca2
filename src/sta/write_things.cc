#include "sta/write_things.h"

#include <string>

namespace bysans::sta {
namespace {

using json = nlohmann::json;

}  // namespace

// A GeoJSON Point [lon, lat] (or a Feature whose geometry is one) -> {"lat", "lon"}.
Result<json> PointOf(const json& geo, const std::string& where) {
  const json* g = &geo;
  if (g->is_object() && g->value("type", "") == "Feature" && g->contains("geometry"))
    g = &(*g)["geometry"];
  if (!g->is_object() || g->value("type", "") != "Point" || !g->contains("coordinates"))
    return InvalidArgument(where + " must be a GeoJSON Point (bysans keeps one point a device)");
  const json& c = (*g)["coordinates"];
  if (!c.is_array() || c.size() < 2 || !c[0].is_number() || !c[1].is_number())
    return InvalidArgument(where + ".coordinates must be [longitude, latitude]");
  return json{{"lat", c[1].get<double>()}, {"lon", c[0].get<double>()}};
}

namespace {

// Locations: [] -> null (no location), [one Location] -> its point.
Result<json> LocationOf(const json& locations) {
  if (!locations.is_array() || locations.size() > 1)
    return InvalidArgument("Locations must be an array of at most one Location");
  if (locations.empty()) return json(nullptr);
  const json& l = locations[0];
  if (!l.is_object()) return InvalidArgument("Locations[0] must be a Location object");
  if (l.contains("@iot.id"))
    return InvalidArgument(
        "Locations[0]: links to existing Locations are not supported; give the location itself");
  for (const auto& [name, v] : l.items())
    if (name != "name" && name != "description" && name != "encodingType" && name != "location")
      return InvalidArgument("Locations[0]: unknown member '" + name.substr(0, 64) + "'");
  if (l.contains("encodingType")) {
    const json& e = l["encodingType"];
    if (!e.is_string() || (e != "application/geo+json" && e != "application/vnd.geo+json"))
      return InvalidArgument("Locations[0].encodingType must be application/geo+json");
  }
  if (!l.contains("location")) return InvalidArgument("Locations[0].location is required");
  return PointOf(l["location"], "Locations[0].location");
}

}  // namespace

Result<ThingWrite> ParseThing(const json& body, bool create) {
  if (!body.is_object()) return InvalidArgument("the body must be a JSON object (a Thing)");
  ThingWrite out;
  out.device = json::object();
  if (create) out.device["transport"] = "http";
  for (const auto& [name, v] : body.items()) {
    if (name == "name") {
      if (!v.is_string() || v.get_ref<const std::string&>().empty())
        return InvalidArgument("name must be a non-empty string");
      out.device["name"] = v;
    } else if (name == "description") {
      if (!v.is_string()) return InvalidArgument("description must be a string");
    } else if (name == "properties") {
      if (!v.is_object()) return InvalidArgument("properties must be an object");
      for (const auto& [p, pv] : v.items()) {
        if (p == "application") {
          if (!create)
            return InvalidArgument(
                "properties.application cannot change: a Thing stays in its "
                "application");
          if (!pv.is_object() || !pv.contains("id") || !pv["id"].is_number_integer() ||
              pv["id"].get<int64_t>() <= 0)
            return InvalidArgument("properties.application must be {\"id\": <application id>}");
          out.app_id = pv["id"].get<int64_t>();
        } else if (p == "tags" || p == "metadata") {
          out.device[p] = pv;  // checked by the device rules (strings)
        } else {
          return InvalidArgument("properties." + p.substr(0, 64) +
                                 " cannot be set (tags, metadata; application on create)");
        }
      }
    } else if (name == "Locations") {
      BYSANS_ASSIGN_OR_RETURN(out.device["location"], LocationOf(v));
    } else if (name == "Datastreams" && create) {
      BYSANS_ASSIGN_OR_RETURN(out.datastreams, ParseThingDatastreams(v));
    } else if (name == "Datastreams") {
      return InvalidArgument(
          "Datastreams cannot be changed through the Thing: POST Things(N)/Datastreams, "
          "PATCH or DELETE Datastreams(N)");
    } else if (name == "HistoricalLocations") {
      return InvalidArgument(
          "HistoricalLocations: deep insert is not supported (bysans keeps only a device's "
          "current location)");
    } else {
      return InvalidArgument("'" + name.substr(0, 64) + "' cannot be set on a Thing");
    }
  }
  if (create && !out.device.contains("name")) return InvalidArgument("name is required");
  if (create && out.app_id == 0)
    return InvalidArgument(
        "properties.application.id is required: the application (you are editor of) the Thing "
        "goes into");
  return out;
}

}  // namespace bysans::sta
