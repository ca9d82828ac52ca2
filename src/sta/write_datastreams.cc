#include "sta/write_datastreams.h"

#include <set>
#include <string_view>

namespace bysans::sta {
namespace {

using json = nlohmann::json;

constexpr std::string_view kObsTypeBase = "http://www.opengis.net/def/observationType/OGC-OM/2.0/";

std::string At(const std::string& where, const std::string& member) {
  return where.empty() ? member : where + "." + member;
}

// unitOfMeasurement {name, symbol, definition} -> the unit (symbol, else name; may be empty).
Result<std::string> UnitOf(const json& uom, const std::string& where) {
  const std::string at = At(where, "unitOfMeasurement");
  if (uom.is_null()) return std::string();
  if (!uom.is_object())
    return InvalidArgument(at + " must be an object {name, symbol, definition}");
  std::string name, symbol;
  for (const auto& [m, v] : uom.items()) {
    if (m != "name" && m != "symbol" && m != "definition")
      return InvalidArgument(at + ": unknown member '" + m.substr(0, 64) + "'");
    if (!v.is_null() && !v.is_string()) return InvalidArgument(at + "." + m + " must be a string");
    if (m == "name" && v.is_string()) name = v.get<std::string>();
    if (m == "symbol" && v.is_string()) symbol = v.get<std::string>();
  }
  std::string unit = symbol.empty() ? name : symbol;
  if (unit.size() > kMaxUnitLength)
    return InvalidArgument(at + ": the unit is longer than " + std::to_string(kMaxUnitLength) +
                           " bytes");
  return unit;
}

Status CheckObservationType(const json& v, const std::string& where) {
  const std::string at = At(where, "observationType");
  if (!v.is_string()) return InvalidArgument(at + " must be a string (an OGC-OM 2.0 URI)");
  std::string_view t = v.get_ref<const std::string&>();
  if (t.substr(0, kObsTypeBase.size()) == kObsTypeBase) t.remove_prefix(kObsTypeBase.size());
  if (t == "OM_Observation" || t == "OM_Measurement" || t == "OM_CountObservation" ||
      t == "OM_TruthObservation" || t == "OM_CategoryObservation")
    return Status::Ok();
  return InvalidArgument(at + " '" + v.get<std::string>().substr(0, 120) +
                         "' cannot be stored: bysans keeps numbers (OM_Measurement, "
                         "OM_CountObservation), booleans (OM_TruthObservation) and strings "
                         "(OM_CategoryObservation)");
}

Status CheckKey(const std::string& key, const std::string& at) {
  if (key.empty()) return InvalidArgument(at + " must be a non-empty string (the reading key)");
  if (key.size() > kMaxDatastreamKeyLength)
    return InvalidArgument(at + " is longer than " + std::to_string(kMaxDatastreamKeyLength) +
                           " bytes");
  for (char c : key)
    if (static_cast<unsigned char>(c) < 0x20)
      return InvalidArgument(at + " must not contain control characters");
  return Status::Ok();
}

// ObservedProperty: {"@iot.id": key} or a deep insert {"name": key, definition?, description?}.
Result<std::string> KeyOf(const json& op, const std::string& where) {
  const std::string at = At(where, "ObservedProperty");
  if (!op.is_object()) return InvalidArgument(at + " must be an object");
  if (op.contains("@iot.id")) {
    if (op.size() != 1)
      return InvalidArgument(at + ": a link has only @iot.id (the key, e.g. \"air.no2\")");
    const json& id = op["@iot.id"];
    if (!id.is_string()) return InvalidArgument(at + ".@iot.id must be a string (the key)");
    BYSANS_RETURN_IF_ERROR(CheckKey(id.get<std::string>(), at + ".@iot.id"));
    return id.get<std::string>();
  }
  for (const auto& [m, v] : op.items()) {
    if (m != "name" && m != "definition" && m != "description")
      return InvalidArgument(at + ": '" + m.substr(0, 64) +
                             "' cannot be set (an ObservedProperty is a reading key: name)");
    if (!v.is_string()) return InvalidArgument(at + "." + m + " must be a string");
  }
  if (!op.contains("name"))
    return InvalidArgument(at + ".name is required (the reading key), or link it by @iot.id");
  BYSANS_RETURN_IF_ERROR(CheckKey(op["name"].get<std::string>(), at + ".name"));
  return op["name"].get<std::string>();
}

// A link {"@iot.id": N} to a Thing or Sensor.
Result<int64_t> LinkOf(const json& v, const std::string& at, const std::string& what) {
  if (!v.is_object() || !v.contains("@iot.id"))
    return InvalidArgument(at + ": deep insert of a " + what +
                           " is not supported here; link an existing one by @iot.id");
  if (v.size() != 1 || !v["@iot.id"].is_number_integer() || v["@iot.id"].get<int64_t>() < 0)
    return InvalidArgument(at + " must be {\"@iot.id\": <" + what + " id>}");
  return v["@iot.id"].get<int64_t>();
}

}  // namespace

Result<DatastreamWrite> ParseDatastream(const json& body, const std::string& where, bool in_thing) {
  if (!body.is_object())
    return InvalidArgument((where.empty() ? "the body" : where) +
                           " must be a JSON object (a Datastream)");
  DatastreamWrite out;
  bool has_key = false;
  for (const auto& [m, v] : body.items()) {
    const std::string at = At(where, m.substr(0, 64));
    if (m == "name" || m == "description") {
      if (!v.is_string()) return InvalidArgument(at + " must be a string");
    } else if (m == "unitOfMeasurement") {
      BYSANS_ASSIGN_OR_RETURN(out.unit, UnitOf(v, where));
    } else if (m == "observationType") {
      BYSANS_RETURN_IF_ERROR(CheckObservationType(v, where));
    } else if (m == "ObservedProperty") {
      BYSANS_ASSIGN_OR_RETURN(out.key, KeyOf(v, where));
      has_key = true;
    } else if (m == "Thing" && !in_thing) {
      BYSANS_ASSIGN_OR_RETURN(out.thing_id, LinkOf(v, at, "Thing"));
    } else if (m == "Sensor") {
      if (v.is_object() && !v.contains("@iot.id"))
        return InvalidArgument(at +
                               ": deep insert of a Sensor is not supported: a Datastream's Sensor "
                               "is its Thing's device model (or the unknown Sensor 0); link it "
                               "by @iot.id or leave it out");
      BYSANS_ASSIGN_OR_RETURN(out.sensor_id, LinkOf(v, at, "Sensor"));
    } else if (m == "Observations") {
      return InvalidArgument(at +
                             ": deep insert of Observations is not supported; POST them to "
                             "Datastreams(N)/Observations once the Datastream exists");
    } else {
      return InvalidArgument("'" + at +
                             "' cannot be set on a Datastream (bysans keeps its Thing, "
                             "ObservedProperty and unitOfMeasurement)");
    }
  }
  if (!has_key)
    return InvalidArgument(At(where, "ObservedProperty") +
                           " is required: {\"@iot.id\": \"<key>\"} or {\"name\": \"<key>\"}");
  return out;
}

Result<std::vector<DatastreamWrite>> ParseThingDatastreams(const json& list) {
  if (!list.is_array()) return InvalidArgument("Datastreams must be an array of Datastreams");
  std::vector<DatastreamWrite> out;
  std::set<std::string> keys;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = "Datastreams[" + std::to_string(i) + "]";
    BYSANS_ASSIGN_OR_RETURN(DatastreamWrite w, ParseDatastream(list[i], where, true));
    if (!keys.insert(w.key).second)
      return InvalidArgument(where + ": a second Datastream of the key '" + w.key.substr(0, 64) +
                             "' (a Thing has one Datastream per ObservedProperty)");
    out.push_back(std::move(w));
  }
  return out;
}

Result<std::string> ParseDatastreamPatch(const json& body) {
  if (!body.is_object()) return InvalidArgument("the body must be a JSON object (a Datastream)");
  for (const auto& [m, v] : body.items()) {
    if (m == "unitOfMeasurement") continue;
    return InvalidArgument("'" + m.substr(0, 64) +
                           "' cannot be changed: bysans keeps only a Datastream's "
                           "unitOfMeasurement (its name, description and observationType are "
                           "derived; its Thing, ObservedProperty and Sensor are its series' "
                           "device, key and device model)");
  }
  if (!body.contains("unitOfMeasurement"))
    return InvalidArgument("nothing to change: a Datastream's unitOfMeasurement can be patched");
  return UnitOf(body["unitOfMeasurement"], "");
}

}  // namespace bysans::sta
