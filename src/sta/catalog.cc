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

Catalog::Catalog(Store& store, std::vector<Id> org_ids, AppScopes app_scopes)
    : store_(store),
      orgs_(org_ids.begin(), org_ids.end()),
      app_scopes_(std::move(app_scopes)),
      reading_budget_(kMaxReadingsPerRequest) {}

bool Catalog::VisibleApp(Id org_id, Id app_id) const {
  if (!Visible(org_id)) return false;
  auto scope = app_scopes_.find(org_id);
  return scope == app_scopes_.end() || scope->second.count(app_id) > 0;
}

bool Catalog::VisibleModel(const DeviceModel& m) const {
  if (!Visible(m.org_id)) return false;
  if (!app_scopes_.count(m.org_id)) return true;
  LoadAll();  // restricted: only the models their devices use (rare; once per request)
  for (const auto& [id, d] : devices_)
    if (d.device_model_id == m.id) return true;
  return false;
}

Catalog::Catalog(Store& store, PublicScope scope)
    : store_(store), public_(std::move(scope)), reading_budget_(kMaxReadingsPerRequest) {
  for (const Device& d : public_->devices) devices_.emplace(d.id, d);
  devices_complete_ = true;  // and no applications or device models: they are not published
}

Status Catalog::Load() {
  LoadAll();
  return error_;
}

void Catalog::Note(const Status& s) const {
  if (!s.ok() && s.code() != Code::kNotFound && error_.ok()) error_ = s;
}

bool Catalog::KeyShown(const std::string& key) const {
  return !public_ || public_->keys.empty() ||
         std::find(public_->keys.begin(), public_->keys.end(), key) != public_->keys.end();
}

void Catalog::AddSeries(SeriesRef s) const {
  if (!KeyShown(s.key) || series_.count(s.id)) return;
  series_.emplace(s.id, std::move(s));
}

void Catalog::LoadAll() const {
  if (all_loaded_) return;
  all_loaded_ = true;
  auto run = [&]() -> Status {
    for (Id org : orgs_) {
      DeviceFilter f;
      f.org_id = org;
      const auto scope = app_scopes_.find(org);
      if (scope != app_scopes_.end()) f.app_ids.emplace(scope->second.begin(), scope->second.end());
      BYSANS_ASSIGN_OR_RETURN(auto devices,
                              AllPages<Device>([&](Page p) { return store_.ListDevices(f, p); }));
      std::set<Id> used_models;
      for (Device& d : devices) {
        if (d.org_id != org || !VisibleApp(org, d.app_id)) continue;
        if (d.device_model_id) used_models.insert(*d.device_model_id);
        devices_.insert_or_assign(d.id, std::move(d));
      }
      BYSANS_ASSIGN_OR_RETURN(auto apps, AllPages<Application>([&](Page p) {
                                return store_.ListApplications(org, p);
                              }));
      for (Application& a : apps)
        if (VisibleApp(org, a.id)) apps_.insert_or_assign(a.id, std::move(a));
      BYSANS_ASSIGN_OR_RETURN(auto models, AllPages<DeviceModel>([&](Page p) {
                                return store_.ListDeviceModels(org, p);
                              }));
      for (DeviceModel& m : models)
        if (scope == app_scopes_.end() || used_models.count(m.id))
          models_.insert_or_assign(m.id, std::move(m));
    }
    devices_complete_ = true;
    std::vector<Id> ids;
    for (const auto& [id, d] : devices_)
      if (!series_of_device_.count(id)) ids.push_back(id);
    BYSANS_ASSIGN_OR_RETURN(std::vector<SeriesRef> series, store_.ListSeries(ids));
    for (Id id : ids) series_of_device_[id];
    for (SeriesRef& s : series) {
      if (!devices_.count(s.device_id) || !KeyShown(s.key)) continue;
      series_of_device_[s.device_id].push_back(s.id);
      AddSeries(std::move(s));
    }
    return Status::Ok();
  };
  Note(run());
}

const Device* Catalog::device(Id id) const {
  if (auto it = devices_.find(id); it != devices_.end()) return &it->second;
  if (devices_complete_ || missing_devices_.count(id)) return nullptr;
  auto d = store_.GetDevice(id);
  Note(d.status());
  if (!d.ok() || !VisibleApp(d->org_id, d->app_id)) {
    missing_devices_.insert(id);
    return nullptr;
  }
  return &devices_.emplace(id, std::move(d).value()).first->second;
}

