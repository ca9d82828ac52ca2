// The outbound-address policy (core/outbound_policy.h) on a libcurl handle: every socket curl
// opens is checked on its resolved address, no proxy comes from the environment, and a failure
// to connect reads the neutral "could not connect to <host>" for users, the detail going to the
// server log. The same semantics as act/outbox.cc; kept here so this module needs no other
// module's libcurl code.
#pragma once

#include <curl/curl.h>

#include <string>

#include "core/outbound_policy.h"

namespace bysans::ngsild {

// Lives as long as the transfer. `refused` says why the policy refused the last address.
struct OutboundGate {
  const OutboundPolicy* policy = nullptr;
  std::string refused;
};

// Sets the open-socket check, no proxy, http/https only, and no signals on `curl`.
void GuardConnections(CURL* curl, OutboundGate* gate);

// True for errors of the connection phase (shown to users only as the neutral message).
bool IsConnectError(CURLcode rc);

}  // namespace bysans::ngsild
