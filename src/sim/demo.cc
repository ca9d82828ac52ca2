#include "sim/demo.h"

#include <nlohmann/json.hpp>

#include "auth/auth.h"
#include "store/rule_store.h"

namespace bysans::sim {
namespace {

constexpr const char* kOrgName = "Demo Kommune";

struct AppPlan {
  const char* name;
  const char* description;
  DemoKind kind;
  int count;
  const char* model_name;
  const char* brand;
  std::vector<const char*> properties;
  const char* name_pattern;  // printf-style with %d
  double lat, lon;           // centre of the devices
  int64_t interval_s;
  std::vector<const char*> tags;
};

const std::vector<AppPlan>& Plans() {
  static const std::vector<AppPlan> kPlans = {
      {"Ældrepleje – faldsensorer",
       "Faldsensorer og alarmknapper hos borgere i eget hjem",
       DemoKind::kFallSensor,
       6,
       "Faldsensor FS-1",
       "Demo Sensors",
       {"fall", "buttonPressed", "batteryLevel", "temperature"},
       "Faldsensor – borger %d",
       56.1629,
       10.2039,
       60,
       {"ældrepleje", "tryghed"}},
      {"Indeklima – Nørreskolen",
       "Temperatur, fugt og CO2 i klasselokaler",
       DemoKind::kRoomClimate,
       8,
       "Indeklimasensor IK-6",
       "Demo Sensors",
       {"temperature", "relativeHumidity", "co2", "illuminance", "motion", "batteryLevel"},
       "Klasselokale %d",
       56.1702,
       10.1995,
       300,
       {"skole", "indeklima"}},
      {"Affaldsbeholdere – Centrum",
       "Fyldningsgrad i affaldsbeholdere",
       DemoKind::kWasteBin,
       10,
       "Fyldniveausensor FL-2",
       "Demo Sensors",
       {"fillingLevel", "distance", "temperature", "batteryLevel"},
       "Affaldsbeholder %d",
       56.1567,
       10.2108,
       900,
       {"affald", "renovation"}},
      {"Luftkvalitet – Vestergade",
       "NO2 og partikler (PM2.5, PM10) i gaderummet",
       DemoKind::kAirQuality,
       4,
       "Luftkvalitetsstation LK-3",
       "Demo Sensors",
       {"no2", "pm25", "pm10", "temperature", "relativeHumidity"},
       "Målestation %d",
       56.1552,
       10.2010,
       600,
       {"luft", "miljø"}},
  };
  return kPlans;
}

std::string DeviceModelDoc(const AppPlan& p) {
  nlohmann::json doc = {{"type", "DeviceModel"},
                        {"name", p.model_name},
                        {"modelName", p.model_name},
                        {"brandName", p.brand},
                        {"manufacturerName", p.brand},
                        {"category", {"sensor"}},
                        {"controlledProperty", p.properties}};
  if (p.kind == DemoKind::kRoomClimate) {  // valid ranges for quality flags (quality/README.md)
    doc["x-bysans-ranges"] = {
        {"temperature", {{"min", 5}, {"max", 40}, {"unit", "°C"}, {"maxRatePerS", 0.05}}},
        {"humidity", {{"min", 0}, {"max", 100}, {"unit", "%"}}},
        {"co2", {{"min", 300}, {"max", 5000}, {"unit", "ppm"}, {"maxRatePerS", 5}}}};
  }
  return doc.dump();
}

// Demo rules for the four use cases (rules/json.h format), one set per
// application, so a newcomer sees alarms appear.
Status SeedDemoRules(Store& store, const Clock& clock, Id org_id, Id app_id, DemoKind kind) {
  using nlohmann::json;
  json scope = {{"kind", "application"}, {"id", app_id}};
  std::vector<json> rules;
  switch (kind) {
    case DemoKind::kFallSensor:
      rules.push_back({{"name", "Fald registreret"},
                       {"severity", "critical"},
                       {"expression", "fall == true"},
                       {"clearExpression", "fall == false"}});
      break;
    case DemoKind::kRoomClimate:
      rules.push_back({{"name", "CO2 over 1000 ppm i 15 min"},
                       {"severity", "warning"},
                       {"expression", "co2 > 1000"},
                       {"clearExpression", "co2 < 900"},
                       {"forMs", 15 * 60 * 1000}});
      break;
    case DemoKind::kWasteBin:
      rules.push_back({{"name", "Affaldsbeholder over 80 %"},
                       {"severity", "info"},
                       {"expression", "fillLevel > 80"}});
      break;
    case DemoKind::kAirQuality:
      rules.push_back(
          {{"name", "NO2 over 40 µg/m³"}, {"severity", "warning"}, {"expression", "air.no2 > 40"}});
      break;
  }
  rules.push_back({{"name", "Sensor tavs (3 × interval)"},
                   {"severity", "warning"},
                   {"kind", "silence"},
                   {"silence", {{"intervalMultiple", 3}}}});
  rules.push_back({{"name", "Lavt batteri"},
                   {"severity", "info"},
                   {"expression", "batteryLevel < 20"},
                   {"clearExpression", "batteryLevel > 30"}});
  for (json& r : rules) {
    r["scope"] = scope;
    RuleRecord rec;
    rec.org_id = org_id;
    rec.definition = r.dump();
    rec.created_ms = rec.updated_ms = clock.NowMs();
    BYSANS_RETURN_IF_ERROR(store.rules().CreateRule(rec).status());
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<DemoDevice>> SeedDemo(Store& store, Random& random, const Clock& clock,
                                         Id admin_user_id) {
  // Find or create the organisation.
  std::optional<Organization> org;
  BYSANS_ASSIGN_OR_RETURN(auto orgs, store.ListOrganizations(Page{10000, 0}));
  for (auto& o : orgs.items)
    if (o.name == kOrgName) org = o;
  bool fresh = !org.has_value();
  if (fresh) {
    BYSANS_ASSIGN_OR_RETURN(org, store.CreateOrganization({0, kOrgName, clock.NowMs()}));
  }
  if (admin_user_id) {
    BYSANS_RETURN_IF_ERROR(store.PutMembership({admin_user_id, org->id, Role::kAdmin}));
  }

  std::vector<DemoDevice> out;
  if (fresh) {
    for (const AppPlan& p : Plans()) {
      BYSANS_ASSIGN_OR_RETURN(
          Application app,
          store.CreateApplication({0, org->id, p.name, p.description, clock.NowMs()}));
      BYSANS_ASSIGN_OR_RETURN(
          DeviceModel model,
          store.CreateDeviceModel({0, org->id, p.model_name, DeviceModelDoc(p), clock.NowMs()}));
      for (int i = 1; i <= p.count; ++i) {
        Device d;
        d.org_id = org->id;
        d.app_id = app.id;
        char name[128];
        std::snprintf(name, sizeof name, p.name_pattern, i);
        d.name = name;
        d.transport = Transport::kHttp;
        // Spread devices on a small grid around the centre (~300 m steps).
        d.location = Location{p.lat + 0.0027 * ((i % 4) - 1.5), p.lon + 0.0045 * ((i / 4) - 1.0)};
        for (const char* t : p.tags) d.tags.emplace_back(t);
        d.metadata = {{"ejer", "Demo Kommune"}, {"installeret", "2026-01-15"}};
        d.device_model_id = model.id;
        d.expected_interval_s = p.interval_s;
        d.created_ms = clock.NowMs();
        std::string key = random.Token(24);
        BYSANS_ASSIGN_OR_RETURN(Device created, store.CreateDevice(d, auth::Sha256Hex(key)));
        out.push_back({created.id, created.name, p.kind, key});
      }
      BYSANS_RETURN_IF_ERROR(SeedDemoRules(store, clock, org->id, app.id, p.kind));
    }
    return out;
  }
  // Existing demo: rotate ingest keys so the simulator can post again.
  BYSANS_ASSIGN_OR_RETURN(auto apps, store.ListApplications(org->id, Page{1000, 0}));
  for (const auto& app : apps.items) {
    const AppPlan* plan = nullptr;
    for (const auto& p : Plans())
      if (app.name == p.name) plan = &p;
    if (!plan) continue;
    DeviceFilter f;
    f.app_id = app.id;
    BYSANS_ASSIGN_OR_RETURN(auto devices, store.ListDevices(f, Page{10000, 0}));
    for (const auto& d : devices.items) {
      if (d.transport != Transport::kHttp) continue;
      std::string key = random.Token(24);
      BYSANS_RETURN_IF_ERROR(store.SetDeviceIngestKey(d.id, auth::Sha256Hex(key)));
      out.push_back({d.id, d.name, plan->kind, key});
    }
  }
  return out;
}

}  // namespace bysans::sim
