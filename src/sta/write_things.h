// The write side's Things (OGC 18-088 10.2-10.4 for Things): a SensorThings Thing body -> the
// REST API's device body, so that a Thing is created and changed exactly as a device is
// (api/devices.h). Store-free.
//
// A Thing is an HTTP device: `name`; `properties.application.id` names the application it goes
// into (on create, required); `properties.tags` (strings) and `properties.metadata` (string
// values); `Locations`: at most one Location entity with a GeoJSON Point (or a Feature of one)
// as its `location`, which becomes the device's location ([] clears it on PATCH). `description`
// is accepted and not kept (bysans derives it). On create, `Datastreams` deep-inserts series
// (sta/write_datastreams.h). Links to existing Locations and every other member are refused
// with a 400 naming them.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "sta/write_datastreams.h"

namespace bysans::sta {

struct ThingWrite {
  nlohmann::json device;  // the REST device body (POST /applications/{id}/devices or PATCH)
  int64_t app_id = 0;     // create: properties.application.id
  std::vector<DatastreamWrite> datastreams;  // create: deep-inserted Datastreams
};

// A GeoJSON Point [lon, lat] (or a Feature whose geometry is one) -> {"lat", "lon"}; any other
// geometry is a 400 naming `where`.
Result<nlohmann::json> PointOf(const nlohmann::json& geo, const std::string& where);

// `create`: a POST Things body (name and properties.application.id required); else a PATCH
// body (properties.application cannot change).
Result<ThingWrite> ParseThing(const nlohmann::json& body, bool create);

}  // namespace bysans::sta
