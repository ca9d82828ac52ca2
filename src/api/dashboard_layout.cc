#include "api/dashboard_layout.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace bysans::api {
namespace {

using json = nlohmann::json;

int Depth(const json& j) {
  int deepest = 0;
  if (j.is_structured()) {
    for (const json& v : j) deepest = std::max(deepest, Depth(v));
    return deepest + 1;
  }
  return 0;
}

Status Bad(size_t index, const std::string& what) {
  return InvalidArgument("layout: widget " + std::to_string(index + 1) + ": " + what);
}

// Rejects members not in `allowed` (unknown widget members are an error, not dropped).
Status OnlyMembers(const json& w, size_t index, std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, v] : w.items()) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      return Bad(index, "unknown member '" + k + "'");
    }
  }
  return Status::Ok();
}

Result<Id> IdMember(const json& obj, const char* member, size_t index) {
  auto it = obj.find(member);
  if (it == obj.end() || !it->is_number_integer() || it->get<int64_t>() <= 0) {
    return Bad(index, std::string("'") + member + "' must be a positive id");
  }
  return it->get<int64_t>();
}

Result<std::string> TextMember(const json& obj, const char* member, size_t index, bool required) {
  auto it = obj.find(member);
  if (it == obj.end() && !required) return std::string();
  if (it == obj.end() || !it->is_string() || it->get_ref<const std::string&>().size() > kMaxText ||
      (required && it->get_ref<const std::string&>().empty())) {
    return Bad(index, std::string("'") + member + "' must be a text of " + (required ? "1" : "0") +
                          " to " + std::to_string(kMaxText) + " bytes");
  }
  return it->get<std::string>();
}

// One series of a time-series widget, or the device and key of a tile.
Result<json> DeviceKey(const json& obj, size_t index, DashboardLayout& out) {
  BYSANS_ASSIGN_OR_RETURN(Id device, IdMember(obj, "deviceId", index));
  BYSANS_ASSIGN_OR_RETURN(std::string key, TextMember(obj, "key", index, true));
  out.device_ids.push_back(device);
  return json{{"deviceId", device}, {"key", std::move(key)}};
}

// A finite number of at most kMaxGaugeMagnitude either way.
Result<double> NumberMember(const json& obj, const char* member, size_t index) {
  auto it = obj.find(member);
  if (it == obj.end() || !it->is_number() || !std::isfinite(it->get<double>()) ||
      std::fabs(it->get<double>()) > kMaxGaugeMagnitude) {
    return Bad(index, std::string("'") + member + "' must be a number");
  }
  return it->get<double>();
}

// A gauge: the latest value of one device's key on a scale from min to max.
Status Gauge(const json& w, size_t index, json& n, DashboardLayout& out) {
  BYSANS_RETURN_IF_ERROR(OnlyMembers(w, index, {"type", "title", "deviceId", "key", "min", "max"}));
  BYSANS_ASSIGN_OR_RETURN(json dk, DeviceKey(w, index, out));
  BYSANS_ASSIGN_OR_RETURN(double min, NumberMember(w, "min", index));
  BYSANS_ASSIGN_OR_RETURN(double max, NumberMember(w, "max", index));
  if (!(min < max)) return Bad(index, "'min' must be below 'max'");
  n.update(dk);
  n["min"] = min;
  n["max"] = max;
  return Status::Ok();
}

// A table: the latest values of some keys (columns) of some devices (rows).
Status Table(const json& w, size_t index, json& n, DashboardLayout& out) {
  BYSANS_RETURN_IF_ERROR(OnlyMembers(w, index, {"type", "title", "deviceIds", "keys"}));
  auto devices = w.find("deviceIds");
  if (devices == w.end() || !devices->is_array() || devices->empty() ||
      devices->size() > kMaxTableDevices) {
    return Bad(index, "'deviceIds' must be a list of 1 to " + std::to_string(kMaxTableDevices) +
                          " device ids");
  }
  json ids = json::array();
  for (const json& d : *devices) {
    if (!d.is_number_integer() || d.get<int64_t>() <= 0) {
      return Bad(index, "'deviceIds' must hold positive ids");
    }
    out.device_ids.push_back(d.get<int64_t>());
    ids.push_back(d.get<int64_t>());
  }
  auto keys = w.find("keys");
  if (keys == w.end() || !keys->is_array() || keys->empty() || keys->size() > kMaxTableKeys) {
    return Bad(index, "'keys' must be a list of 1 to " + std::to_string(kMaxTableKeys) + " keys");
  }
  json names = json::array();
  for (const json& k : *keys) {
    if (!k.is_string() || k.get_ref<const std::string&>().empty() ||
        k.get_ref<const std::string&>().size() > kMaxText) {
      return Bad(index,
                 "each of 'keys' must be a text of 1 to " + std::to_string(kMaxText) + " bytes");
    }
    names.push_back(k);
  }
  n["deviceIds"] = std::move(ids);
  n["keys"] = std::move(names);
  return Status::Ok();
}

