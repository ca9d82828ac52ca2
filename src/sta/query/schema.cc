#include "sta/query/schema.h"

#include <algorithm>
#include <array>

namespace bysans::sta {
namespace {

struct Nav {
  std::string_view name;
  EntitySet target;
  bool to_many;
};

struct SetInfo {
  EntitySet set;
  std::string_view name, singular;
  std::vector<std::string_view> properties;  // "@iot.id" first
  std::vector<std::string_view> complex;     // JSON properties addressable deeper
  std::vector<Nav> navs;
  std::vector<std::string_view> nav_names;
};

using E = EntitySet;

std::vector<SetInfo> BuildSchema() {
  std::vector<SetInfo> s = {
      {E::kThings,
       "Things",
       "Thing",
       {"@iot.id", "@iot.selfLink", "name", "description", "properties"},
       {"properties"},
       {{"Locations", E::kLocations, true},
        {"HistoricalLocations", E::kHistoricalLocations, true},
        {"Datastreams", E::kDatastreams, true}},
       {}},
      {E::kLocations,
       "Locations",
       "Location",
       {"@iot.id", "@iot.selfLink", "name", "description", "encodingType", "location",
        "properties"},
       {"properties", "location"},
       {{"Things", E::kThings, true}, {"HistoricalLocations", E::kHistoricalLocations, true}},
       {}},
      {E::kHistoricalLocations,
       "HistoricalLocations",
       "HistoricalLocation",
       {"@iot.id", "@iot.selfLink", "time"},
       {},
       {{"Thing", E::kThings, false}, {"Locations", E::kLocations, true}},
       {}},
      {E::kDatastreams,
       "Datastreams",
       "Datastream",
       {"@iot.id", "@iot.selfLink", "name", "description", "unitOfMeasurement", "observationType",
        "observedArea", "phenomenonTime", "resultTime", "properties"},
       {"unitOfMeasurement", "properties", "observedArea"},
       {{"Thing", E::kThings, false},
        {"Sensor", E::kSensors, false},
        {"ObservedProperty", E::kObservedProperties, false},
        {"Observations", E::kObservations, true}},
       {}},
      {E::kSensors,
       "Sensors",
       "Sensor",
       {"@iot.id", "@iot.selfLink", "name", "description", "encodingType", "metadata",
        "properties"},
       {"properties", "metadata"},
       {{"Datastreams", E::kDatastreams, true}},
       {}},
      {E::kObservedProperties,
       "ObservedProperties",
       "ObservedProperty",
       {"@iot.id", "@iot.selfLink", "name", "definition", "description", "properties"},
       {"properties"},
       {{"Datastreams", E::kDatastreams, true}},
       {}},
      {E::kObservations,
       "Observations",
       "Observation",
       {"@iot.id", "@iot.selfLink", "phenomenonTime", "result", "resultTime", "resultQuality",
        "validTime", "parameters"},
       {"result", "resultQuality", "parameters"},
       {{"Datastream", E::kDatastreams, false},
        {"FeatureOfInterest", E::kFeaturesOfInterest, false}},
       {}},
      {E::kFeaturesOfInterest,
       "FeaturesOfInterest",
       "FeatureOfInterest",
       {"@iot.id", "@iot.selfLink", "name", "description", "encodingType", "feature", "properties"},
       {"properties", "feature"},
       {{"Observations", E::kObservations, true}},
       {}},
  };
  for (auto& info : s) {
    for (const auto& n : info.navs) info.nav_names.push_back(n.name);
  }
  return s;
}

const SetInfo& Info(EntitySet set) {
  static const std::vector<SetInfo> kSchema = BuildSchema();  // immutable after first use
  return kSchema[static_cast<size_t>(set)];
}

bool Contains(const std::vector<std::string_view>& v, std::string_view name) {
  return std::find(v.begin(), v.end(), name) != v.end();
}

}  // namespace

std::optional<EntitySet> EntitySetByName(std::string_view name) {
  for (EntitySet set : kAllEntitySets) {
    if (Info(set).name == name) return set;
  }
  return std::nullopt;
}

std::string_view NameOf(EntitySet set) { return Info(set).name; }
std::string_view SingularNameOf(EntitySet set) { return Info(set).singular; }

bool IsProperty(EntitySet set, std::string_view name) {
  return name == "id" || Contains(Info(set).properties, name);
}

bool IsComplexProperty(EntitySet set, std::string_view name) {
  return Contains(Info(set).complex, name);
}

const std::vector<std::string_view>& PropertiesOf(EntitySet set) { return Info(set).properties; }

std::optional<NavigationTarget> Navigation(EntitySet set, std::string_view name) {
  for (const Nav& n : Info(set).navs) {
    if (n.name == name) return NavigationTarget{n.target, n.to_many};
  }
  return std::nullopt;
}

const std::vector<std::string_view>& NavigationsOf(EntitySet set) { return Info(set).nav_names; }

bool IsNavigationName(std::string_view name) {
  return std::any_of(std::begin(kAllEntitySets), std::end(kAllEntitySets),
                     [&](EntitySet set) { return Navigation(set, name).has_value(); });
}

}  // namespace bysans::sta