const Application* Catalog::application(Id id) const {
  if (auto it = apps_.find(id); it != apps_.end()) return &it->second;
  if (all_loaded_ || public_ || missing_apps_.count(id)) return nullptr;
  auto a = store_.GetApplication(id);
  Note(a.status());
  if (!a.ok() || !VisibleApp(a->org_id, a->id)) {
    missing_apps_.insert(id);
    return nullptr;
  }
  return &apps_.emplace(id, std::move(a).value()).first->second;
}

const DeviceModel* Catalog::model(Id id) const {
  if (auto it = models_.find(id); it != models_.end()) return &it->second;
  if (all_loaded_ || public_ || missing_models_.count(id)) return nullptr;
  auto m = store_.GetDeviceModel(id);
  Note(m.status());
  if (!m.ok() || !VisibleModel(*m)) {
    missing_models_.insert(id);
    return nullptr;
  }
  return &models_.emplace(id, std::move(m).value()).first->second;
}

const SeriesRef* Catalog::series(int64_t id) const {
  if (auto it = series_.find(id); it != series_.end()) return &it->second;
  if (all_loaded_ || missing_series_.count(id)) return nullptr;
  auto s = store_.GetSeries(id);
  Note(s.status());
  if (!s.ok() || !device(s->device_id) || !KeyShown(s->key)) {
    missing_series_.insert(id);
    return nullptr;
  }
  return &series_.emplace(id, std::move(s).value()).first->second;
}

std::vector<const SeriesRef*> Catalog::SeriesOfDevice(Id device_id) const {
  std::vector<const SeriesRef*> out;
  if (!device(device_id)) return out;
  auto it = series_of_device_.find(device_id);
  if (it == series_of_device_.end()) {
    auto listed = store_.ListSeries({device_id});
    Note(listed.status());
    std::vector<int64_t> ids;
    if (listed.ok()) {
      for (SeriesRef& s : *listed) {
        if (s.device_id != device_id || !KeyShown(s.key)) continue;
        ids.push_back(s.id);
        AddSeries(std::move(s));
      }
    }
    it = series_of_device_.emplace(device_id, std::move(ids)).first;
  }
  for (int64_t sid : it->second)
    if (auto s = series_.find(sid); s != series_.end()) out.push_back(&s->second);
  return out;
}

void Catalog::AddHistory(Id device_id, std::vector<DeviceLocation> entries) const {
  for (const DeviceLocation& e : entries) history_device_[e.id] = device_id;
  history_[device_id] = std::move(entries);
}

void Catalog::LoadAllHistory() const {
  LoadAll();
  if (all_history_loaded_) return;
  all_history_loaded_ = true;
  std::vector<Id> ids;
  for (const auto& [id, d] : devices_)
    if (!history_.count(id)) ids.push_back(id);
  auto got = store_.ListDeviceLocations(ids);
  Note(got.status());
  std::map<Id, std::vector<DeviceLocation>> by_device;
  for (Id id : ids) by_device[id];
  if (got.ok())
    for (DeviceLocation& e : *got) by_device[e.device_id].push_back(std::move(e));
  for (auto& [id, entries] : by_device) AddHistory(id, std::move(entries));
}

const std::vector<DeviceLocation>& Catalog::HistoryOf(Id device_id) const {
  static const std::vector<DeviceLocation> kNone;
  if (!device(device_id)) return kNone;
  auto it = history_.find(device_id);
  if (it == history_.end() && all_loaded_) {
    LoadAllHistory();  // a listing's expansion: one query for every device, not one each
    it = history_.find(device_id);
  }
  if (it == history_.end()) {
    auto got = store_.ListDeviceLocations({device_id});
    Note(got.status());
    AddHistory(device_id, got.ok() ? std::move(*got) : std::vector<DeviceLocation>());
    it = history_.find(device_id);
  }
  return it->second;
}

const DeviceLocation* Catalog::history_entry(int64_t id) const {
  auto it = history_device_.find(id);
  if (it == history_device_.end()) {
    if (all_history_loaded_) return nullptr;
    auto got = store_.GetDeviceLocation(id);
    Note(got.status());
    if (!got.ok() || !device(got->device_id)) return nullptr;
    HistoryOf(got->device_id);
    it = history_device_.find(id);
    if (it == history_device_.end()) return nullptr;
  }
  for (const DeviceLocation& e : HistoryOf(it->second))
    if (e.id == id) return &e;
  return nullptr;
}

