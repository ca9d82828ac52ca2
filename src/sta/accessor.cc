#include "sta/accessor.h"

#include "sta/entity_json.h"
#include "sta/observations.h"

namespace bysans::sta {

Accessor::Accessor(Catalog& catalog, const Entity& entity, Status* error)
    : catalog_(catalog), entity_(entity), error_(error) {}

Value Accessor::Get(std::string_view property) const {
  if (property == "@iot.id" || property == "id") {
    if (HasStringId(entity_.set)) return Value(IdText(entity_));
    return Value(static_cast<int64_t>(entity_.id));
  }
  if (entity_.set == EntitySet::kObservations && property == "phenomenonTime")
    return Value::Time(entity_.reading.ts);
  if (entity_.set == EntitySet::kHistoricalLocations && property == "time") {
    const DeviceLocation* h = catalog_.history_entry(entity_.id);
    return h ? Value::Time(h->time) : Value();
  }
  if (!props_) props_ = Properties(catalog_, entity_);
  const nlohmann::json* at = &*props_;
  size_t i = 0;
  while (i <= property.size()) {
    size_t j = property.find('/', i);
    if (j == std::string_view::npos) j = property.size();
    std::string part(property.substr(i, j - i));
    if (!at->is_object()) return Value();
    auto it = at->find(part);
    if (it == at->end()) return Value();
    at = &*it;
    i = j + 1;
  }
  return ValueFromJson(*at);
}

void Accessor::ForEachRelated(std::string_view nav,
                              const std::function<bool(const EntityAccessor&)>& fn) const {
  auto target = Navigation(entity_.set, nav);
  if (!target) return;
  if (target->target != EntitySet::kObservations) {
    for (const Entity& e : catalog_.Related(entity_, nav)) {
      Accessor a(catalog_, e, error_);
      if (!fn(a)) return;
    }
    return;
  }
  ObservationScan scan;
  scan.series = catalog_.ObservationSeries(&entity_);
  scan.budget = catalog_.reading_budget();
  Status st = ScanObservations(catalog_.store(), scan, [&](Entity&& e) {
    Accessor a(catalog_, e, error_);
    return fn(a);
  });
  if (!st.ok() && error_ && error_->ok()) *error_ = st;
}

}  // namespace bysans::sta
