// The SensorThings 1.1 data model as the query language sees it: the eight
// entity sets, their properties and navigation properties (OGC 18-088, 8.2).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace bysans::sta {

enum class EntitySet {
  kThings,
  kLocations,
  kHistoricalLocations,
  kDatastreams,
  kSensors,
  kObservedProperties,
  kObservations,
  kFeaturesOfInterest
};

inline constexpr EntitySet kAllEntitySets[] = {
    EntitySet::kThings,       EntitySet::kLocations,         EntitySet::kHistoricalLocations,
    EntitySet::kDatastreams,  EntitySet::kSensors,           EntitySet::kObservedProperties,
    EntitySet::kObservations, EntitySet::kFeaturesOfInterest};

// "Things" -> kThings; nullopt for anything else (case-sensitive, as the standard).
std::optional<EntitySet> EntitySetByName(std::string_view name);
// kThings -> "Things".
std::string_view NameOf(EntitySet set);
// kThings -> "Thing" (the entity type's name, also the singular navigation name).
std::string_view SingularNameOf(EntitySet set);

// True for the entity's own properties ("name", "phenomenonTime") and the id
// ("@iot.id", also written "id"); navigation properties are not properties.
bool IsProperty(EntitySet set, std::string_view name);
// True for properties whose value is JSON and may be addressed deeper in a
// path: "properties/owner", "unitOfMeasurement/symbol", "result/temp", ...
bool IsComplexProperty(EntitySet set, std::string_view name);
// The properties of `set` in the standard's order, "@iot.id" first.
const std::vector<std::string_view>& PropertiesOf(EntitySet set);

struct NavigationTarget {
  EntitySet target;
  bool to_many = false;
};
// "Datastreams" from kThings -> {kDatastreams, true}; "Thing" from
// kDatastreams -> {kThings, false}; nullopt when `set` has no such navigation.
std::optional<NavigationTarget> Navigation(EntitySet set, std::string_view name);
// The navigation property names of `set`.
const std::vector<std::string_view>& NavigationsOf(EntitySet set);
// True when `name` is a navigation property of any entity set (the filter
// parser uses it to split "Datastreams/Observations/result" into navigation
// and property before it knows the entity set).
bool IsNavigationName(std::string_view name);

}  // namespace bysans::sta
