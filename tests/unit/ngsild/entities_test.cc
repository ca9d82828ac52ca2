#include "ngsild/entities.h"

#include <gtest/gtest.h>

#include <regex>

namespace bysans::ngsild {
namespace {

using nlohmann::json;

constexpr TimeMs kTs = 1'788'390'574'123;  // 2026-09-02T23:09:34.123Z

// Required attributes of each model, from its published schema.json (smart-data-models).
const std::map<std::string, std::vector<std::string>>& Required() {
  static const std::map<std::string, std::vector<std::string>> kRequired = {
      {"AirQualityObserved", {"id", "type", "dateObserved", "location"}},
      {"IndoorEnvironmentObserved", {"id", "type", "dateObserved", "location"}},
      {"WeatherObserved", {"id", "type", "dateObserved", "location"}},
      {"WasteContainer", {"id", "type", "location"}},
      {"WaterConsumptionObserved", {"id", "type"}},
      {"DeviceMeasurement", {"id", "type"}}};
  return kRequired;
}

class EntitiesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Catalogue::Embedded();
    ASSERT_TRUE(c.ok()) << c.status().message();
    catalogue_ = std::make_unique<Catalogue>(std::move(c).value());
    in_.device.id = 42;
    in_.device.org_id = 7;
    in_.device.name = "Klasselokale 1";
    in_.device.location = Location{56.1702, 10.1995};
  }

  // The decoder's output (a flat object, as the shipped decoders return) as readings, in order.
  void Readings(const nlohmann::ordered_json& decoded, TimeMs ts = kTs) {
    for (const auto& [k, v] : decoded.items()) {
      Reading r;
      r.device_id = in_.device.id;
      r.key = k;
      r.ts = ts;
      if (v.is_number()) r.value = v.get<double>();
      if (v.is_string()) r.value = v.get<std::string>();
      if (v.is_boolean()) r.value = v.get<bool>();
      in_.readings.push_back(r);
    }
  }

  json Build(const BuildOptions& options = {}) {
    auto r = BuildEntities(in_, *catalogue_, options);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : json::array();
  }

  // The one entity of `type` in `entities`, after checking every entity's shape and required
  // attributes.
  static json Only(const json& entities, const std::string& type) {
    EXPECT_TRUE(CheckEntities(entities).ok()) << CheckEntities(entities).message();
    json found;
    for (const auto& e : entities) {
      for (const auto& r : Required().at(e["type"].get<std::string>())) {
        EXPECT_TRUE(e.contains(r)) << e["type"] << " lacks " << r;
      }
      if (e["type"] == type) {
        EXPECT_TRUE(found.is_null()) << "two " << type;
        found = e;
      }
    }
    EXPECT_FALSE(found.is_null()) << "no " << type << " in " << entities.dump();
    return found;
  }

  static std::vector<std::string> Types(const json& entities) {
    std::vector<std::string> out;
    for (const auto& e : entities) out.push_back(e["type"]);
    return out;
  }

  BuildInput in_;
  std::unique_ptr<Catalogue> catalogue_;
};

TEST_F(EntitiesTest, ElsysRoomSensorIsAnIndoorEnvironment) {
  Readings({{"temperature", 22.6}, {"humidity", 41}, {"light", 39}, {"motion", 6}, {"co2", 776}});
  json all = Build();
  json e = Only(all, "IndoorEnvironmentObserved");
  EXPECT_EQ(e["id"], "urn:ngsi-ld:IndoorEnvironmentObserved:bysans-7-42");
  EXPECT_EQ(e["temperature"]["value"], 22.6);
  EXPECT_EQ(e["temperature"]["unitCode"], "CEL");
  EXPECT_EQ(e["relativeHumidity"]["value"], 0.41);  // 0..1, not %
  EXPECT_EQ(e["relativeHumidity"]["unitCode"], "C62");
  EXPECT_EQ(e["illuminance"]["value"], 39);
  EXPECT_EQ(e["illuminance"]["unitCode"], "LUX");
  EXPECT_EQ(e["co2"]["unitCode"], "59");
  EXPECT_EQ(e["dateObserved"]["value"], "2026-09-02T23:09:34.123Z");
  EXPECT_EQ(e["location"]["type"], "GeoProperty");
  EXPECT_EQ(e["location"]["value"]["coordinates"], json::array({10.1995, 56.1702}));  // lon, lat
  EXPECT_EQ(e["refDevice"]["type"], "Relationship");
  EXPECT_EQ(e["refDevice"]["object"], "urn:ngsi-ld:Device:bysans-7-42");
  EXPECT_EQ(e["@context"][0],
            "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/"
            "context.jsonld");
  // motion has no attribute in the model: its own DeviceMeasurement, nothing lost.
  json m = Only(all, "DeviceMeasurement");
  EXPECT_EQ(m["id"], "urn:ngsi-ld:DeviceMeasurement:bysans-7-42-motion");
  EXPECT_EQ(m["controlledProperty"]["value"], "motion");
  EXPECT_EQ(m["numValue"]["value"], 6);
  EXPECT_EQ(Types(Build({.unmapped_as_measurements = false})),
            std::vector<std::string>{"IndoorEnvironmentObserved"});
}

