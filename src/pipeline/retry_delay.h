// How long a transport that keeps its own refused uplinks (MQTT ingest, SensorThings over MQTT:
// the broker has delivered them, and they are acknowledged only once stored) waits before
// submitting one again.
// - A full pipeline or store queue (kUnavailable): kFullRetryMs. That is the store's own pace;
//   waiting longer would leave it idle.
// - The organisation holds its share of the pipeline (kRateLimited, org_window.h): 20 ms, doubling
//   while the refusals last, up to 0.5 s. Every 20 ms, up to a broker session's whole receive
//   window of such messages (16,000: 800,000 tries a second) would be a core spent on retries
//   while one organisation keeps its share full (e.g. with a CoAP flood of its own).
#pragma once

#include <algorithm>
#include <cstdint>

namespace bysans::pipeline {

inline constexpr int64_t kFullRetryMs = 20;
inline constexpr int64_t kShareFirstRetryMs = 20, kShareMaxRetryMs = 500;

// The wait after another kRateLimited refusal, given the last wait (0 before the first).
inline int64_t NextShareRetryMs(int64_t last_ms) {
  return std::clamp(last_ms * 2, kShareFirstRetryMs, kShareMaxRetryMs);
}

}  // namespace bysans::pipeline
