// MQTT publish of data targets: one persistent connection per target (bysans' own client,
// mqtt/client.h, through the outbound-address policy), QoS 0 or 1; a slice of records counts
// as delivered once the broker acknowledged every publish of it (QoS 1) or they were written
// (QoS 0). Thread-compatible (one per delivery worker).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/outbound_policy.h"
#include "mqtt/client.h"
#include "share/http_push.h"

namespace bysans::share {

struct MqttTargetConfig {
  std::string url;  // mqtt(s)://host[:port]
  std::string client_id;
  std::string username;
  std::string password;
  bool operator==(const MqttTargetConfig&) const = default;
};

class MqttPusher {
 public:
  MqttPusher();
  ~MqttPusher();
  MqttPusher(const MqttPusher&) = delete;
  MqttPusher& operator=(const MqttPusher&) = delete;

  // Publishes every message in order and waits for the broker, at most `timeout_ms`. The
  // connection is opened on first use and kept; a changed `config` reconnects. Not connected:
  // fails at once (nothing is queued inside the client while the broker is away).
  PushResult Publish(const MqttTargetConfig& config, const OutboundPolicy& policy,
                     std::vector<mqtt::OutgoingMessage> messages, int qos, bool retain,
                     TimeMs timeout_ms, std::atomic<bool>* stop);

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::unique_ptr<mqtt::MqttClient> client_;
  MqttTargetConfig config_;
};

}  // namespace bysans::share
