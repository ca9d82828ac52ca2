// Maps (method, path pattern) to handlers. Patterns are literal segments and
// {name} placeholders: "/api/v1/organizations/{orgId}/applications"; a last segment "{*name}"
// takes the rest of the path, one or more segments ("/sta/v1.1/{*path}").
// Build it at startup, then use it read-only from any thread.
#pragma once

#include <string>
#include <vector>

#include "http/message.h"

namespace bysans::http {

struct RouteInfo {
  std::string method;
  std::string pattern;
  std::string summary;  // for OpenAPI
};

class Router {
 public:
  void Add(std::string method, std::string pattern, Handler handler, std::string summary = {});
  // Fallback for paths no route matches (e.g. static files); default 404.
  void SetFallback(Handler handler) { fallback_ = std::move(handler); }

  // Finds the route, fills req.params and calls the handler. Answers 404 for
  // an unknown path and 405 for a known path with another method.
  void Dispatch(Request& req, Responder respond) const;

  std::vector<RouteInfo> Routes() const;

 private:
  struct Route {
    RouteInfo info;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
  Handler fallback_;
};

}  // namespace bysans::http
