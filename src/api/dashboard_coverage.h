// What a public dashboard may show (issue 21 §4): the (device, key) pairs the organisation's
// *published* open datasets cover now (api/open_data.h DatasetDevices: devices still of the
// organisation, of applications without personal data; the dataset's keys, or every key), and
// the check that a layout reads nothing else. Used when a dashboard is made public or changed
// (api/dashboards.cc) and again at every public read (api/dashboard_public.cc).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "api/context.h"

namespace bysans::api {

struct OpenCoverage {
  // Covered device → the keys covered (nullopt: every key).
  std::map<Id, std::optional<std::set<std::string>>> keys;
  std::map<Id, std::string> names;  // covered device → its name
  bool Covers(Id device, const std::string& key) const;
};

// The coverage of every published dataset of `org_id`.
Result<OpenCoverage> PublishedCoverage(ApiContext& ctx, Id org_id);

// The (deviceId, key) pairs a widget of a validated layout reads (api/dashboard_layout.h):
// timeseries series, latest and gauge tiles, table cells; none for other types.
std::vector<std::pair<Id, std::string>> WidgetReads(const nlohmann::json& widget);

// kInvalidArgument naming the first widget of the validated `layout` that could not be public:
// an alarms or map widget (never public), or one reading a (device, key) outside `c`.
Status CheckPublicLayout(const nlohmann::json& layout, const OpenCoverage& c);

}  // namespace bysans::api
