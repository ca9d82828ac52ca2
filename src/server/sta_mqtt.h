// SensorThings over MQTT (OGC 18-088 section 14; src/sta/README.md "MQTT"): through the
// supervised Mosquitto, with every API key created with "mqtt": true a broker user whose ACL
// names only its organisation's entities (sta/mqtt_topics.h).
//  - Receive updates (A.8): Observations committed for an organisation that has at least one
//    MQTT key are published, QoS 0, on v1.1/Datastreams(<id>)/Observations as GET answers them.
//    The commit listener only queues (bounded; when full the notification is dropped and
//    counted: the data is stored); one thread publishes in batches. While no organisation has
//    an MQTT key a commit costs one relaxed atomic load; otherwise a set lookup.
//  - Receive updates for Things, Locations, HistoricalLocations and Datastreams (A.8): the
//    API's changes (OnEntityChange, sta/entity_changes.h) of those organisations are queued the
//    same way and published, QoS 0, on the entity, property and navigation topics; a Datastream
//    created by a device's first reading of a key is announced when that reading is published.
//  - Create (A.7): an Observation published on v1.1/Datastreams(<id>)/Observations by a key
//    whose ACL lets it write there (editor or admin of the Datastream's organisation) is ingest
//    through the pipeline like POST Datastreams(<id>)/Observations; its PUBACK is sent after the
//    commit; a bad message is counted, logged once and acknowledged.
// bysans' own connection for this is the broker user "bysans-sta" (a random password per start,
// MQTT 5 so that it does not receive its own notifications: no_local).
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/random.h"
#include "core/status.h"
#include "mqtt/broker.h"
#include "pipeline/pipeline.h"
#include "sta/entity_changes.h"
#include "store/store.h"

namespace bysans {

struct StaMqttOptions {
  size_t queue_capacity = 100'000;  // readings waiting to be published; then dropped
  // New Datastreams reach the keys' ACL within this: a reload stalls the broker for a moment
  // (sta/mqtt_topics.h kMaxMqttKeyAclTopics), so not at every new series.
  int entity_refresh_ms = 10000;
  size_t max_batch = 1000;  // notifications per PublishBatch
};

class StaMqttService {
 public:
  StaMqttService(Store& store, pipeline::Pipeline& pipeline, Metrics& metrics, const Clock& clock,
                 Random& random, StaMqttOptions options);
  ~StaMqttService();  // Stop()s
  StaMqttService(const StaMqttService&) = delete;
  StaMqttService& operator=(const StaMqttService&) = delete;

  // The broker users: bysans' own for SensorThings and one per unexpired MQTT API key with its
  // organisation's topics (mqtt::ServiceOptions::extra_users; called at every reload).
  Result<std::vector<mqtt::BrokerUser>> BrokerUsers();

  // The pipeline's shared commit listener.
  void OnCommitted(std::shared_ptr<const Device> device,
                   std::shared_ptr<const std::vector<Reading>> readings);

  // A Thing or Datastream created or changed through the API (ApiContext::on_entity_change):
  // queued (never blocks), published by the worker.
  void OnEntityChange(const sta::EntityChange& change);

  // Connects to the supervised broker at host:port and starts publishing and receiving;
  // `base_url` is the service root of the notifications' links (http://host:8080/sta/v1.1).
  Status Start(const std::string& host, uint16_t port, std::string base_url);
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace bysans
