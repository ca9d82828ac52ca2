// The write side's Locations (OGC 18-088 10.2-10.4 for Locations): a Location is a device's
// location, one GeoJSON Point, so a Location body becomes the REST device body's "location".
// Store-free: the caller resolves the Thing and patches the device (api/sta_locations.cc).
//
// POST: {name?, description?, encodingType?, location, Things?: [{"@iot.id": N}]}: `name` and
// `description` are accepted and not kept (bysans derives them), `encodingType` must be GeoJSON,
// `location` a Point (or a Feature of one); `Things` (on POST Locations) links exactly one Thing.
// PATCH: `location` (and `encodingType`) only; any other member is a 400 naming it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/status.h"

namespace bysans::sta {

struct LocationWrite {
  nlohmann::json point;             // {"lat", "lon"}: the REST device body's "location"
  std::optional<int64_t> thing_id;  // POST: the Things link, when the body has one
};

Result<LocationWrite> ParseLocationPost(const nlohmann::json& body);
Result<LocationWrite> ParseLocationPatch(const nlohmann::json& body);

}  // namespace bysans::sta