Result<json> Widget(const json& w, size_t index, DashboardLayout& out) {
  if (!w.is_object()) return Bad(index, "must be an object");
  BYSANS_ASSIGN_OR_RETURN(std::string type, TextMember(w, "type", index, true));
  BYSANS_ASSIGN_OR_RETURN(std::string title, TextMember(w, "title", index, false));
  json n = {{"type", type}, {"title", std::move(title)}};
  if (type == "timeseries") {
    BYSANS_RETURN_IF_ERROR(OnlyMembers(w, index, {"type", "title", "period", "series"}));
    BYSANS_ASSIGN_OR_RETURN(std::string period, TextMember(w, "period", index, true));
    if (period != "24h" && period != "7d" && period != "30d") {
      return Bad(index, "'period' must be 24h, 7d or 30d");
    }
    auto series = w.find("series");
    if (series == w.end() || !series->is_array() || series->empty() ||
        series->size() > kMaxSeries) {
      return Bad(index, "'series' must be a list of 1 to " + std::to_string(kMaxSeries) +
                            " {deviceId, key}");
    }
    json list = json::array();
    for (const json& s : *series) {
      if (!s.is_object() || s.size() != 2) {
        return Bad(index, "each series must be {deviceId, key}");
      }
      BYSANS_ASSIGN_OR_RETURN(json one, DeviceKey(s, index, out));
      list.push_back(std::move(one));
    }
    n["period"] = period;
    n["series"] = std::move(list);
  } else if (type == "latest") {
    BYSANS_RETURN_IF_ERROR(OnlyMembers(w, index, {"type", "title", "deviceId", "key"}));
    BYSANS_ASSIGN_OR_RETURN(json dk, DeviceKey(w, index, out));
    n.update(dk);
  } else if (type == "gauge") {
    BYSANS_RETURN_IF_ERROR(Gauge(w, index, n, out));
  } else if (type == "table") {
    BYSANS_RETURN_IF_ERROR(Table(w, index, n, out));
  } else if (type == "alarms") {
    BYSANS_RETURN_IF_ERROR(OnlyMembers(w, index, {"type", "title"}));
  } else if (type == "map") {
    BYSANS_RETURN_IF_ERROR(OnlyMembers(w, index, {"type", "title", "applicationId"}));
    BYSANS_ASSIGN_OR_RETURN(Id app, IdMember(w, "applicationId", index));
    out.app_ids.push_back(app);
    n["applicationId"] = app;
  } else {
    return Bad(index,
               "unknown type '" + type + "' (timeseries, latest, gauge, table, alarms or map)");
  }
  return n;
}

void SortUnique(std::vector<Id>& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

}  // namespace

Result<DashboardLayout> ValidateDashboardLayout(const json& layout) {
  if (!layout.is_object()) return InvalidArgument("layout must be an object {\"widgets\": [...]}");
  if (Depth(layout) > kMaxLayoutDepth) {
    return InvalidArgument("layout is nested deeper than " + std::to_string(kMaxLayoutDepth) +
                           " levels");
  }
  if (layout.dump().size() > kMaxLayoutBytes) {
    return InvalidArgument("layout is longer than " + std::to_string(kMaxLayoutBytes) + " bytes");
  }
  for (const auto& [k, v] : layout.items()) {
    if (k != "widgets") return InvalidArgument("layout: unknown member '" + k + "'");
  }
  auto widgets = layout.find("widgets");
  if (widgets == layout.end() || !widgets->is_array() || widgets->size() > kMaxWidgets) {
    return InvalidArgument("layout: 'widgets' must be a list of at most " +
                           std::to_string(kMaxWidgets) + " widgets");
  }
  DashboardLayout out;
  json list = json::array();
  for (size_t i = 0; i < widgets->size(); ++i) {
    BYSANS_ASSIGN_OR_RETURN(json w, Widget((*widgets)[i], i, out));
    list.push_back(std::move(w));
  }
  out.layout = json{{"widgets", std::move(list)}};
  SortUnique(out.device_ids);
  SortUnique(out.app_ids);
  return out;
}

}  // namespace bysans::api
