#include "sim/demo.h"

#include <nlohmann/json.hpp>

#include "auth/auth.h"
#include "sim/demo_gateways.h"
#include "store/decoder_store.h"
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

// The LoRaWAN part of an application: its first `count` devices are this vendor's device,
// reached through a (simulated) ChirpStack application, decoded by the shipped decoder.
struct LoraPlan {
  int count;
  DemoCodec codec;
  const char* brand;
  const char* model_name;
  std::vector<const char*> properties;
  const char* eui_prefix;  // 10 hex characters: the vendor's OUI-based range
  const char* chirpstack_app_id;
};

const LoraPlan& LoraPlanFor(DemoKind kind) {
  static const LoraPlan kFall = {3,
                                 DemoCodec::kMilesightWs101,
                                 "Milesight",
                                 "WS101 SOS-knap",
                                 {"buttonPressed", "batteryLevel"},
                                 "24e1241d2e",
                                 "6f0d3a1e-5b2c-4e8a-9a41-0c1d2e3f4a01"};
  static const LoraPlan kRoom = {
      6,
      DemoCodec::kElsysErsCo2,
      "Elsys",
      "ERS CO2",
      {"temperature", "relativeHumidity", "co2", "illuminance", "motion"},
      "a81758fffe",
      "6f0d3a1e-5b2c-4e8a-9a41-0c1d2e3f4a02"};
  static const LoraPlan kBin = {6,
                                DemoCodec::kDecentlabMbx,
                                "Decentlab",
                                "DL-MBX",
                                {"distance", "batteryLevel"},
                                "70b3d57ba0",
                                "6f0d3a1e-5b2c-4e8a-9a41-0c1d2e3f4a03"};
  static const LoraPlan kAir = {
      2,
      DemoCodec::kDecentlabPm,
      "Decentlab",
      "DL-PM",
      {"pm1", "pm25", "pm10", "temperature", "relativeHumidity", "atmosphericPressure"},
      "70b3d57ba1",
      "6f0d3a1e-5b2c-4e8a-9a41-0c1d2e3f4a04"};
  switch (kind) {
    case DemoKind::kFallSensor:
      return kFall;
    case DemoKind::kRoomClimate:
      return kRoom;
    case DemoKind::kWasteBin:
      return kBin;
    case DemoKind::kAirQuality:
      break;
  }
  return kAir;
}

// A demo DevEUI: the vendor range, "de" and the device number.
std::string DemoDevEui(const LoraPlan& lp, int i) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%sde%04x", lp.eui_prefix, static_cast<unsigned>(i) & 0xffff);
  return buf;
}

nlohmann::json RoomClimateRanges() {
  return {{"temperature", {{"min", 5}, {"max", 40}, {"unit", "°C"}, {"maxRatePerS", 0.05}}},
          {"humidity", {{"min", 0}, {"max", 100}, {"unit", "%"}}},
          {"co2", {{"min", 300}, {"max", 5000}, {"unit", "ppm"}, {"maxRatePerS", 5}}}};
}

std::string LoraModelDoc(const LoraPlan& lp, DemoKind kind) {
  nlohmann::json doc = {{"type", "DeviceModel"},
                        {"name", std::string(lp.brand) + " " + lp.model_name},
                        {"modelName", lp.model_name},
                        {"brandName", lp.brand},
                        {"manufacturerName", lp.brand},
                        {"category", {"sensor"}},
                        {"controlledProperty", lp.properties},
                        {"supportedProtocol", {"lorawan"}}};
  if (kind == DemoKind::kRoomClimate) doc["x-bysans-ranges"] = RoomClimateRanges();
  return doc.dump();
}

