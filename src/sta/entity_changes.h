// SensorThings receive-updates for entities (OGC 18-088 14.2, A.8), broker-free: a change of a
// Thing or Datastream made through the API, and the MQTT notifications it makes. The API calls
// the hook (api/context.h ApiContext::on_entity_change) after the change is stored; the service
// that publishes them is server/sta_mqtt.h.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "model/model.h"
#include "sta/catalog.h"

namespace bysans::sta {

struct EntityChange {
  enum class Kind { kThingCreated, kThingChanged, kDatastreamCreated, kDatastreamChanged };
  Kind kind = Kind::kThingChanged;
  Id org_id = 0;
  Id device_id = 0;
  int64_t series_id = 0;  // Datastreams
  // The SensorThings properties that changed: Things "name", "description", "properties";
  // Datastreams "unitOfMeasurement". A created entity lists none.
  std::vector<std::string> properties;
  // Things: the device's location was set to a new one (a new location history entry).
  bool location_changed = false;
  // That new entry's id, read when the change was stored: the notification renders this entry,
  // not whatever is current when the publisher gets to it (a later move may have come first).
  int64_t location_id = 0;
};
using EntityChangeHook = std::function<void(const EntityChange&)>;

// The changed Thing properties between two versions of a device.
std::vector<std::string> ChangedThingProperties(const Device& before, const Device& after);
// Whether `after` records a new location history entry (store.h: a location that differs).
bool LocationChanged(const Device& before, const Device& after);

struct MqttNotification {
  std::string topic;
  std::string payload;
};

// The notifications of one change, rendered with `catalog` (one that sees the change's
// organisation) and `base` (the service root URL):
//  - a Thing created or changed: v1.1/Things(<id>) (the Thing as GET answers it; when changed,
//    only if one of its properties did), v1.1/Things(<id>)/<property> ({"<property>": value})
//    for each changed property; with a new location: v1.1/Things(<id>)/Locations (the new
//    current Location) and v1.1/Things(<id>)/HistoricalLocations (its new HistoricalLocation);
//  - a Datastream created: v1.1/Datastreams(<id>) and v1.1/Things(<device>)/Datastreams;
//    changed: v1.1/Datastreams(<id>) and v1.1/Datastreams(<id>)/<property>.
// Nothing when the entity is no longer visible (deleted meanwhile).
std::vector<MqttNotification> ChangeNotifications(Catalog& catalog, const std::string& base,
                                                  const EntityChange& change);

}  // namespace bysans::sta
