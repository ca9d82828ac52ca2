// The process-local part of an MqttStore (store/mqtt_store.h), kept in memory, not in the
// database: the credentials generation and the generation the supervised broker has taken up,
// the broker endpoint, the integrations generation and each integration's connection state.
// Thread-safe. Several nodes: each node has its own; a credential or integration changed on
// another node bumps this node's generations through the change feed (change_feed.h).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "store/mqtt_store.h"

namespace bysans::pg {

class MqttLocalState {
 public:
  int64_t credentials_generation() const { return credentials_gen_.load(); }
  int64_t BumpCredentials() { return credentials_gen_.fetch_add(1) + 1; }
  void SetCredentialsApplied(int64_t generation);
  bool WaitCredentialsApplied(int64_t generation, int timeout_ms);

  void SetBrokerEndpoint(std::string host, int port);
  std::pair<std::string, int> broker_endpoint() const;

  int64_t integrations_generation() const { return integrations_gen_.load(); }
  void BumpIntegrations() { integrations_gen_.fetch_add(1); }
  void SetIntegrationState(Id id, IntegrationState state);
  IntegrationState integration_state(Id id) const;
  void ForgetIntegration(Id id);

 private:
  std::atomic<int64_t> credentials_gen_{0};
  std::atomic<int64_t> integrations_gen_{0};
  mutable std::mutex mu_;
  std::condition_variable applied_cv_;
  int64_t applied_ = -1;  // guarded by mu_; -1: no supervised broker reports
  std::pair<std::string, int> endpoint_{"127.0.0.1", 0};  // guarded by mu_
  std::map<Id, IntegrationState> states_;                 // guarded by mu_
};

}  // namespace bysans::pg
