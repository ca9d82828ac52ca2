// The layout of a saved dashboard (issue 21 §4), validated before it is stored:
//   {"widgets": [
//     {"type": "timeseries", "title"?, "period": "24h" | "7d" | "30d",
//      "series": [{"deviceId", "key"}, ...]},
//     {"type": "latest", "title"?, "deviceId", "key"},
//     {"type": "gauge", "title"?, "deviceId", "key", "min", "max"},
//     {"type": "table", "title"?, "deviceIds": [...], "keys": [...]},
//     {"type": "alarms", "title"?},
//     {"type": "map", "title"?, "applicationId"}]}
// Known widget types and members only (nothing else is kept), at most kMaxWidgets widgets of
// kMaxSeries series, tables of kMaxTableDevices × kMaxTableKeys, texts of at most kMaxText bytes,
// nested at most kMaxLayoutDepth levels and kMaxLayoutBytes long. The caller checks that the
// devices and applications named belong to the dashboard's organisation (api/dashboards.cc).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans::api {

inline constexpr size_t kMaxWidgets = 24;
inline constexpr size_t kMaxSeries = 16;
inline constexpr size_t kMaxText = 100;
inline constexpr size_t kMaxTableDevices = 50;
inline constexpr size_t kMaxTableKeys = 8;
inline constexpr double kMaxGaugeMagnitude = 1e12;
inline constexpr int kMaxLayoutDepth = 5;  // layout, widgets, widget, series, series item
inline constexpr size_t kMaxLayoutBytes = 32 * 1024;

struct DashboardLayout {
  nlohmann::json layout;       // the normalised layout, as stored
  std::vector<Id> device_ids;  // every device a widget names, sorted, once each
  std::vector<Id> app_ids;     // every application a widget names, sorted, once each
};

// kInvalidArgument naming the widget and member at fault.
Result<DashboardLayout> ValidateDashboardLayout(const nlohmann::json& layout);

}  // namespace bysans::api