TEST_F(EntitiesTest, DecentlabPmIsAirQualityWithConvertedPressure) {
  Readings({{"air_humidity", 41.63221740722656},
            {"air_temperature", 24.35660461425781},
            {"barometric_pressure", 96800},
            {"battery_voltage", 3.109},
            {"device_id", 6992},
            {"pm10_mass_concentration", 3.9},
            {"pm1_0_mass_concentration", 3.7},
            {"pm2_5_mass_concentration", 3.9},
            {"pm4_mass_concentration", 3.9},
            {"protocol_version", 2}});
  json e = Only(Build(), "AirQualityObserved");
  EXPECT_EQ(e["pm10"]["value"], 3.9);
  EXPECT_EQ(e["pm10"]["unitCode"], "GQ");
  EXPECT_EQ(e["pm25"]["value"], 3.9);
  EXPECT_EQ(e["pm1"]["value"], 3.7);
  EXPECT_EQ(e["pm4"]["value"], 3.9);
  EXPECT_EQ(e["pressure"]["value"], 968);  // Pa -> hPa
  EXPECT_EQ(e["pressure"]["unitCode"], "A97");
  EXPECT_NEAR(e["relativeHumidity"]["value"].get<double>(), 0.4163221740722656, 1e-9);
  EXPECT_EQ(e["temperature"]["unitCode"], "CEL");
}

TEST_F(EntitiesTest, SimulatedAirStationUsesDottedKeys) {
  Readings({{"air.no2", 31.5},
            {"air.pm25", 8.1},
            {"air.pm10", 14},
            {"temperature", 3.2},
            {"humidity", 88}});
  json e = Only(Build(), "AirQualityObserved");
  EXPECT_EQ(e["no2"]["value"], 31.5);
  EXPECT_EQ(e["no2"]["unitCode"], "GQ");
  EXPECT_EQ(e["relativeHumidity"]["value"], 0.88);
}

TEST_F(EntitiesTest, UltrasonicBinLevelNeedsTheBinDepth) {
  Readings({{"battery_voltage", 2.993},
            {"device_id", 303},
            {"distance", 1234},
            {"number_of_valid_samples", 1},
            {"protocol_version", 2}});
  // Without a depth the fill level cannot be had: every reading as a DeviceMeasurement.
  for (const auto& type : Types(Build())) EXPECT_EQ(type, "DeviceMeasurement");
  in_.device.metadata["binDepthMm"] = "1500";
  json e = Only(Build(), "WasteContainer");
  EXPECT_NEAR(e["fillingLevel"]["value"].get<double>(), 1 - 1234.0 / 1500, 1e-9);
  EXPECT_EQ(e["fillingLevel"]["unitCode"], "C62");
  EXPECT_FALSE(e.contains("dateObserved"));  // not an attribute of WasteContainer
  EXPECT_EQ(e["fillingLevel"]["observedAt"], "2026-09-02T23:09:34.123Z");
}

TEST_F(EntitiesTest, FillLevelInPercentIsAFraction) {
  Readings({{"fillLevel", 80}, {"distanceMm", 290}, {"temperature", 6.5}, {"battery", 97}});
  json e = Only(Build(), "WasteContainer");
  EXPECT_EQ(e["fillingLevel"]["value"], 0.8);
  EXPECT_EQ(e["temperature"]["value"], 6.5);
}

