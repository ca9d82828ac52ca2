#include "sta/entity_changes.h"

#include <nlohmann/json.hpp>

#include "sta/entity_json.h"

namespace bysans::sta {
namespace {

Entity Make(EntitySet set, int64_t id) {
  Entity e;
  e.set = set;
  e.id = id;
  return e;
}

std::string Topic(const Entity& e, const std::string& tail = {}) {
  std::string t = "v1.1/" + std::string(NameOf(e.set)) + "(" + IdInUrl(e) + ")";
  if (!tail.empty()) t += "/" + tail;
  return t;
}

// The entity, then {"<property>": value} on its property topic for each changed property.
void EntityAndProperties(const Catalog& catalog, const std::string& base, const Entity& e,
                         const std::vector<std::string>& properties,
                         std::vector<MqttNotification>& out) {
  out.push_back({Topic(e), EntityJson(catalog, e, base, {}).dump()});
  const nlohmann::json props = Properties(catalog, e);
  for (const std::string& p : properties) {
    auto it = props.find(p);
    if (it == props.end()) continue;
    out.push_back({Topic(e, p), nlohmann::json{{p, *it}}.dump()});
  }
}

}  // namespace

std::vector<std::string> ChangedThingProperties(const Device& before, const Device& after) {
  std::vector<std::string> out;
  if (before.name != after.name) out.push_back("name");
  if (before.transport != after.transport) out.push_back("description");
  if (before.transport != after.transport || before.app_id != after.app_id ||
      before.tags != after.tags || before.metadata != after.metadata ||
      before.dev_eui != after.dev_eui || before.device_model_id != after.device_model_id)
    out.push_back("properties");
  return out;
}

bool LocationChanged(const Device& before, const Device& after) {
  if (!after.location) return false;
  return !before.location || before.location->lat != after.location->lat ||
         before.location->lon != after.location->lon;
}

std::vector<MqttNotification> ChangeNotifications(Catalog& catalog, const std::string& base,
                                                  const EntityChange& change) {
  std::vector<MqttNotification> out;
  using K = EntityChange::Kind;
  if (change.kind == K::kThingCreated || change.kind == K::kThingChanged) {
    if (!catalog.device(change.device_id)) return out;
    const Entity thing = Make(EntitySet::kThings, change.device_id);
    if (change.kind == K::kThingCreated || !change.properties.empty())
      EntityAndProperties(catalog, base, thing, change.properties, out);
    if (change.location_changed) {
      const DeviceLocation* entry = change.location_id ? catalog.history_entry(change.location_id)
                                                       : catalog.CurrentLocation(change.device_id);
      if (entry && entry->device_id == change.device_id) {
        out.push_back(
            {Topic(thing, "Locations"),
             EntityJson(catalog, Make(EntitySet::kLocations, entry->id), base, {}).dump()});
        out.push_back(
            {Topic(thing, "HistoricalLocations"),
             EntityJson(catalog, Make(EntitySet::kHistoricalLocations, entry->id), base, {})
                 .dump()});
      }
    }
    return out;
  }
  const SeriesRef* s = catalog.series(change.series_id);
  if (!s) return out;
  const Entity ds = Make(EntitySet::kDatastreams, s->id);
  EntityAndProperties(catalog, base, ds, change.properties, out);
  if (change.kind == K::kDatastreamCreated) {
    out.push_back({Topic(Make(EntitySet::kThings, s->device_id), "Datastreams"), out[0].payload});
  }
  return out;
}

}  // namespace bysans::sta
