// Test harness shared by the MqttClient tests (client_test.cc, client_tls_test.cc):
// bounded waits, a thread-safe recorder of what a client sees, a set of clients whose
// recorders outlive them, and a SUBSCRIBE that waits for its SUBACK.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mqtt/client.h"

namespace bysans::mqtt::testing {

inline bool WaitFor(const std::function<bool()>& pred, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Collects what a client sees. Thread-safe.
struct Recorder {
  std::mutex mu;
  std::vector<IncomingMessage> messages;
  std::vector<AckHandle> held;
  std::vector<Status> disconnects;
  std::vector<ConnectInfo> connects;
  bool auto_ack = true;

  void Attach(MqttClient& c) {
    c.set_on_message([this](IncomingMessage m, AckHandle h) {
      std::lock_guard lk(mu);
      messages.push_back(std::move(m));
      if (auto_ack) {
        h.Ack();
      } else {
        held.push_back(std::move(h));
      }
    });
    c.set_on_connect([this](const ConnectInfo& info) {
      std::lock_guard lk(mu);
      connects.push_back(info);
    });
    c.set_on_disconnect([this](const Status& st) {
      std::lock_guard lk(mu);
      disconnects.push_back(st);
    });
  }
  size_t message_count() {
    std::lock_guard lk(mu);
    return messages.size();
  }
  size_t connect_count() {
    std::lock_guard lk(mu);
    return connects.size();
  }
  size_t disconnect_count() {
    std::lock_guard lk(mu);
    return disconnects.size();
  }
  bool HasPayload(const std::string& p) {
    std::lock_guard lk(mu);
    for (const auto& m : messages) {
      if (m.payload == p) return true;
    }
    return false;
  }
};

// Clients and their recorders; the recorders outlive the clients (callbacks run until a
// client stops). Clear() stops the clients first.
class ClientSet {
 public:
  Recorder& NewRecorder() {
    recorders_.push_back(std::make_unique<Recorder>());
    return *recorders_.back();
  }
  MqttClient& NewClient(const ClientOptions& o, Recorder& rec) {
    clients_.push_back(std::make_unique<MqttClient>(o));
    rec.Attach(*clients_.back());
    return *clients_.back();
  }
  void Clear() {
    clients_.clear();
    recorders_.clear();
  }
  ~ClientSet() { Clear(); }

 private:
  std::vector<std::unique_ptr<Recorder>> recorders_;
  std::vector<std::unique_ptr<MqttClient>> clients_;
};

// Subscribes to `filter` with QoS 1 and waits for the SUBACK; nullopt when none came
// (or the request was refused at once).
inline std::optional<Result<std::vector<uint8_t>>> SubscribeQos1(MqttClient& c,
                                                                 const std::string& filter,
                                                                 int timeout_ms) {
  auto mu = std::make_shared<std::mutex>();
  auto r = std::make_shared<std::optional<Result<std::vector<uint8_t>>>>();
  if (!c.Subscribe({{filter, 1, false}}, [mu, r](Result<std::vector<uint8_t>> res) {
          std::lock_guard lk(*mu);
          *r = std::move(res);
        }).ok()) {
    return std::nullopt;
  }
  if (!WaitFor(
          [&] {
            std::lock_guard lk(*mu);
            return r->has_value();
          },
          timeout_ms)) {
    return std::nullopt;
  }
  std::lock_guard lk(*mu);
  return *r;
}

}  // namespace bysans::mqtt::testing