TEST_F(EntitiesTest, AxiomaWaterMeterIsWaterConsumptionEvenWithoutLocation) {
  in_.device.location.reset();
  Readings({{"frame_version", 1},
            {"status", 0},
            {"log_volume_m3", 5.938},
            {"delta_1_m3", 0},
            {"history_count", 23},
            {"current_volume_m3", 6.054}});
  json all = Build();
  json e = Only(all, "WaterConsumptionObserved");
  EXPECT_EQ(e["waterConsumption"]["value"], 6.054);
  EXPECT_EQ(e["waterConsumption"]["unitCode"], "MTQ");
  EXPECT_FALSE(e.contains("location"));
}

TEST_F(EntitiesTest, OnlyConvertedValuesAreRounded) {
  Readings({{"current_volume_m3", 123456.78901234567}, {"volume_l", 1}}, 0);  // at the epoch
  json e = Only(Build(), "WaterConsumptionObserved");
  EXPECT_EQ(e["waterConsumption"]["value"], 123456.78901234567);
  EXPECT_EQ(e["waterConsumption"]["observedAt"], "1970-01-01T00:00:00.000Z");
  in_.readings.clear();
  Readings({{"volume_l", 1234.5678}});
  EXPECT_EQ(Only(Build(), "WaterConsumptionObserved")["waterConsumption"]["value"], 1.2345678);
}

TEST_F(EntitiesTest, WeatherStation) {
  Readings({{"temperature", -1.5},
            {"humidity", 93},
            {"windSpeed", 7.2},
            {"windDirection", 250},
            {"precipitation", 0.4}});
  json e = Only(Build(), "WeatherObserved");
  EXPECT_EQ(e["windSpeed"]["unitCode"], "MTS");
  EXPECT_EQ(e["windDirection"]["unitCode"], "DD");
  EXPECT_EQ(e["relativeHumidity"]["value"], 0.93);
}

TEST_F(EntitiesTest, AirQualityNeedsALocation) {
  in_.device.location.reset();
  Readings({{"pm10_mass_concentration", 3.9}, {"pm2_5_mass_concentration", 3.9}});
  for (const auto& type : Types(Build())) EXPECT_EQ(type, "DeviceMeasurement");
}

TEST_F(EntitiesTest, UnknownKeysFallBackToDeviceMeasurement) {
  Readings({{"button", "short"}, {"battery", 80}, {"armed", true}});
  in_.readings[1].unit = "%";
  json all = Build();
  ASSERT_EQ(all.size(), 3u);
  for (const auto& e : all) {
    EXPECT_EQ(e["type"], "DeviceMeasurement");
    EXPECT_EQ(e["refDevice"]["object"], "urn:ngsi-ld:Device:bysans-7-42");
    EXPECT_EQ(e["dateObserved"]["value"], "2026-09-02T23:09:34.123Z");
  }
  EXPECT_EQ(all[0]["textValue"]["value"], "short");
  EXPECT_EQ(all[1]["numValue"]["value"], 80);
  EXPECT_EQ(all[1]["numValue"]["unitCode"], "P1");
  EXPECT_EQ(all[1]["unit"]["value"], "P1");
  EXPECT_EQ(all[2]["textValue"]["value"], "true");
  EXPECT_TRUE(CheckEntities(all).ok());
}

TEST_F(EntitiesTest, OneTemperatureAloneIsNotEnoughForAModel) {
  Readings({{"temperature", 23.4}, {"battery", 80}});  // Sensative Strips
  EXPECT_EQ(Types(Build()), (std::vector<std::string>{"DeviceMeasurement", "DeviceMeasurement"}));
}

