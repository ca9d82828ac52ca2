// Engine-neutral HTTP request and response types. API handlers see only
// these; Boost.Beast stays inside server/http_server.cc.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace bysans::http {

// Case-insensitive header map (names stored lower-case).
class Headers {
 public:
  void Set(std::string_view name, std::string value);
  void Add(std::string_view name, std::string value);  // keeps earlier values
  // First value or "" when absent.
  const std::string& Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& all() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct Request {
  std::string method;                        // "GET", "POST", ...
  std::string target;                        // as received: path + "?" + query
  std::string path;                          // decoded path, no query
  std::map<std::string, std::string> query;  // decoded query parameters (last wins)
  Headers headers;
  std::string body;
  std::string remote_addr;
  bool tls = false;
  // Filled by the router from the route pattern, e.g. {"orgId": "7"}.
  std::map<std::string, std::string> params;

  const std::string* Query(std::string_view name) const;
  const std::string& Param(const std::string& name) const;
  // The value of a cookie or "" when absent.
  std::string Cookie(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When set, the server streams: it calls this until it returns false
  // (used for server-sent events). Empty for ordinary responses.
  std::function<bool(std::string& chunk)> stream;
};

// Called exactly once with the response. May be called from any thread.
using Responder = std::function<void(Response)>;
using Handler = std::function<void(Request&, Responder)>;

// The one error shape: {"error": {"code": "...", "message": "..."}}.
Response ErrorResponse(const Status& status);
Response ErrorResponse(int http_status, std::string_view code, std::string_view message);
int HttpStatusFor(Code code);
Response JsonResponse(int status, std::string body);

// Splits "a=1&b=x%20y" into a map, percent-decoding names and values.
std::map<std::string, std::string> ParseQuery(std::string_view query);
std::string PercentDecode(std::string_view s, bool plus_as_space);

}  // namespace bysans::http
