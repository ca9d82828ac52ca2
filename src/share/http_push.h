// HTTP push of data targets: POSTs a JSON body with libcurl, through the outbound-address
// policy (act/curl_gate.h). One HttpPusher per delivery worker keeps its connection alive
// between requests. Thread-compatible.
#pragma once

#include <atomic>
#include <map>
#include <string>

#include "core/clock.h"
#include "core/outbound_policy.h"

namespace bysans::share {

struct PushResult {
  bool ok = false;
  long http_status = 0;  // 0 = no answer
  std::string error;     // for users: never an address (CouldNotConnectMessage)
};

class HttpPusher {
 public:
  HttpPusher();
  ~HttpPusher();
  HttpPusher(const HttpPusher&) = delete;
  HttpPusher& operator=(const HttpPusher&) = delete;

  // 2xx is success. `stop` (may be null) aborts the transfer when it becomes true.
  PushResult Post(const std::string& url, const std::map<std::string, std::string>& headers,
                  const std::string& body, TimeMs timeout_ms, const OutboundPolicy& policy,
                  std::atomic<bool>* stop);

 private:
  void* curl_;
};

// True for a header name and value that cannot inject another header line.
bool IsSafeHeader(const std::string& name, const std::string& value);

}  // namespace bysans::share
