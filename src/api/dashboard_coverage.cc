#include "api/dashboard_coverage.h"

#include "api/open_data.h"

namespace bysans::api {

using json = nlohmann::json;

bool OpenCoverage::Covers(Id device, const std::string& key) const {
  auto it = keys.find(device);
  return it != keys.end() && (!it->second || it->second->count(key) > 0);
}

Result<OpenCoverage> PublishedCoverage(ApiContext& ctx, Id org_id) {
  BYSANS_ASSIGN_OR_RETURN(std::vector<OpenDataset> sets,
                          ctx.store.open_data().ListDatasets(org_id, true));
  OpenCoverage c;
  for (const OpenDataset& d : sets) {
    if (d.org_id != org_id || !d.published) continue;
    BYSANS_ASSIGN_OR_RETURN(std::vector<Device> devices, DatasetDevices(ctx, d));
    for (const Device& dev : devices) {
      c.names[dev.id] = dev.name;
      auto [it, fresh] = c.keys.try_emplace(dev.id, std::set<std::string>());
      if (!it->second) continue;  // every key already
      if (d.keys.empty()) {
        it->second.reset();
      } else {
        it->second->insert(d.keys.begin(), d.keys.end());
      }
    }
  }
  return c;
}

std::vector<std::pair<Id, std::string>> WidgetReads(const json& w) {
  std::vector<std::pair<Id, std::string>> out;
  const std::string type = w.value("type", "");
  if (type == "timeseries") {
    for (const json& s : w.value("series", json::array()))
      out.emplace_back(s.value("deviceId", Id{0}), s.value("key", ""));
  } else if (type == "latest" || type == "gauge") {
    out.emplace_back(w.value("deviceId", Id{0}), w.value("key", ""));
  } else if (type == "table") {
    for (const json& id : w.value("deviceIds", json::array()))
      for (const json& k : w.value("keys", json::array()))
        out.emplace_back(id.get<Id>(), k.get<std::string>());
  }
  return out;
}

Status CheckPublicLayout(const json& layout, const OpenCoverage& c) {
  const json widgets = layout.value("widgets", json::array());
  for (size_t i = 0; i < widgets.size(); ++i) {
    auto where = [i] { return "public: widget " + std::to_string(i + 1); };
    const std::string type = widgets[i].value("type", "");
    if (type == "alarms" || type == "map") {
      return InvalidArgument(where() + ": a " + type + " widget cannot be public");
    }
    for (const auto& [device, key] : WidgetReads(widgets[i])) {
      if (!c.Covers(device, key)) {
        return InvalidArgument(where() + ": deviceId " + std::to_string(device) + " key '" + key +
                               "' is not in a published open dataset of this organisation");
      }
    }
  }
  return Status::Ok();
}

}  // namespace bysans::api