TEST_F(EntitiesTest, DeviceModelChoosesTheModel) {
  Readings({{"temperature", 21.0}, {"humidity", 40}});
  EXPECT_EQ(ChooseModel(in_, *catalogue_).type, "IndoorEnvironmentObserved");  // a tie: priority
  in_.device.model_doc_json = R"({"type":"DeviceModel","x-ngsi-ld-type":"WeatherObserved"})";
  EXPECT_EQ(ChooseModel(in_, *catalogue_).type, "WeatherObserved");
  Only(Build(), "WeatherObserved");
  in_.device.model_doc_json =
      R"({"type":"DeviceModel","category":["sensor"],"controlledProperty":["airPollution","temperature"]})";
  EXPECT_EQ(ChooseModel(in_, *catalogue_).type, "AirQualityObserved");
  in_.device.model_doc_json =
      R"({"type":"DeviceModel","controlledProperty":["fillingLevel","temperature"]})";
  EXPECT_EQ(ChooseModel(in_, *catalogue_).type, "WasteContainer");
}

TEST_F(EntitiesTest, FlaggedReadingsAreSentAndMarked) {
  Readings({{"temperature", 85.0}, {"humidity", 41}, {"co2", 776}, {"motion", 1}});
  in_.readings[0].quality = Quality::kOutOfRange;
  in_.readings[3].quality = Quality::kStuck;
  json all = Build();
  json e = Only(all, "IndoorEnvironmentObserved");
  EXPECT_EQ(e["temperature"]["value"], 85.0);
  EXPECT_EQ(e["temperature"]["quality"]["type"], "Property");
  EXPECT_EQ(e["temperature"]["quality"]["value"], "out_of_range");
  EXPECT_FALSE(e["co2"].contains("quality"));
  json m = Only(all, "DeviceMeasurement");
  EXPECT_EQ(m["numValue"]["quality"]["value"], "stuck");
  EXPECT_EQ(m["outlier"]["value"], true);
}

TEST_F(EntitiesTest, EveryPropertyIsObservedAtInRfc3339UtcWithMilliseconds) {
  Readings({{"temperature", 22.6}, {"humidity", 41}, {"co2", 776}, {"motion", 6}});
  in_.readings[2].ts = kTs + 5'000;
  const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  for (const auto& e : Build()) {
    for (const auto& [name, attr] : e.items()) {
      if (!attr.is_object() || attr.value("type", "") != "Property") continue;
      ASSERT_TRUE(attr.contains("observedAt")) << name;
      EXPECT_TRUE(std::regex_match(attr["observedAt"].get<std::string>(), rfc3339)) << name;
    }
  }
  json e = Only(Build(), "IndoorEnvironmentObserved");
  EXPECT_EQ(e["co2"]["observedAt"], "2026-09-02T23:09:39.123Z");
  EXPECT_EQ(e["dateObserved"]["value"], "2026-09-02T23:09:39.123Z");  // the newest reading
}

TEST_F(EntitiesTest, DeviceInfoOfAStoredDevice) {
  Device d;
  d.id = 5;
  d.org_id = 2;
  d.location = Location{1, 2};
  d.metadata["binDepthMm"] = "900";
  DeviceModel model;
  model.doc_json = R"({"type":"DeviceModel","x-ngsi-ld-type":"WasteContainer"})";
  in_.device = DeviceInfoOf(d, &model);
  EXPECT_EQ(in_.device.metadata.at("binDepthMm"), "900");
  Readings({{"distance", 450}});
  json e = Only(Build(), "WasteContainer");
  EXPECT_EQ(e["id"], "urn:ngsi-ld:WasteContainer:bysans-2-5");
  EXPECT_EQ(e["fillingLevel"]["value"], 0.5);
  EXPECT_TRUE(DeviceInfoOf(d, nullptr).model_doc_json.empty());
}

TEST_F(EntitiesTest, IdsAreStable) {
  EXPECT_EQ(EntityId("WasteContainer", 3, 17), "urn:ngsi-ld:WasteContainer:bysans-3-17");
  Readings({{"temperature", 22.6}, {"humidity", 41}, {"co2", 776}, {"a b/c", 1}});
  json first = Build();
  EXPECT_EQ(first, Build());
  EXPECT_EQ(first[1]["id"], "urn:ngsi-ld:DeviceMeasurement:bysans-7-42-a%20b%2Fc");
}

