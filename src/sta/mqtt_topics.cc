#include "sta/mqtt_topics.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "core/json_depth.h"
#include "sta/entity.h"
#include "sta/entity_json.h"

namespace bysans::sta {

namespace {
constexpr std::string_view kDatastreamsPrefix = "v1.1/Datastreams(";
constexpr std::string_view kObservationsSuffix = ")/Observations";
}  // namespace

std::string MqttKeyUserName(Id key_id) { return "sta-" + std::to_string(key_id); }

std::string DatastreamObservationsTopic(int64_t series_id) {
  std::string t(kDatastreamsPrefix);
  t += std::to_string(series_id);
  t += kObservationsSuffix;
  return t;
}

std::optional<int64_t> ParseDatastreamObservationsTopic(std::string_view topic) {
  if (topic.size() <= kDatastreamsPrefix.size() + kObservationsSuffix.size() ||
      topic.substr(0, kDatastreamsPrefix.size()) != kDatastreamsPrefix ||
      topic.substr(topic.size() - kObservationsSuffix.size()) != kObservationsSuffix) {
    return std::nullopt;
  }
  std::string_view id =
      topic.substr(kDatastreamsPrefix.size(),
                   topic.size() - kDatastreamsPrefix.size() - kObservationsSuffix.size());
  return ParseNumericId(id);
}

Result<MqttAclScope> LoadMqttAclScope(Store& store, Id org_id) {
  MqttAclScope scope;
  DeviceFilter f;
  f.org_id = org_id;
  Page page;
  page.limit = 10000;
  while (true) {
    BYSANS_ASSIGN_OR_RETURN(Paged<Device> devices, store.ListDevices(f, page));
    for (const Device& d : devices.items) scope.devices.push_back(d.id);
    page.offset += static_cast<int64_t>(devices.items.size());
    if (devices.items.empty() || page.offset >= devices.total) break;
  }
  BYSANS_ASSIGN_OR_RETURN(scope.series, store.ListSeries(scope.devices));
  return scope;
}

size_t MqttKeyAclTopicCount(const MqttAclScope& scope, bool can_write) {
  return scope.devices.size() + scope.series.size() * (can_write ? 2 : 1);
}

void AppendKeyAclTopics(const MqttAclScope& scope, bool can_write, std::vector<std::string>& read,
                        std::vector<std::string>& write) {
  read.reserve(read.size() + scope.devices.size() + scope.series.size());
  for (Id d : scope.devices) read.push_back("v1.1/Things(" + std::to_string(d) + ")/#");
  for (const SeriesRef& s : scope.series)
    read.push_back("v1.1/Datastreams(" + std::to_string(s.id) + ")/#");
  if (!can_write) return;
  write.reserve(write.size() + scope.series.size());
  for (const SeriesRef& s : scope.series) write.push_back(DatastreamObservationsTopic(s.id));
}

Result<NewObservation> ParseMqttObservation(std::string_view payload, int64_t topic_datastream,
                                            TimeMs now) {
  BYSANS_RETURN_IF_ERROR(CheckJsonDepth(payload));
  nlohmann::json body = nlohmann::json::parse(payload, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return InvalidArgument("the message is not a JSON object");
  BYSANS_ASSIGN_OR_RETURN(ObservationPost post, ParseObservationPost(body, now));
  if (post.datastream_id && *post.datastream_id != topic_datastream) {
    return InvalidArgument("the body links Datastream " + std::to_string(*post.datastream_id) +
                           ", the topic names Datastream " + std::to_string(topic_datastream));
  }
  return post.obs;
}

std::string ObservationNotification(const Catalog& catalog, const std::string& base,
                                    int64_t series_id, const Reading& reading) {
  Entity e;
  e.set = EntitySet::kObservations;
  e.id = series_id;
  e.reading = reading;
  return EntityJson(catalog, e, base, {}).dump();
}

}  // namespace bysans::sta
