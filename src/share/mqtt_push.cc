#include "share/mqtt_push.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "mqtt/client.h"
#include "mqtt/url.h"

namespace bysans::share {

// What the client's I/O thread reports: acknowledgements and the last connection error.
struct MqttPusher::State {
  std::mutex mu;
  std::condition_variable cv;
  std::string last_error;  // why the last connection ended or failed ("" = none)
  bool connected_once = false;
};

MqttPusher::MqttPusher() : state_(std::make_shared<State>()) {}

MqttPusher::~MqttPusher() {
  if (client_) client_->Stop();
}

PushResult MqttPusher::Publish(const MqttTargetConfig& config, const OutboundPolicy& policy,
                               std::vector<mqtt::OutgoingMessage> messages, int qos, bool retain,
                               TimeMs timeout_ms, std::atomic<bool>* stop) {
  PushResult r;
  auto stopped = [stop] { return stop != nullptr && stop->load(); };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  if (!client_ || !(config == config_)) {
    if (client_) client_->Stop();
    client_.reset();
    auto url = mqtt::ParseBrokerUrl(config.url, "url");
    if (!url.ok()) {
      r.error = url.status().message();
      return r;
    }
    mqtt::ClientOptions o;
    o.host = url->host;
    o.port = url->port;
    o.tls = url->tls;
    o.client_id = config.client_id;
    if (!config.username.empty()) o.username = config.username;
    if (!config.password.empty()) o.password = config.password;
    o.clean_session = true;  // publishing only: nothing to keep at the broker
    o.outbound = policy;     // a user-configured broker: trusted stays false
    o.reconnect_max_ms = 5000;
    o.quick_ack = true;  // a batch waits for its PUBACKs: no delayed-ACK stall per batch
    auto client = std::make_unique<mqtt::MqttClient>(o);
    std::weak_ptr<State> weak = state_;
    client->set_on_connect([weak](const mqtt::ConnectInfo&) {
      if (auto s = weak.lock()) {
        std::lock_guard lk(s->mu);
        s->last_error.clear();
        s->connected_once = true;
        s->cv.notify_all();
      }
    });
    client->set_on_disconnect([weak](const Status& st) {
      if (auto s = weak.lock()) {
        std::lock_guard lk(s->mu);
        s->last_error = st.ok() ? "disconnected from the MQTT broker" : st.message();
        s->cv.notify_all();
      }
    });
    if (Status st = client->Start(); !st.ok()) {
      r.error = st.message();
      return r;
    }
    client_ = std::move(client);
    config_ = config;
    // The first connection: wait for it (at most the timeout) instead of failing at once.
    std::unique_lock lk(state_->mu);
    state_->cv.wait_until(lk, deadline, [&] {
      return client_->connected() || !state_->last_error.empty() || stopped();
    });
  }
  if (!client_->connected()) {
    std::lock_guard lk(state_->mu);
    r.error = state_->last_error.empty() ? "not connected to the MQTT broker" : state_->last_error;
    return r;
  }
  // The batch's one answer (the client counts the PUBACKs), reported under the state's lock.
  struct Answer {
    bool done = false;
    std::string error;
  };
  auto answer = std::make_shared<Answer>();
  std::weak_ptr<State> weak = state_;
  Status st = client_->PublishBatch(std::move(messages), static_cast<uint8_t>(qos), retain,
                                    [weak, answer](const Status& s) {
                                      auto state = weak.lock();
                                      if (!state) return;
                                      std::lock_guard lk(state->mu);
                                      answer->done = true;
                                      if (!s.ok()) answer->error = s.message();
                                      state->cv.notify_all();
                                    });
  if (!st.ok()) {
    r.error = st.message();
    return r;
  }
  std::unique_lock lk(state_->mu);
  state_->cv.wait_until(lk, deadline, [&] { return answer->done || stopped(); });
  if (!answer->done) {
    r.error =
        "no acknowledgement from the MQTT broker within " + std::to_string(timeout_ms) + " ms";
    return r;
  }
  if (!answer->error.empty()) {
    r.error = answer->error;
    return r;
  }
  r.ok = true;
  return r;
}

}  // namespace bysans::share
