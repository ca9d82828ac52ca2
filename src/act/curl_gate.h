// The outbound-address policy for libcurl transfers (core/outbound_policy.h): every socket curl
// opens is checked on its resolved address right before it connects. Shared by the action
// outbox (act/outbox.h) and the data targets (share/http_push.h).
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <string>

#include "core/outbound_policy.h"

namespace bysans::act {

// What the open-socket callback checks; `refused` says why it refused the last address (for
// the server log only).
struct CurlGate {
  const OutboundPolicy* policy = nullptr;
  std::string refused;
};

// Sets on `c`: no proxy from the environment (the policy must see the target's own address),
// the policy check on every socket (`gate` must outlive the transfer), no signals, and an abort
// of the transfer as soon as `*stop` is true (null: never).
void ApplyCurlGate(CURL* c, CurlGate* gate, std::atomic<bool>* stop);

// Errors of the connection phase: shown to users only as CouldNotConnectMessage.
bool IsConnectPhaseError(CURLcode rc);

}  // namespace bysans::act