std::string DeviceModelDoc(const AppPlan& p) {
  nlohmann::json doc = {{"type", "DeviceModel"},
                        {"name", p.model_name},
                        {"modelName", p.model_name},
                        {"brandName", p.brand},
                        {"manufacturerName", p.brand},
                        {"category", {"sensor"}},
                        {"controlledProperty", p.properties}};
  if (p.kind == DemoKind::kRoomClimate)  // valid ranges for quality flags (quality/README.md)
    doc["x-bysans-ranges"] = RoomClimateRanges();
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
      // A fall never vanishes by itself: when the sensor's next message says "no fall" the
      // alarm clears but stays open, "cleared, not acknowledged", until a person acknowledges
      // it (rules/alarm.h).
      rules.push_back({{"name", "Fald registreret"},
                       {"severity", "critical"},
                       {"expression", "fall == true"},
                       {"clearExpression", "fall == false"},
                       {"requireAcknowledge", true}});
      rules.push_back({{"name", "Alarmknap trykket (WS101)"},
                       {"severity", "critical"},
                       {"expression", "button_code >= 1"},
                       {"requireAcknowledge", true}});
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
      rules.push_back({{"name", "Affaldsbeholder over 80 % (DL-MBX, afstand under 290 mm)"},
                       {"severity", "info"},
                       {"expression", "distance < 290"}});
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
      Application spec{0, org->id, p.name, p.description, clock.NowMs()};
      // Fall sensors sit in citizens' homes: health data, never open data (GDPR).
      if (p.kind == DemoKind::kFallSensor) spec.data_class = DataClass::kSensitive;
      BYSANS_ASSIGN_OR_RETURN(Application app, store.CreateApplication(spec));
      BYSANS_ASSIGN_OR_RETURN(
          DeviceModel model,
          store.CreateDeviceModel({0, org->id, p.model_name, DeviceModelDoc(p), clock.NowMs()}));
      // The LoRaWAN devices' model and shipped decoder (absent when not embedded: all HTTP).
      const LoraPlan& lp = LoraPlanFor(p.kind);
      std::string_view code = ShippedDecoderSource(CodecDecoderFile(lp.codec));
      Id lora_model = 0, lora_decoder = 0;
      if (!code.empty()) {
        BYSANS_ASSIGN_OR_RETURN(
            DeviceModel m,
            store.CreateDeviceModel({0, org->id, std::string(lp.brand) + " " + lp.model_name,
                                     LoraModelDoc(lp, p.kind), clock.NowMs()}));
        lora_model = m.id;
        StoredDecoder dec;
        dec.org_id = org->id;
        dec.name = std::string(CodecDisplayName(lp.codec)) + " (decoders/" +
                   CodecDecoderFile(lp.codec) + ")";
        dec.code = std::string(code);
        BYSANS_ASSIGN_OR_RETURN(dec,
                                store.decoders().CreateDecoder(dec, admin_user_id, clock.NowMs()));
        lora_decoder = dec.id;
      }
      for (int i = 1; i <= p.count; ++i) {
        const bool lora = lora_decoder != 0 && i <= lp.count;
        Device d;
        d.org_id = org->id;
        d.app_id = app.id;
        char name[128];
        std::snprintf(name, sizeof name, p.name_pattern, i);
        d.name = name;
        d.transport = Transport::kHttp;
        // Spread devices on a small grid around the centre (~300 m steps).
        d.location = Location{p.lat + 0.0027 * ((i % 4) - 1.5),
                              p.lon + 0.0045 * (static_cast<double>(i / 4) - 1.0)};
        for (const char* t : p.tags) d.tags.emplace_back(t);
        d.metadata = {{"ejer", "Demo Kommune"}, {"installeret", "2026-01-15"}};
        d.device_model_id = model.id;
        d.expected_interval_s = p.interval_s;
        d.created_ms = clock.NowMs();
        if (lora) {
          d.transport = Transport::kLorawan;
          d.dev_eui = DemoDevEui(lp, i);
          d.device_model_id = lora_model;
          BYSANS_ASSIGN_OR_RETURN(Device created, store.CreateDevice(d, ""));
          BYSANS_RETURN_IF_ERROR(store.decoders().SetDeviceDecoder(created.id, lora_decoder));
          out.push_back({created.id, created.name, p.kind, "", lp.codec, created.dev_eui,
                         lp.chirpstack_app_id, p.name});
          continue;
        }
        std::string key = random.Token(24);
        BYSANS_ASSIGN_OR_RETURN(Device created, store.CreateDevice(d, auth::Sha256Hex(key)));
        out.push_back({created.id, created.name, p.kind, key, DemoCodec::kJson, "", "", p.name});
      }
      BYSANS_RETURN_IF_ERROR(SeedDemoRules(store, clock, org->id, app.id, p.kind));
    }
    BYSANS_RETURN_IF_ERROR(SeedDemoGatewayHistory(store.gateways(), org->id, clock.NowMs()));
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
    const LoraPlan& lp = LoraPlanFor(plan->kind);
    for (const auto& d : devices.items) {
      if (d.transport == Transport::kLorawan && !d.dev_eui.empty()) {
        out.push_back(
            {d.id, d.name, plan->kind, "", lp.codec, d.dev_eui, lp.chirpstack_app_id, app.name});
        continue;
      }
      if (d.transport != Transport::kHttp) continue;
      std::string key = random.Token(24);
      BYSANS_RETURN_IF_ERROR(store.SetDeviceIngestKey(d.id, auth::Sha256Hex(key)));
      out.push_back({d.id, d.name, plan->kind, key, DemoCodec::kJson, "", "", app.name});
    }
  }
  return out;
}

}  // namespace bysans::sim
