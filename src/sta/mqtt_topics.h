// SensorThings over MQTT (OGC 18-088 section 14), store- and broker-free: the topics bysans
// publishes and accepts, the broker ACL lines of an organisation's API key, the body of a
// published Observation (A.7) and the notification of a created one (A.8).
//
// Topics are resource paths under "v1.1/". Ids are global, so a key's ACL names every entity
// of its organisation: "topic read v1.1/Things(<device>)/#" and
// "topic read v1.1/Datastreams(<series>)/#" (MQTT's "/#" also matches the parent level: the
// entity itself, its properties, its collections, with or without "?$select=..."), and for an
// editor or admin "topic write v1.1/Datastreams(<series>)/Observations". Entity sets whose
// members cross organisations (v1.1/Observations, v1.1/Things, ...) are granted to nobody.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "sta/catalog.h"
#include "sta/write_observations.h"
#include "store/store.h"

namespace bysans::sta {

inline constexpr std::string_view kMqttTopicRoot = "v1.1/";

// "sta-<key id>": the broker user name of an API key created with "mqtt": true.
std::string MqttKeyUserName(Id key_id);

// "v1.1/Datastreams(<id>)/Observations".
std::string DatastreamObservationsTopic(int64_t series_id);
// The Datastream id of "v1.1/Datastreams(<id>)/Observations" (a decimal id, no query options);
// nullopt for any other topic.
std::optional<int64_t> ParseDatastreamObservationsTopic(std::string_view topic);

// What one organisation's keys may reach: its devices (Things) and series (Datastreams).
struct MqttAclScope {
  std::vector<Id> devices;
  std::vector<SeriesRef> series;
};
// Loads an organisation's scope from the store (its devices, then their series).
Result<MqttAclScope> LoadMqttAclScope(Store& store, Id org_id);

// Mosquitto 2.0 keeps a user's ACL as a list: loading it is quadratic in its length (appended at
// the tail, walked each time) and each delivery to the user walks it. Measured on the 2-core
// machine (one user): 13,000 lines load in 0.17 s, 26,000 in 0.57 s, 130,000 (10,000 devices and
// 60,000 series, editor) in 59 s (src/sta/README.md "MQTT"). So a key's ACL is bounded: a key of
// an organisation with more topics is refused at creation and gets no broker user.
inline constexpr size_t kMaxMqttKeyAclTopics = 20'000;
// The ACL topics AppendKeyAclTopics gives a key of `scope`.
size_t MqttKeyAclTopicCount(const MqttAclScope& scope, bool can_write);
// The ACL topics of a key of that organisation: `read` always, `write` only when `can_write`
// (editor or admin): what BrokerUser's subscribe_topics and publish_topics take.
void AppendKeyAclTopics(const MqttAclScope& scope, bool can_write, std::vector<std::string>& read,
                        std::vector<std::string>& write);

// The Observation a client published on Datastreams(<topic_datastream>)/Observations (A.7): the
// body of a POST (OGC 18-088 10.2), JSON depth-checked. A body linking another Datastream than
// the topic's is refused: only the topic is proven by the broker's ACL. `now` is the default
// phenomenonTime.
Result<NewObservation> ParseMqttObservation(std::string_view payload, int64_t topic_datastream,
                                            TimeMs now);

// The notification of a created or updated Observation (A.8): its JSON as GET
// Observations('<series>-<ts>') answers it (sta/entity_json.h), `base` the service root URL.
// An Observation's JSON reads nothing from `catalog` (any Catalog, e.g. one of no organisation).
std::string ObservationNotification(const Catalog& catalog, const std::string& base,
                                    int64_t series_id, const Reading& reading);

}  // namespace bysans::sta
