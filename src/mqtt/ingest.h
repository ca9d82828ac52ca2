// MqttService: everything bysans does over MQTT, wired to the store and the
// pipeline. It runs the supervised Mosquitto (unless an external broker URL is
// configured) with the credentials of all MQTT devices, a service user for
// bysans alone (random name, also its client id) and an integrator user for
// local integrations, connects bysans' own MqttClient with a stable client id
// and a persistent session, and ingests:
//   devices/{deviceId}/up                        MQTT devices (JSON, SenML or raw bytes)
//   application/+/device/+/event/{up|status|join|ack|txack}   ChirpStack v4
// and runs one more client per enabled third-party broker integration
// (integrations.h): per-organisation ChirpStack brokers and per-application
// external brokers.
// Every message goes through the pipeline; its PUBACK is sent only after the
// commit. Bad input is counted (bysans_mqtt_messages_total{result}), logged
// once per reason, stored as a raw message with an error where the device is
// known, and acknowledged so that the broker does not redeliver poison.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/outbound_policy.h"
#include "core/random.h"
#include "core/status.h"
#include "mqtt/broker.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

namespace bysans::mqtt {

struct ServiceOptions {
  std::string data_dir;      // broker files under <data_dir>/mosquitto, service secret, mqtt.url
  std::string external_url;  // mqtt://[user:pass@]host[:port]; empty = supervise Mosquitto
  int port = 1883;           // supervised broker; 0 = a free port
  std::string bind_address = "127.0.0.1";
  std::string client_id = "bysans-1";  // external broker only; supervised: the service user
  // Several bysans nodes on one broker: subscribe as this shared-subscription group
  // ($share/<group>/<filter>, MQTT 5 and Mosquitto's 3.1.1 extension), so that the broker hands
  // each message to one node of the group. Empty = plain subscriptions (every node gets all).
  std::string shared_group;
  // This node's lease holder (server/node_coordinator.h). With an external broker, a shared group
  // and a store shared by several nodes, this node's session is leased and dead nodes' sessions
  // are drained (mqtt/session_rescue.h). Empty: no rescue.
  std::string node_holder;
  std::string mosquitto_path = "/usr/sbin/mosquitto";
  // bysans' receive window (back-pressure): un-acked messages held while the store commits, and
  // their bytes. Each group commit acknowledges what the window let in while the one before it
  // ran, so the window must cover the store's commit time at the rate wanted: on PostgreSQL
  // (commits of tens of ms, two writers) bench/mqtt stored 8,846 msgs/s with 1,000, 11,777 with
  // 4,000 and 15,437 with 8,000 at 17,237 offered. The byte bound keeps what the window holds in
  // memory to 64 MB whatever the messages' sizes.
  size_t max_inflight = 16000;
  size_t max_inflight_bytes = 64 << 20;
  size_t max_payload = 1024 * 1024;  // larger payloads are refused (counted, acked)
  bool subscribe_chirpstack = true;  // application/+/device/+/event/+
  bool run_integrations = true;      // per-organisation/application third-party brokers
  // Several nodes: whether this node runs the integrations now (IntegrationOptions::may_run).
  std::function<bool()> integrations_may_run;
  OutboundPolicy outbound;  // what the integrations may reach (core/outbound_policy.h)
  // More users of the supervised broker, asked at every reload of its files (credentials
  // generation): SensorThings over MQTT (server/sta_mqtt.h). An error keeps the files as they are.
  std::function<Result<std::vector<BrokerUser>>()> extra_users;
};

// `filter` as subscribed by a member of `group` ($share/<group>/<filter>; config.cc checks the
// group's name); the filter itself when the group is empty.
std::string SharedFilter(const std::string& group, const std::string& filter);

class MqttService {
 public:
  MqttService(ServiceOptions options, Store& store, pipeline::Pipeline& pipeline, Metrics& metrics,
              const Clock& clock, Random& random);
  ~MqttService();
  MqttService(const MqttService&) = delete;
  MqttService& operator=(const MqttService&) = delete;

  // Starts the broker (if supervised), waits until it listens, connects the client.
  Status Start();
  // Stops the client, then the broker.
  void Stop();

  // "mqtt://host:port" of the broker bysans uses.
  std::string url() const;
  // True when bysans runs the broker (no mqtt.url): only then does it decide who may log in.
  bool supervised() const;

  // Publishes with QoS 1; `done` runs on the broker's PUBACK (or failure).
  Status Publish(std::string topic, std::string payload, std::function<void(const Status&)> done);
  // Publishes a rule action (QoS 1). On the supervised broker it goes out as the actions user,
  // whom the broker lets write below orgs/ only; a topic it refuses fails `done` with
  // kPermissionDenied. On an external broker (mqtt.url): as Publish.
  Status PublishAction(std::string topic, std::string payload,
                       std::function<void(const Status&)> done);
  // The same through integration `integration_id`'s client (0 = bysans' own client).
  Status PublishVia(Id integration_id, std::string topic, std::string payload,
                    std::function<void(const Status&)> done);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace bysans::mqtt
