// IntegrationManager: one MqttClient per enabled third-party broker integration
// (store/mqtt_store.h MqttIntegration: per-organisation ChirpStack, per-application external
// brokers). Each client has a fixed client id, a persistent session and QoS 1 subscriptions
// (ChirpStack: application/+/device/+/event/+; external: the integration's topic filter); its
// messages go to the handler with an AckHandle (PUBACK only after the commit, as for bysans'
// own client). A thread watches the store's integrations_generation() and reconciles: new or
// changed integrations (re)connect, disabled or deleted ones disconnect — no restart needed.
// The connection state (connecting / connected / error + last error) is published through
// MqttStore::SetIntegrationState for the API. Thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/random.h"
#include "core/status.h"
#include "mqtt/client.h"
#include "store/mqtt_store.h"

namespace bysans::mqtt {

struct IntegrationOptions {
  size_t max_inflight = 1000;
  size_t max_packet_size = 2 * 1024 * 1024 + 4096;
  int poll_ms = 200;  // how often the store's generation is checked
  int reconnect_min_ms = 200;
  int reconnect_max_ms = 30000;
  OutboundPolicy outbound;  // the brokers are user-configured: only what it admits is reached
  // Several nodes (issue 19): an integration's fixed client id may be connected by one node only
  // (a broker drops the older of two sessions with one id). The clients run while this says so
  // (the node holding the "mqtt-integrations" role) and are stopped when it stops saying so.
  // Unset: always.
  std::function<bool()> may_run;
};

class IntegrationManager {
 public:
  // Runs on the integration client's I/O thread; `integration` lives until the client stops.
  using Handler =
      std::function<void(const MqttIntegration& integration, IncomingMessage, AckHandle)>;

  IntegrationManager(MqttStore& store, Metrics& metrics, const Clock& clock, Random& random,
                     IntegrationOptions options, Handler handler);
  ~IntegrationManager();  // Stop()s
  IntegrationManager(const IntegrationManager&) = delete;
  IntegrationManager& operator=(const IntegrationManager&) = delete;

  // Connects the enabled integrations and starts watching for changes.
  Status Start();
  // Disconnects every integration. Idempotent.
  void Stop();

  // Publishes with QoS 1 through integration `id`'s client; kUnavailable if it is not running.
  Status Publish(Id id, std::string topic, std::string payload,
                 std::function<void(const Status&)> done);

 private:
  struct Running;
  // What the store keeps encrypted for a connection.
  struct Secrets {
    std::string password;
    std::string client_key;  // PEM private key of MqttIntegration::client_cert
    bool operator==(const Secrets&) const = default;
  };
  void Reconcile(bool active);  // active = false: stop every client (may_run)
  void Watch();
  std::unique_ptr<Running> Launch(const MqttIntegration& cfg, Secrets secrets);
  void SetState(Id id, std::string status, std::string error);

  MqttStore& store_;
  Metrics& metrics_;
  const Clock& clock_;
  Random& random_;
  IntegrationOptions opts_;
  Handler handler_;

  std::mutex mu_;  // guards running_
  std::map<Id, std::unique_ptr<Running>> running_;

  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool stop_ = false;
  bool started_ = false;
  std::thread watcher_;
};

}  // namespace bysans::mqtt
