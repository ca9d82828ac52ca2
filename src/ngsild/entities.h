// NGSI-LD entities from what bysans knows of one message: the device, its readings and the
// decoded payload. The Smart Data Model comes from the catalogue's data files (catalogue.h);
// README.md describes the choice of model, the mapping and the marking of flagged readings.
// Pure functions: thread-safe.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "ngsild/catalogue.h"

namespace bysans::ngsild {

struct DeviceInfo {
  Id id = 0;
  Id org_id = 0;
  std::string name;
  std::string dev_eui;
  std::optional<Location> location;
  std::string model_doc_json;  // the device model's FIWARE DeviceModel document, "" = none
  std::vector<std::string> tags;
  std::map<std::string, std::string> metadata;
};

// The DeviceInfo of a stored device and its device model (nullptr when it has none).
DeviceInfo DeviceInfoOf(const Device& device, const DeviceModel* model);

struct BuildInput {
  DeviceInfo device;
  std::vector<Reading> readings;
  nlohmann::json decoded;  // the decoder's output; null when none
};

struct BuildOptions {
  // Readings the chosen model has no attribute for are sent as DeviceMeasurement entities
  // (nothing is lost); false drops them.
  bool unmapped_as_measurements = true;
};

// The array of entities for one message: the decoded payload itself when it already is an
// NGSI-LD entity or array of entities (checked by CheckEntities: a malformed one is
// InvalidArgument, never sent), else entities of the chosen Smart Data Model. Each built
// entity carries its "@context" (the model's and the core context); the client moves it to a
// Link header when the target wants one. An empty array when there is nothing to send.
Result<nlohmann::json> BuildEntities(const BuildInput& input, const Catalogue& catalogue,
                                     const BuildOptions& options = {});

// The model for this device and readings (README.md: x-ngsi-ld-type, then the DeviceModel's
// controlledProperty/category, then the reading keys, else the fallback).
const ModelSpec& ChooseModel(const BuildInput& input, const Catalogue& catalogue);

// "urn:ngsi-ld:<type>:bysans-<org>-<device>" (stable: ids are never reused).
std::string EntityId(std::string_view type, Id org_id, Id device_id);

// True when `doc` looks like NGSI-LD entities (an object, or an array of objects, with "id"
// and "type"), i.e. a decoder made them.
bool LooksLikeEntities(const nlohmann::json& doc);
// Ok when `doc` (an entity or an array of them) has the shape of the upsert's entities:
// URI ids, types, attribute names without forbidden characters, each attribute a Property
// (value), Relationship (object), GeoProperty (GeoJSON value) or another NGSI-LD attribute
// type with its member. InvalidArgument naming the entity and attribute otherwise.
Status CheckEntities(const nlohmann::json& doc);

}  // namespace bysans::ngsild
