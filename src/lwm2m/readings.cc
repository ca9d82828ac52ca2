#include "lwm2m/readings.h"

#include <charconv>

#include "ingest/senml.h"
#include "ingest/senml_cbor.h"

namespace bysans::lwm2m {
namespace {

struct Known {
  int object;
  int resource;
  const char* name;
  const char* unit;
};

// OMA LwM2M registry (IPSO Smart Objects, uCIFI). Names follow the decoders' (Cayenne LPP's
// temperature/humidity/illuminance/digital_input, the air-quality models' pm1/pm25/pm10/co2).
constexpr Known kKnown[] = {
    {3, 9, "batteryLevel", "%"},        // Device: Battery Level
    {3200, 5500, "digital_input", ""},  // Digital Input: State
    {3200, 5501, "digital_input_counter", ""},
    {3301, 5700, "illuminance", "lx"},  // Illuminance: Sensor Value
    {3303, 5700, "temperature", "Cel"},
    {3304, 5700, "humidity", "%RH"},
    {3315, 5700, "pressure", "hPa"},  // Barometer
    {3424, 1, "volume", "m3"},        // Water meter: Cumulated water volume
    {3424, 4, "pulse_count", ""},     // Water meter: Cumulated pulse value
    {3424, 9, "leak_suspected", ""},
    {3424, 10, "leak_detected", ""},
    {3428, 1, "pm10", "ug/m3"},  // Air quality (uCIFI)
    {3428, 3, "pm25", "ug/m3"},
    {3428, 5, "pm1", "ug/m3"},
    {3428, 7, "co", "ppm"},
    {3428, 9, "so2", "ppm"},
    {3428, 12, "o3", "ppm"},
    {3428, 15, "no2", "ppm"},
    {3428, 17, "co2", "ppm"},
};

bool Int(std::string_view s, int& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size() && out >= 0 && out <= 65535;
}

}  // namespace

std::optional<ResourceName> KnownResource(int object, int resource) {
  for (const Known& k : kKnown) {
    if (k.object == object && k.resource == resource) return ResourceName{k.name, k.unit};
  }
  return std::nullopt;
}

std::string ReadingKey(std::string_view name, std::string* unit) {
  std::string_view path = name;
  if (!path.empty() && path[0] == '/') path.remove_prefix(1);
  // object/instance/resource, exactly three integers.
  int ids[3];
  std::string_view rest = path;
  for (int i = 0; i < 3; ++i) {
    size_t slash = rest.find('/');
    if ((i < 2) != (slash != std::string_view::npos) || !Int(rest.substr(0, slash), ids[i]))
      return std::string(path);
    rest = i < 2 ? rest.substr(slash + 1) : std::string_view();
  }
  auto known = KnownResource(ids[0], ids[2]);
  if (!known) return std::string(path);
  if (unit && !known->unit.empty()) *unit = known->unit;
  return ids[1] == 0 ? known->name : known->name + "." + std::to_string(ids[1]);
}

Result<std::vector<Reading>> ParseSend(int content_format, std::string_view payload, Id device_id,
                                       TimeMs now) {
  Result<std::vector<Reading>> readings = Status(Code::kInternal, "unset");
  if (content_format == kSenmlJson) {
    readings = ingest::ParseSenml(payload, device_id, now);
  } else if (content_format == kSenmlCbor) {
    BYSANS_ASSIGN_OR_RETURN(std::string json, ingest::SenmlCborToJson(payload));
    readings = ingest::ParseSenml(json, device_id, now);
  } else {
    return Status(Code::kUnsupportedMedia,
                  "a Send carries SenML JSON (Content-Format 110) or SenML CBOR (112)");
  }
  if (!readings.ok()) return readings.status();
  for (Reading& r : *readings) {
    std::string unit = r.unit;
    r.key = ReadingKey(r.key, &unit);
    if (r.unit.empty()) r.unit = unit;
  }
  return readings;
}

}  // namespace bysans::lwm2m
