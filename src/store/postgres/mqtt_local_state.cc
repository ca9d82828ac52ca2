#include "store/postgres/mqtt_local_state.h"

#include <algorithm>
#include <chrono>

namespace bysans::pg {

void MqttLocalState::SetCredentialsApplied(int64_t generation) {
  {
    std::lock_guard lk(mu_);
    applied_ = std::max(applied_, generation);
  }
  applied_cv_.notify_all();
}

bool MqttLocalState::WaitCredentialsApplied(int64_t generation, int timeout_ms) {
  std::unique_lock lk(mu_);
  // No supervised broker reporting (applied_ < 0): nothing to wait for.
  return applied_cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms),
                              [&] { return applied_ < 0 || applied_ >= generation; });
}

void MqttLocalState::SetBrokerEndpoint(std::string host, int port) {
  std::lock_guard lk(mu_);
  endpoint_ = {std::move(host), port};
}

std::pair<std::string, int> MqttLocalState::broker_endpoint() const {
  std::lock_guard lk(mu_);
  return endpoint_;
}

void MqttLocalState::SetIntegrationState(Id id, IntegrationState state) {
  std::lock_guard lk(mu_);
  states_[id] = std::move(state);
}

IntegrationState MqttLocalState::integration_state(Id id) const {
  std::lock_guard lk(mu_);
  auto it = states_.find(id);
  return it == states_.end() ? IntegrationState{} : it->second;
}

void MqttLocalState::ForgetIntegration(Id id) {
  std::lock_guard lk(mu_);
  states_.erase(id);
}

}  // namespace bysans::pg