const DeviceLocation* Catalog::CurrentLocation(Id device_id) const {
  const Device* d = device(device_id);
  if (!d || !d->location) return nullptr;
  const std::vector<DeviceLocation>& h = HistoryOf(device_id);
  return h.empty() ? nullptr : &h.back();
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
  LoadAll();
  std::vector<Entity> out;
  switch (set) {
    case EntitySet::kThings:
      for (const auto& [id, d] : devices_) out.push_back(Make(set, id));
      break;
    case EntitySet::kLocations:
    case EntitySet::kHistoricalLocations: {
      LoadAllHistory();
      for (const auto& [id, dev] : history_device_)
        if (devices_.count(dev)) out.push_back(Make(set, id));
      break;
    }
    case EntitySet::kFeaturesOfInterest:
      for (const auto& [id, list] : series_of_device_)
        if (!list.empty() && devices_.count(id)) out.push_back(Make(set, id));
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
    LoadAll();
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
    if (observation_hook_) observation_hook_(s->device_id);
    BYSANS_ASSIGN_OR_RETURN(std::vector<Reading> got, store_.QueryReadings(q));
    if (got.empty()) return std::optional<Entity>();
    Entity e = Make(set, s->id);
    e.reading = std::move(got[0]);
    return std::optional<Entity>(std::move(e));
  }
  auto num = ParseNumericId(id);
  if (!num) return std::optional<Entity>();
  std::optional<Entity> out;
  switch (set) {
    case EntitySet::kThings:
      if (device(*num)) out = Make(set, *num);
      break;
    case EntitySet::kLocations:
    case EntitySet::kHistoricalLocations:
      if (history_entry(*num)) out = Make(set, *num);
      break;
    case EntitySet::kFeaturesOfInterest:
      if (!SeriesOfDevice(*num).empty()) out = Make(set, *num);
      break;
    case EntitySet::kDatastreams:
      if (series(*num)) out = Make(set, *num);
      break;
    case EntitySet::kSensors:  // a Sensor exists while a Datastream uses it: needs them all
      for (Entity& e : All(set))
        if (e.id == *num) out = std::move(e);
      break;
    default:
      break;
  }
  return out;
}

std::vector<Entity> Catalog::Related(const Entity& from, std::string_view nav) const {
  std::vector<Entity> out;
  auto target = Navigation(from.set, nav);
  if (!target || target->target == EntitySet::kObservations) return out;
  const EntitySet to = target->target;
  auto add_device_entity = [&](Id dev) {
    if (device(dev)) out.push_back(Make(to, dev));
  };
  switch (from.set) {
    case EntitySet::kThings:
      if (to == EntitySet::kDatastreams) {
        for (const SeriesRef* s : SeriesOfDevice(from.id)) out.push_back(Make(to, s->id));
      } else if (to == EntitySet::kHistoricalLocations) {
        for (const DeviceLocation& e : HistoryOf(from.id)) out.push_back(Make(to, e.id));
      } else if (const DeviceLocation* now = CurrentLocation(from.id)) {
        out.push_back(Make(to, now->id));  // Locations: the current one
      }
      break;
    case EntitySet::kLocations:
    case EntitySet::kHistoricalLocations:
      // An entry is a Location and the HistoricalLocation that put the Thing there (same id).
      if (const DeviceLocation* e = history_entry(from.id)) {
        if (to == EntitySet::kThings) {
          add_device_entity(e->device_id);
        } else {
          out.push_back(Make(to, e->id));
        }
      }
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
      LoadAll();
      for (const auto& [id, s] : series_)
        if (SensorOf(*this, s) == from.id) out.push_back(Make(to, id));
      break;
    case EntitySet::kObservedProperties:
      LoadAll();
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
    LoadAll();
    for (const auto& [id, s] : series_)
      if (devices_.count(s.device_id)) out.push_back(&s);
  } else if (from->set == EntitySet::kDatastreams) {
    if (const SeriesRef* s = series(from->id)) out.push_back(s);
  } else if (from->set == EntitySet::kFeaturesOfInterest) {
    out = SeriesOfDevice(from->id);
  }
  if (observation_hook_)
    for (const SeriesRef* s : out) observation_hook_(s->device_id);
  return out;
}

}  // namespace bysans::sta
