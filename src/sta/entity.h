// The SensorThings entities over bysans' model (the mapping is described in sta/README.md).
// An Entity names one SensorThings entity by its set and bysans id; an Observation also carries
// its reading. Plain value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/model.h"
#include "sta/query/schema.h"

namespace bysans::sta {

struct Entity {
  EntitySet set = EntitySet::kThings;
  // Things, Locations, HistoricalLocations, FeaturesOfInterest: the device id; Datastreams: the
  // store's series id; Sensors: the device model id (0 = the "unknown" sensor); Observations: the
  // series id.
  int64_t id = 0;
  std::string key;  // ObservedProperties: the reading key (also the entity's id)
  Reading reading;  // Observations: the reading (its ts is the rest of the id)
};

// The id as JSON sees it: a number, or a string for ObservedProperties ("air.no2") and
// Observations ("<seriesId>-<timeMs>").
bool HasStringId(EntitySet set);
std::string IdText(const Entity& e);
// The id as written in a URL: 5 or 'air.no2' (quotes doubled inside).
std::string IdInUrl(const Entity& e);

// "<seriesId>-<timeMs>" -> {series id, ms}; nullopt for anything else.
struct ObservationKey {
  int64_t series_id = 0;
  int64_t ts = 0;
};
std::optional<ObservationKey> ParseObservationId(std::string_view text);
// A decimal id without sign or leading junk; nullopt otherwise.
std::optional<int64_t> ParseNumericId(std::string_view text);

}  // namespace bysans::sta
