#include "sta/data_array.h"

#include <charconv>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "core/time_format.h"
#include "sta/entity_json.h"

namespace bysans::sta {
namespace {

void AppendString(std::string& out, const std::string& s) {
  out += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// As entity_json.cc writes a result: whole numbers as integers, NaN and infinities as null.
void AppendResult(std::string& out, const bysans::Value& v) {
  if (const double* d = std::get_if<double>(&v)) {
    if (!std::isfinite(*d)) {
      out += "null";
    } else if (std::trunc(*d) == *d && std::fabs(*d) < 9e15) {
      out += std::to_string(static_cast<int64_t>(*d));
    } else {
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);
      out.append(buf, ec == std::errc() ? end : buf);
    }
  } else if (const bool* b = std::get_if<bool>(&v)) {
    out += *b ? "true" : "false";
  } else {
    AppendString(out, std::get<std::string>(v));
  }
}

enum class Component { kId, kPhenomenonTime, kResult, kResultQuality, kNull };

Component ComponentOf(const std::string& name) {
  if (name == "id") return Component::kId;
  if (name == "phenomenonTime") return Component::kPhenomenonTime;
  if (name == "result") return Component::kResult;
  if (name == "resultQuality") return Component::kResultQuality;
  return Component::kNull;  // resultTime, validTime, parameters: not kept
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void AppendComponent(std::string& out, const Entity& e, Component component) {
  switch (component) {
    case Component::kId:  // "<seriesId>-<timeMs>" (IdText), digits only: no escaping
      out += '"';
      AppendInt(out, e.id);
      out += '-';
      AppendInt(out, e.reading.ts);
      out += '"';
      return;
    case Component::kPhenomenonTime:
      out += '"';
      AppendRfc3339(out, e.reading.ts);
      out += '"';
      return;
    case Component::kResult:
      AppendResult(out, e.reading.value);
      return;
    case Component::kResultQuality:
      out += '"';
      out += QualityName(e.reading.quality);
      out += '"';
      return;
    case Component::kNull:
      out += "null";
      return;
  }
}

}  // namespace

std::vector<std::string> DataArrayComponents(const std::vector<std::string>& select) {
  std::vector<std::string> out = select;
  if (out.empty()) out = {"id", "phenomenonTime", "result", "resultTime", "resultQuality"};
  for (std::string& c : out)
    if (c == "@iot.id") c = "id";
  return out;
}

std::string DataArrayValue(const std::vector<Entity>& observations,
                           const std::vector<std::string>& components, const std::string& base) {
  std::map<int64_t, std::vector<const Entity*>> by_datastream;
  std::vector<int64_t> order;
  for (const Entity& e : observations) {
    auto [it, fresh] = by_datastream.try_emplace(e.id);
    if (fresh) order.push_back(e.id);
    it->second.push_back(&e);
  }
  const std::string names = nlohmann::json(components).dump();
  std::vector<Component> kinds;
  for (const std::string& c : components) kinds.push_back(ComponentOf(c));
  std::string out = "[";
  for (int64_t ds : order) {
    const auto& rows = by_datastream[ds];
    Entity d;
    d.set = EntitySet::kDatastreams;
    d.id = ds;
    if (out.size() > 1) out += ',';
    out += "{\"Datastream@iot.navigationLink\":";
    AppendString(out, SelfLink(base, d));
    out += ",\"components\":" + names + ",\"dataArray@iot.count\":" + std::to_string(rows.size()) +
           ",\"dataArray\":[";
    out.reserve(out.size() + rows.size() * 20 * components.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      out += i ? ",[" : "[";
      for (size_t k = 0; k < kinds.size(); ++k) {
        if (k) out += ',';
        AppendComponent(out, *rows[i], kinds[k]);
      }
      out += ']';
    }
    out += "]}";
  }
  return out + "]";
}

}  // namespace bysans::sta
