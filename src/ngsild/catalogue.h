// The Smart Data Models bysans maps readings to, read from data files (models/*.json, embedded
// at build time; README.md describes their format): per model its NGSI-LD type, @context, the
// required attributes of its published schema, and which reading keys (with their default
// units and conversions) fill which attribute. Immutable after construction: thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ngsild/units.h"

namespace bysans::ngsild {

// The NGSI-LD core context, listed after a model's own in an entity's "@context".
inline constexpr const char* kCoreContext =
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld";
// The Smart Data Models context covering every model: the one Link context when entities of
// several models share a request.
inline constexpr const char* kSmartDataModelsContext = "https://smartdatamodels.org/context.jsonld";

// One reading key that fills an attribute.
struct KeyRule {
  std::string key;   // matched case-insensitively, against the whole key or its last segment
  std::string unit;  // the reading's unit when it carries none ("" = the attribute's unit)
  // Fill level from a distance to the surface (ultrasonic bin sensors): 1 - distance / depth,
  // with the depth from the first of `depth_names` found in the device's metadata or its
  // device model document, in `depth_unit`. Without a depth the key is not used.
  bool fill_from_distance = false;
  std::vector<std::string> depth_names;
  std::string depth_unit;
};

struct AttributeRule {
  std::string name;  // the NGSI-LD attribute
  std::string unit;  // the unit the model expects ("" = none)
  std::optional<double> min, max;
  bool indicative = false;    // a reading of it points to this model (not only shared ones)
  std::vector<KeyRule> keys;  // in order of preference
};

struct ModelSpec {
  std::string type;
  std::string context;
  std::vector<std::string> required;             // from the model's schema.json
  std::string date_attribute;                    // e.g. "dateObserved"; "" = none
  int priority = 0;                              // lower wins a tie
  bool fallback = false;                         // DeviceMeasurement: one entity per reading
  std::vector<std::string> controlled_property;  // DeviceModel words pointing to this model
  std::vector<AttributeRule> attributes;

  // The attribute a reading key or DeviceModel word maps to, nullptr when none.
  const AttributeRule* AttributeOf(std::string_view key) const;
};

// True when `rule` matches `key`: case-insensitive, the whole key or its last dotted segment.
bool KeyMatches(std::string_view rule, std::string_view key);

class Catalogue {
 public:
  // The models and units compiled into bysans.
  static Result<Catalogue> Embedded();
  // From the texts of model files and of the unit table. InvalidArgument naming the file.
  static Result<Catalogue> FromTexts(const std::vector<std::string_view>& models,
                                     std::string_view units);

  const ModelSpec* Find(std::string_view type) const;  // nullptr when unknown
  const ModelSpec& fallback() const { return models_[fallback_]; }
  const std::vector<ModelSpec>& models() const { return models_; }
  const UnitTable& units() const { return units_; }

 private:
  std::vector<ModelSpec> models_;
  size_t fallback_ = 0;
  UnitTable units_;
};

}  // namespace bysans::ngsild
