#include "sta/catalog.h"

#include <algorithm>
#include <set>

namespace bysans::sta {
namespace {

constexpr int64_t kPage = 10'000;

// Every item of a paged store listing.
template <typename T, typename Fn>
Result<std::vector<T>> AllPages(Fn list) {
  std::vector<T> out;
  for (Page page{kPage, 0};; page.offset += page.limit) {
    BYSANS_ASSIGN_OR_RETURN(Paged<T> got, list(page));
    if (got.items.empty()) break;
    for (auto& item : got.items) out.push_back(std::move(item));
    if (static_cast<int64_t>(out.size()) >= got.total) break;
  }
  return out;
}

Entity Make(EntitySet set, int64_t id) {
  Entity e;
  e.set = set;
  e.id = id;
  return e;
}

}  // namespace

Catalog::Catalog(Store& store, std::vector<Id> org_ids)
    : store_(store), org_ids_(std::move(org_ids)) {}

Catalog::Catalog(Store& store, PublicScope scope) : store_(store), public_(std::move(scope)) {}

Status Catalog::Load() {
  std::vector<Id> device_ids;
  if (public_) {
    for (const Device& d : public_->devices) {
      device_ids.push_back(d.id);
      devices_.emplace(d.id, d);
    }
  }
  for (Id org : org_ids_) {
    DeviceFilter f;
    f.org_id = org;
    BYSANS_ASSIGN_OR_RETURN(auto devices,
                            AllPages<Device>([&](Page p) { return store_.ListDevices(f, p); }));
    for (Device& d : devices) {
      if (d.org_id != org) continue;  // defensive: never another organisation's device
      device_ids.push_back(d.id);
      devices_.emplace(d.id, std::move(d));
    }
    BYSANS_ASSIGN_OR_RETURN(
        auto apps, AllPages<Application>([&](Page p) { return store_.ListApplications(org, p); }));
    for (Application& a : apps) apps_.emplace(a.id, std::move(a));
    BYSANS_ASSIGN_OR_RETURN(auto models, AllPages<DeviceModel>([&](Page p) {
                              return store_.ListDeviceModels(org, p);
                            }));
    for (DeviceModel& m : models) models_.emplace(m.id, std::move(m));
  }
  BYSANS_ASSIGN_OR_RETURN(std::vector<SeriesRef> series, store_.ListSeries(device_ids));
  for (SeriesRef& s : series) {
    if (!devices_.count(s.device_id)) continue;
    if (public_ && !public_->keys.empty() &&
        std::find(public_->keys.begin(), public_->keys.end(), s.key) == public_->keys.end())
      continue;
    series_of_device_[s.device_id].push_back(s.id);
    series_.emplace(s.id, std::move(s));
  }
  return Status::Ok();
}

const Device* Catalog::device(Id id) const {
  auto it = devices_.find(id);
  return it == devices_.end() ? nullptr : &it->second;
}
const Application* Catalog::application(Id id) const {
  auto it = apps_.find(id);
  return it == apps_.end() ? nullptr : &it->second;
}
const DeviceModel* Catalog::model(Id id) const {
  auto it = models_.find(id);
  return it == models_.end() ? nullptr : &it->second;
}
const SeriesRef* Catalog::series(int64_t id) const {
  auto it = series_.find(id);
  return it == series_.end() ? nullptr : &it->second;
}

namespace {
// The Sensor of a series: its device's model when the caller can see it, else 0 ("unknown").
int64_t SensorOf(const Catalog& c, const SeriesRef& s) {
  const Device* d = c.device(s.device_id);
  if (!d || !d->device_model_id || !c.model(*d->device_model_id)) return 0;
  return *d->device_model_id;
}
}  // namespace

std::vector<Entity> Catalog::All(EntitySet set) const {
  std::vector<Entity> out;
  switch (set) {
    case EntitySet::kThings:
      for (const auto& [id, d] : devices_) out.push_back(Make(set, id));
      break;
    case EntitySet::kLocations:
    case EntitySet::kHistoricalLocations:
      for (const auto& [id, d] : devices_)
        if (d.location) out.push_back(Make(set, id));
      break;
    case EntitySet::kFeaturesOfInterest:
      for (const auto& [id, list] : series_of_device_) out.push_back(Make(set, id));
      break;
    case EntitySet::kDatastreams:
      for (const auto& [id, s] : series_) out.push_back(Make(set, id));
      break;
    case EntitySet::kSensors: {
      // The models some Datastream uses, and 0 ("unknown") when a device has none.
      std::set<int64_t> ids;
      for (const auto& [id, s] : series_) ids.insert(SensorOf(*this, s));
      for (int64_t id : ids) out.push_back(Make(set, id));
      break;
    }
    case EntitySet::kObservedProperties: {
      std::set<std::string> keys;
      for (const auto& [id, s] : series_) keys.insert(s.key);
      for (const std::string& k : keys) {
        Entity e = Make(set, 0);
        e.key = k;
        out.push_back(std::move(e));
      }
      break;
    }
    case EntitySet::kObservations:
      break;
  }
  return out;
}

Result<std::optional<Entity>> Catalog::Find(EntitySet set, std::string_view id) {
  if (set == EntitySet::kObservedProperties) {
    for (const auto& [sid, s] : series_) {
      if (s.key != id) continue;
      Entity e = Make(set, 0);
      e.key = s.key;
      return std::optional<Entity>(std::move(e));
    }
    return std::optional<Entity>();
  }
  if (set == EntitySet::kObservations) {
    auto key = ParseObservationId(id);
    if (!key) return std::optional<Entity>();
    const SeriesRef* s = series(key->series_id);
    if (!s) return std::optional<Entity>();
    ReadingQuery q;
    q.device_id = s->device_id;
    q.key = s->key;
    q.from = q.to = key->ts;
    q.limit = 1;
    BYSANS_ASSIGN_OR_RETURN(std::vector<Reading> got, store_.QueryReadings(q));
    if (got.empty()) return std::optional<Entity>();
    Entity e = Make(set, s->id);
    e.reading = std::move(got[0]);
    return std::optional<Entity>(std::move(e));
  }
  auto num = ParseNumericId(id);
  if (!num) return std::optional<Entity>();
  for (Entity& e : All(set))  // metadata only: bounded by the caller's organisations
    if (e.id == *num) return std::optional<Entity>(std::move(e));
  return std::optional<Entity>();
}

std::vector<Entity> Catalog::Related(const Entity& from, std::string_view nav) const {
  std::vector<Entity> out;
  auto target = Navigation(from.set, nav);
  if (!target || target->target == EntitySet::kObservations) return out;
  const EntitySet to = target->target;
  auto add_device_entity = [&](Id dev) {
    const Device* d = device(dev);
    if (!d) return;
    if ((to == EntitySet::kLocations || to == EntitySet::kHistoricalLocations) && !d->location)
      return;
    out.push_back(Make(to, dev));
  };
  switch (from.set) {
    case EntitySet::kThings:
      if (to == EntitySet::kDatastreams) {
        auto it = series_of_device_.find(from.id);
        if (it != series_of_device_.end())
          for (int64_t sid : it->second) out.push_back(Make(to, sid));
      } else {
        add_device_entity(from.id);
      }
      break;
    case EntitySet::kLocations:
    case EntitySet::kHistoricalLocations:
      add_device_entity(from.id);
      break;
    case EntitySet::kDatastreams: {
      const SeriesRef* s = series(from.id);
      if (!s) break;
      if (to == EntitySet::kThings) {
        add_device_entity(s->device_id);
      } else if (to == EntitySet::kSensors) {
        out.push_back(Make(to, SensorOf(*this, *s)));
      } else if (to == EntitySet::kObservedProperties) {
        Entity e = Make(to, 0);
        e.key = s->key;
        out.push_back(std::move(e));
      }
      break;
    }
    case EntitySet::kSensors:
      for (const auto& [id, s] : series_)
        if (SensorOf(*this, s) == from.id) out.push_back(Make(to, id));
      break;
    case EntitySet::kObservedProperties:
      for (const auto& [id, s] : series_)
        if (s.key == from.key) out.push_back(Make(to, id));
      break;
    case EntitySet::kObservations: {
      const SeriesRef* s = series(from.id);
      if (!s) break;
      if (to == EntitySet::kDatastreams) out.push_back(Make(to, s->id));
      if (to == EntitySet::kFeaturesOfInterest) out.push_back(Make(to, s->device_id));
      break;
    }
    case EntitySet::kFeaturesOfInterest:
      break;
  }
  return out;
}

std::vector<const SeriesRef*> Catalog::ObservationSeries(const Entity* from) const {
  std::vector<const SeriesRef*> out;
  if (!from) {
    for (const auto& [id, s] : series_) out.push_back(&s);
  } else if (from->set == EntitySet::kDatastreams) {
    if (const SeriesRef* s = series(from->id)) out.push_back(s);
  } else if (from->set == EntitySet::kFeaturesOfInterest) {
    auto it = series_of_device_.find(from->id);
    if (it != series_of_device_.end())
      for (int64_t sid : it->second) out.push_back(series(sid));
  }
  return out;
}

}  // namespace bysans::sta
