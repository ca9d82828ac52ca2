#include "sta/entity_json.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/encoding.h"
#include "core/time_format.h"

namespace bysans::sta {
namespace {

using json = nlohmann::json;

constexpr const char* kGeoJson = "application/geo+json";
constexpr const char* kObsTypeBase = "http://www.opengis.net/def/observationType/OGC-OM/2.0/";

json PointJson(const Location& l) {
  return json{{"type", "Point"}, {"coordinates", {l.lon, l.lat}}};
}

// Numbers are stored as doubles; a whole number is written as an integer ("20", not "20.0").
json ValueJson(const bysans::Value& v) {
  if (const double* d = std::get_if<double>(&v)) {
    if (std::trunc(*d) == *d && std::fabs(*d) < 9e15) return static_cast<int64_t>(*d);
    return *d;
  }
  if (const bool* b = std::get_if<bool>(&v)) return *b;
  return std::get<std::string>(v);
}

std::string ObservationType(const SeriesRef& s) {
  if (!s.latest) return std::string(kObsTypeBase) + "OM_Observation";
  if (std::holds_alternative<double>(s.latest->value))
    return std::string(kObsTypeBase) + "OM_Measurement";
  if (std::holds_alternative<bool>(s.latest->value))
    return std::string(kObsTypeBase) + "OM_TruthObservation";
  return std::string(kObsTypeBase) + "OM_CategoryObservation";
}

json ThingProperties(const Catalog& c, const Device& d) {
  json props = json::object();
  if (c.public_view()) return props;  // open data: tags, metadata, application stay private
  if (const Application* app = c.application(d.app_id))
    props["application"] = {{"id", app->id}, {"name", app->name}};
  props["tags"] = d.tags;
  props["metadata"] = d.metadata;
  props["transport"] = TransportName(d.transport);
  if (!d.dev_eui.empty()) props["devEui"] = d.dev_eui;
  if (d.device_model_id) props["deviceModelId"] = *d.device_model_id;
  return props;
}

json DatastreamJson(const Catalog& c, const SeriesRef& s) {
  const Device* d = c.device(s.device_id);
  const std::string dev_name = d ? d->name : std::to_string(s.device_id);
  json uom = {{"name", s.unit}, {"symbol", s.unit}, {"definition", ""}};
  if (!s.unit.empty()) uom["definition"] = "http://unitsofmeasure.org/ucum.html";
  json out = {{"name", dev_name + " " + s.key},
              {"description", "Readings of '" + s.key + "' from device " + dev_name},
              {"unitOfMeasurement", std::move(uom)},
              {"observationType", ObservationType(s)},
              {"properties", {{"key", s.key}, {"deviceId", s.device_id}}}};
  if (d && d->location) out["observedArea"] = PointJson(*d->location);
  return out;
}

json SensorJson(const Catalog& c, int64_t id) {
  const DeviceModel* m = id ? c.model(id) : nullptr;
  if (!m) {
    return json{{"name", "unknown"},
                {"description", "Devices without a device model"},
                {"encodingType", "text/plain"},
                {"metadata", ""}};
  }
  json doc = json::parse(m->doc_json, nullptr, false);
  if (doc.is_discarded()) doc = json::object();
  std::string description = m->name;
  if (doc.is_object() && doc.contains("description") && doc["description"].is_string())
    description = doc["description"].get<std::string>();
  return json{{"name", m->name},
              {"description", std::move(description)},
              {"encodingType", "application/json"},
              {"metadata", std::move(doc)}};
}

json FeatureJson(const Catalog& c, Id dev) {
  const Device* d = c.device(dev);
  const std::string name = d ? d->name : std::to_string(dev);
  json feature = d && d->location ? PointJson(*d->location) : json(nullptr);
  return json{{"name", name},
              {"description", "Location of device " + name},
              {"encodingType", kGeoJson},
              {"feature", std::move(feature)}};
}

}  // namespace

json IdJson(const Entity& e) {
  if (HasStringId(e.set)) return IdText(e);
  return e.id;
}

json Properties(const Catalog& c, const Entity& e) {
  switch (e.set) {
    case EntitySet::kThings: {
      const Device* d = c.device(e.id);
      if (!d) return json::object();
      return json{{"name", d->name},
                  {"description", std::string(TransportName(d->transport)) + " device"},
                  {"properties", ThingProperties(c, *d)}};
    }
    case EntitySet::kLocations: {
      const DeviceLocation* h = c.history_entry(e.id);
      const Device* d = h ? c.device(h->device_id) : nullptr;
      if (!d) return json::object();
      return json{
          {"name", d->name},
          {"description", "Location of device " + d->name + " from " + FormatRfc3339(h->time)},
          {"encodingType", kGeoJson},
          {"location", PointJson(h->location)}};
    }
    case EntitySet::kHistoricalLocations: {
      const DeviceLocation* h = c.history_entry(e.id);
      if (!h) return json::object();
      return json{{"time", FormatRfc3339(h->time)}};
    }
    case EntitySet::kDatastreams: {
      const SeriesRef* s = c.series(e.id);
      return s ? DatastreamJson(c, *s) : json::object();
    }
    case EntitySet::kSensors:
      return SensorJson(c, e.id);
    case EntitySet::kObservedProperties:
      return json{{"name", e.key},
                  {"definition", "urn:bysans:key:" + PercentEncode(e.key)},
                  {"description", "The reading key '" + e.key + "'"}};
    case EntitySet::kObservations:
      return json{{"phenomenonTime", FormatRfc3339(e.reading.ts)},
                  {"resultTime", nullptr},
                  {"result", ValueJson(e.reading.value)},
                  {"resultQuality", QualityName(e.reading.quality)}};
    case EntitySet::kFeaturesOfInterest:
      return FeatureJson(c, e.id);
  }
  return json::object();
}

std::string SelfLink(const std::string& base, const Entity& e) {
  return base + "/" + std::string(NameOf(e.set)) + "(" + IdInUrl(e) + ")";
}

json EntityJson(const Catalog& c, const Entity& e, const std::string& base,
                const std::vector<std::string>& select) {
  auto selected = [&](std::string_view name) {
    return select.empty() || std::find(select.begin(), select.end(), name) != select.end();
  };
  json out = json::object();
  const std::string self = SelfLink(base, e);
  if (selected("@iot.id") || selected("id")) out["@iot.id"] = IdJson(e);
  if (select.empty() || selected("@iot.selfLink")) out["@iot.selfLink"] = self;
  json props = Properties(c, e);
  for (auto& [k, v] : props.items())
    if (selected(k)) out[k] = std::move(v);
  for (std::string_view nav : NavigationsOf(e.set)) {
    if (!selected(nav)) continue;
    out[std::string(nav) + "@iot.navigationLink"] = self + "/" + std::string(nav);
  }
  return out;
}

}  // namespace bysans::sta
