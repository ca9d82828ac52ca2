// The rule feed's record (store/rule_feed.h): a share-log record (share_codec.h) whose text part
// is the device as JSON and whose readings are the batch's.
#include "store/rule_feed_codec.h"

#include <nlohmann/json.hpp>

#include "store/share_codec.h"

namespace bysans {
namespace {

std::string DeviceJson(const Device& d) {
  nlohmann::json j = {{"id", d.id},
                      {"org", d.org_id},
                      {"app", d.app_id},
                      {"name", d.name},
                      {"eui", d.dev_eui},
                      {"tags", d.tags},
                      {"interval", d.expected_interval_s},
                      {"maintenance", d.in_maintenance}};
  if (d.device_model_id) j["model"] = *d.device_model_id;
  return j.dump();
}

Result<std::shared_ptr<const Device>> DeviceFromJson(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("id") || !j.contains("org"))
    return Internal("corrupt rule feed record");
  auto d = std::make_shared<Device>();
  d->id = j.value("id", Id{0});
  d->org_id = j.value("org", Id{0});
  d->app_id = j.value("app", Id{0});
  d->name = j.value("name", "");
  d->dev_eui = j.value("eui", "");
  d->tags = j.value("tags", std::vector<std::string>{});
  d->expected_interval_s = j.value("interval", int64_t{0});
  d->in_maintenance = j.value("maintenance", false);
  if (j.contains("model") && j["model"].is_number_integer())
    d->device_model_id = j["model"].get<Id>();
  return std::shared_ptr<const Device>(std::move(d));
}

}  // namespace

std::string RuleFeedEncoder::Encode(const Device& device, std::span<const Reading> readings) {
  auto it = device_json_.find(&device);
  if (it == device_json_.end()) it = device_json_.emplace(&device, DeviceJson(device)).first;
  std::string out;
  EncodeShareRecord(device.id, 0, 0, it->second, readings, &out);
  return out;
}

Result<RuleFeedEntry> RuleFeedDecoder::Decode(std::string_view record) {
  std::vector<ShareRecord> recs;
  BYSANS_RETURN_IF_ERROR(DecodeShareRow(0, record, -1, &recs));
  if (recs.size() != 1) return Internal("corrupt rule feed record");
  auto it = devices_.find(std::string_view(recs[0].decoded_json));
  if (it == devices_.end()) {
    BYSANS_ASSIGN_OR_RETURN(std::shared_ptr<const Device> d, DeviceFromJson(recs[0].decoded_json));
    it = devices_.emplace(std::move(recs[0].decoded_json), std::move(d)).first;
  }
  RuleFeedEntry e;
  e.readings = std::move(recs[0].readings);
  for (Reading& r : e.readings) r.device_id = it->second->id;
  e.device = it->second;
  return e;
}

std::string EncodeRuleFeedRecord(const Device& d, std::span<const Reading> readings) {
  return RuleFeedEncoder().Encode(d, readings);
}

Result<RuleFeedEntry> DecodeRuleFeedRecord(std::string_view record) {
  return RuleFeedDecoder().Decode(record);
}

}  // namespace bysans
