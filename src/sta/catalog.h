// What one caller may see, as SensorThings entities: the devices, applications, device models
// and series of the caller's organisations, loaded once per request from the store (metadata
// only; readings are read through sta/observations.h). Nothing outside these organisations is
// ever returned, so every path, $expand and $filter built on a Catalog stays inside them.
// Not thread-safe: one per request.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "sta/entity.h"
#include "store/store.h"

namespace bysans::sta {

// A published open-data dataset as seen without login: its devices (already checked by the
// caller: published, of the organisation, no personal data) and the keys it publishes.
struct PublicScope {
  std::vector<Device> devices;
  std::vector<std::string> keys;  // empty = every key
};

class Catalog {
 public:
  // `org_ids`: the organisations the caller has a role in (viewer or above).
  Catalog(Store& store, std::vector<Id> org_ids);
  // The public view of one open-data dataset: only its devices and keys; Things carry no
  // properties (tags, metadata, application stay private) and every Datastream has the
  // "unknown" Sensor (device models are not published).
  Catalog(Store& store, PublicScope scope);

  // Loads the metadata (devices, applications, device models, series). Call once before use.
  Status Load();

  // Every entity of a set, in id order. Not for Observations (read them with
  // ObservationReader).
  std::vector<Entity> All(EntitySet set) const;
  // The entity with the id as written in the path (unquoted); nullopt when there is none or it
  // belongs to another organisation. Observations are read from the store.
  Result<std::optional<Entity>> Find(EntitySet set, std::string_view id);
  // The entities reached from `from` through the navigation property `nav`, in id order. Not for
  // navigation to Observations.
  std::vector<Entity> Related(const Entity& from, std::string_view nav) const;
  // The series an Observations collection reached from `from` reads: the Datastream's own, a
  // FeatureOfInterest's device's, or all (nullptr: /Observations).
  std::vector<const SeriesRef*> ObservationSeries(const Entity* from) const;

  const Device* device(Id id) const;
  const Application* application(Id id) const;
  const DeviceModel* model(Id id) const;
  const SeriesRef* series(int64_t id) const;
  Store& store() { return store_; }
  bool public_view() const { return public_.has_value(); }

 private:
  Store& store_;
  std::vector<Id> org_ids_;
  std::optional<PublicScope> public_;
  std::map<Id, Device> devices_;
  std::map<Id, Application> apps_;
  std::map<Id, DeviceModel> models_;
  std::map<int64_t, SeriesRef> series_;
  std::map<Id, std::vector<int64_t>> series_of_device_;
};

}  // namespace bysans::sta
