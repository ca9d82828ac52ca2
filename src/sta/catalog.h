// What one caller may see, as SensorThings entities: the devices, applications, device models
// and series of the caller's organisations (metadata only; readings are read through
// sta/observations.h). Loaded lazily from the store: a path naming one entity
// (Datastreams(5)/Observations) fetches that entity and checks its organisation; an entity set
// or a navigation that needs every entity (ObservedProperties, Sensors(1)/Datastreams) loads the
// organisations' metadata once. Nothing outside these organisations is ever returned, so every
// path, $expand and $filter built on a Catalog stays inside them.
// Not thread-safe: one per request.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "sta/entity.h"
#include "sta/observations.h"
#include "store/store.h"

namespace bysans::sta {

// A published open-data dataset as seen without login: its devices (already checked by the
// caller: published, of the organisation, no personal data) and the keys it publishes.
struct PublicScope {
  std::vector<Device> devices;
  std::vector<std::string> keys;  // empty = every key
};

// A caller restricted to some applications of an organisation (access per application): of that
// organisation only those applications, their devices and the device models those devices use
// are visible.
using AppScopes = std::map<Id, std::set<Id>>;  // organisation -> its visible applications

class Catalog {
 public:
  // `org_ids`: the organisations the caller has a role in (viewer or above); `app_scopes`: those
  // of them where the caller sees some applications only.
  Catalog(Store& store, std::vector<Id> org_ids, AppScopes app_scopes = {});
  // The public view of one open-data dataset: only its devices and keys; Things carry no
  // properties (tags, metadata, application stay private) and every Datastream has the
  // "unknown" Sensor (device models are not published).
  Catalog(Store& store, PublicScope scope);

  // Loads every entity's metadata now (otherwise done when first needed).
  Status Load();
  // The first store error met while loading lazily (lookups then behave as "not found"); the
  // service returns it instead of its answer.
  const Status& status() const { return error_; }

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

  // One visible object by id, nullptr when there is none (or not visible).
  const Device* device(Id id) const;
  const Application* application(Id id) const;
  const DeviceModel* model(Id id) const;
  const SeriesRef* series(int64_t id) const;
  // The series of a visible device, by id.
  std::vector<const SeriesRef*> SeriesOfDevice(Id device_id) const;
  // A visible device's location history, oldest first (Locations and HistoricalLocations).
  const std::vector<DeviceLocation>& HistoryOf(Id device_id) const;
  // One entry of a visible device's history by id, nullptr when there is none.
  const DeviceLocation* history_entry(int64_t id) const;
  // The entry that is the device's current Location: its newest, while the device has a
  // location (a removed location leaves its entries as history only).
  const DeviceLocation* CurrentLocation(Id device_id) const;

  Store& store() { return store_; }
  // Readings this request may still read (sta/observations.h ObservationScan::budget).
  int64_t* reading_budget() { return &reading_budget_; }
  bool public_view() const { return public_.has_value(); }
  // Called with the device of every series whose Observations this request reads (an
  // Observations collection, $expand or one Observation), possibly more than once per device:
  // the API audits reads of personal data through it (api/privacy_audit.h).
  void set_observation_hook(std::function<void(Id device_id)> hook) {
    observation_hook_ = std::move(hook);
  }

 private:
  bool Visible(Id org_id) const { return orgs_.count(org_id) > 0; }
  // The organisation is visible and, when the caller is restricted there, so is the application.
  bool VisibleApp(Id org_id, Id app_id) const;
  // A device model: of a visible organisation and, where the caller is restricted, used by one
  // of their devices.
  bool VisibleModel(const DeviceModel& m) const;
  bool KeyShown(const std::string& key) const;
  void Note(const Status& s) const;  // keeps the first error other than kNotFound
  void LoadAll() const;              // everything, once
  void AddSeries(SeriesRef s) const;
  void LoadAllHistory() const;  // the history of every visible device, once
  void AddHistory(Id device_id, std::vector<DeviceLocation> entries) const;

  Store& store_;
  std::set<Id> orgs_;
  AppScopes app_scopes_;
  std::optional<PublicScope> public_;
  int64_t reading_budget_;
  std::function<void(Id)> observation_hook_;
  // Caches, filled lazily by const lookups (one Catalog per request, one thread).
  mutable Status error_;
  mutable bool all_loaded_ = false;
  mutable bool devices_complete_ = false;  // every visible device is in devices_
  mutable std::map<Id, Device> devices_;
  mutable std::set<Id> missing_devices_, missing_models_, missing_apps_;
  mutable std::set<int64_t> missing_series_;
  mutable std::map<Id, Application> apps_;
  mutable std::map<Id, DeviceModel> models_;
  mutable std::map<int64_t, SeriesRef> series_;
  mutable std::map<Id, std::vector<int64_t>> series_of_device_;  // complete for its devices
  mutable bool all_history_loaded_ = false;
  mutable std::map<Id, std::vector<DeviceLocation>> history_;  // complete for its devices
  mutable std::map<int64_t, Id> history_device_;               // entry id -> device
};

}  // namespace bysans::sta