TEST_F(EntitiesTest, TheLatestReadingOfAKeyWins) {
  Readings({{"temperature", 20.0}, {"humidity", 40}, {"co2", 700}});
  Readings({{"temperature", 21.0}}, kTs + 60'000);
  Readings({{"temperature", 19.0}}, kTs - 60'000);
  json e = Only(Build(), "IndoorEnvironmentObserved");
  EXPECT_EQ(e["temperature"]["value"], 21.0);
}

TEST_F(EntitiesTest, DecoderMadeEntitiesPassThroughUnchanged) {
  json entity = {
      {"id", "urn:ngsi-ld:AirQualityObserved:os2iot-1"},
      {"type", "AirQualityObserved"},
      {"no2", {{"type", "Property"}, {"value", 22}, {"unitCode", "GQ"}}},
      {"location",
       {{"type", "GeoProperty"}, {"value", {{"type", "Point"}, {"coordinates", {10.2, 56.1}}}}}},
      {"refDevice", {{"type", "Relationship"}, {"object", "urn:ngsi-ld:Device:x"}}},
      {"@context", {"https://smartdatamodels.org/context.jsonld"}}};
  Readings({{"no2", 22}});
  in_.decoded = entity;
  EXPECT_EQ(Build(), json::array({entity}));
  in_.decoded = json::array({entity, entity});
  EXPECT_EQ(Build(), in_.decoded);
}

TEST_F(EntitiesTest, MalformedDecoderEntitiesAreRefused) {
  const json good = {
      {"id", "urn:ngsi-ld:X:1"}, {"type", "X"}, {"a", {{"type", "Property"}, {"value", 1}}}};
  auto refused = [&](json e) {
    in_.decoded = std::move(e);
    return !BuildEntities(in_, *catalogue_).ok();
  };
  EXPECT_FALSE(refused(good));
  json e = good;
  e["id"] = "not a uri";
  EXPECT_TRUE(refused(e));
  e = good;
  e["id"] = 5;
  EXPECT_TRUE(refused(e));
  e = good;
  e["a"] = 5;  // not an attribute
  EXPECT_TRUE(refused(e));
  e = good;
  e["a"] = {{"type", "Property"}};  // no value
  EXPECT_TRUE(refused(e));
  e = good;
  e["a"] = {{"type", "Relationship"}, {"object", "nope"}};
  EXPECT_TRUE(refused(e));
  e = good;
  e["a"] = {{"type", "GeoProperty"}, {"value", "here"}};
  EXPECT_TRUE(refused(e));
  e = good;
  e["a"] = {{"type", "Magic"}, {"value", 1}};
  EXPECT_TRUE(refused(e));
  e = good;
  e["bad name"] = {{"type", "Property"}, {"value", 1}};
  EXPECT_TRUE(refused(e));
  EXPECT_TRUE(refused(json::array({good, 7})));
  EXPECT_TRUE(refused(json::array({good, {{"id", "urn:x:2"}}})));
  // A payload that is no entity at all is mapped from the readings instead.
  in_.decoded = {{"temperature", 22.6}};
  EXPECT_TRUE(BuildEntities(in_, *catalogue_).ok());
}

TEST(CatalogueTest, EmbeddedModelsAreComplete) {
  auto c = Catalogue::Embedded();
  ASSERT_TRUE(c.ok()) << c.status().message();
  for (const auto& [type, required] : Required()) {
    const ModelSpec* m = c->Find(type);
    ASSERT_NE(m, nullptr) << type;
    EXPECT_EQ(m->required, required) << type;
  }
  EXPECT_EQ(c->fallback().type, "DeviceMeasurement");
}

TEST(CatalogueTest, RefusesABrokenModelFile) {
  auto units = R"({"units":[{"code":"CEL","quantity":"t","symbols":["°C"]}]})";
  auto fallback = R"({"type":"DeviceMeasurement","context":"c","fallback":true})";
  EXPECT_TRUE(Catalogue::FromTexts({fallback}, units).ok());
  EXPECT_FALSE(Catalogue::FromTexts({}, units).ok());  // no fallback
  EXPECT_FALSE(
      Catalogue::FromTexts(
          {fallback, R"({"type":"T","context":"c","attributes":[{"name":"x","unit":"K"}]})"},
          units)
          .ok());  // unknown unit
  EXPECT_FALSE(Catalogue::FromTexts({fallback, "{"}, units).ok());
}

}  // namespace
}  // namespace bysans::ngsild
