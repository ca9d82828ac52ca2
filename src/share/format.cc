#include "share/format.h"

#include <nlohmann/json.hpp>

#include "core/json_depth.h"
#include "core/time_format.h"

namespace bysans::share {
namespace {

using json = nlohmann::json;

// The decoder's output as JSON text: as it is when it is JSON within the depth limit (the
// usual case, no parse tree built), else as a JSON string; null when there is none.
void AppendDecoded(std::string_view decoded, std::string* out) {
  if (decoded.empty()) {
    out->append("null");
  } else if (CheckJsonDepth(decoded).ok() && json::accept(decoded)) {
    out->append(decoded);
  } else {
    out->append(json(std::string(decoded)).dump(-1, ' ', false, json::error_handler_t::replace));
  }
}

json ValueJson(const Value& v) {
  if (const double* d = std::get_if<double>(&v)) return *d;
  if (const bool* b = std::get_if<bool>(&v)) return *b;
  return std::get<std::string>(v);
}

void AppendEnvelope(const ShareRecord& r, const DeviceLookup& lookup, std::string* out) {
  json device = {{"id", r.device_id}};
  if (const Device* d = lookup ? lookup(r.device_id) : nullptr) {
    device["name"] = d->name;
    device["devEui"] = d->dev_eui.empty() ? json(nullptr) : json(d->dev_eui);
    device["location"] =
        d->location ? json{{"lat", d->location->lat}, {"lon", d->location->lon}} : json(nullptr);
  }
  json readings = json::array();
  for (const Reading& x : r.readings) {
    readings.push_back({{"key", x.key},
                        {"value", ValueJson(x.value)},
                        {"unit", x.unit},
                        {"quality", QualityName(x.quality)},
                        {"ts", FormatRfc3339(x.ts)}});
  }
  json head = {{"device", std::move(device)},
               {"receivedAt", FormatRfc3339(r.received_ms)},
               {"messageId", r.message_id},
               {"readings", std::move(readings)}};
  std::string text = head.dump(-1, ' ', false, json::error_handler_t::replace);
  text.pop_back();  // the closing brace: "decoded" follows as raw JSON text
  out->append(text);
  out->append(",\"decoded\":");
  AppendDecoded(r.decoded_json, out);
  out->push_back('}');
}

void AppendRecord(std::string_view format, const ShareRecord& r, const DeviceLookup& device,
                  std::string* out) {
  if (format == kFormatOs2iot) {
    AppendDecoded(r.decoded_json, out);
  } else {
    AppendEnvelope(r, device, out);
  }
}

}  // namespace

bool IsKnownFormat(std::string_view format) {
  return format == kFormatBysans || format == kFormatOs2iot;
}

std::string FormatRecord(std::string_view format, const ShareRecord& r,
                         const DeviceLookup& device) {
  std::string out;
  AppendRecord(format, r, device, &out);
  return out;
}

std::string FormatRequest(std::string_view format, std::span<const ShareRecord> records,
                          bool batched, const DeviceLookup& device) {
  std::string out;
  if (!batched) {
    if (!records.empty()) AppendRecord(format, records.front(), device, &out);
    return out;
  }
  out.push_back('[');
  for (size_t i = 0; i < records.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendRecord(format, records[i], device, &out);
  }
  out.push_back(']');
  return out;
}

std::string ExpandTopic(std::string_view tmpl, Id app_id, const ShareRecord& r,
                        const Device* device) {
  auto safe = [](std::string v) {
    for (char& c : v)
      if (c == '/' || c == '+' || c == '#' || c == '\0') c = '_';
    return v;
  };
  const std::pair<std::string_view, std::string> vars[] = {
      {"{application}", std::to_string(app_id)},
      {"{device}", std::to_string(r.device_id)},
      {"{devEui}", safe(device ? device->dev_eui : std::string())},
      {"{deviceName}", safe(device ? device->name : std::string())}};
  std::string out;
  for (size_t i = 0; i < tmpl.size();) {
    bool replaced = false;
    for (const auto& [name, value] : vars) {
      if (tmpl.substr(i, name.size()) == name) {
        out += value;
        i += name.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out.push_back(tmpl[i++]);
  }
  return out;
}

}  // namespace bysans::share
