// SMS through an SMS provider's HTTP API (issue 20): the organisation's gateway (store
// SmsGateway: URL, method, headers, a form or JSON body template) with the placeholders
// {{to}}, {{message}} and {{secret}} filled in per message, sent with libcurl behind the
// outbound-address policy (act/curl_gate.h). Used by the outbox (rule actions "sms" and
// "notify_contacts") and by the gateway's test endpoint (api/sms_gateway.cc).
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/outbound_policy.h"
#include "core/status.h"
#include "store/contact_store.h"

namespace bysans::act {

inline constexpr size_t kMaxSmsMessage = 1600;  // bytes of one message (about 10 SMS parts)

// Checks what the API stores: an http(s) URL without credentials, spaces or control
// characters; method POST or GET; at most 20 headers, names of token characters, values
// without CR, LF or NUL; body format form or json; a body of at most 4096 bytes.
Status ValidateSmsGateway(const SmsGateway& g);

// One request to the gateway.
struct SmsRequest {
  std::string method;  // POST | GET
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // POST only
};

// The request that sends `message` to `to` (E.164): placeholders URL-encoded in the URL and a
// form body, JSON-escaped in a JSON body, as they are in headers (a value with CR or LF after
// the substitution is InvalidArgument). Content-Type follows the body format unless a header
// sets it.
Result<SmsRequest> BuildSmsRequest(const SmsGateway& g, std::string_view secret,
                                   std::string_view to, std::string_view message);

struct SmsResult {
  bool ok = false;
  long http_status = 0;    // 0 when no answer came
  std::string error;       // for users: never an address (CouldNotConnectMessage)
  bool permanent = false;  // retrying cannot help
};

// Sends `r` on `c` (reset first): 2xx is success, anything else an error; `stop` (may be null)
// aborts. Details of a refused or failed connection go to the server log only.
SmsResult SendSms(CURL* c, const SmsRequest& r, const OutboundPolicy& policy, long timeout_ms,
                  std::atomic<bool>* stop);

}  // namespace bysans::act
