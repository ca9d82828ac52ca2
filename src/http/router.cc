#include "http/router.h"

namespace bysans::http {
namespace {

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool IsParam(const std::string& seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

// "{*name}" as the last segment: the rest of the path (one or more segments, joined by '/').
bool IsRest(const std::vector<std::string>& segments) {
  return !segments.empty() && segments.back().size() > 3 && segments.back().rfind("{*", 0) == 0 &&
         segments.back().back() == '}';
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler, std::string summary) {
  Route r;
  r.segments = Split(pattern);
  r.info = {std::move(method), std::move(pattern), std::move(summary)};
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

void Router::Dispatch(Request& req, Responder respond) const {
  std::vector<std::string> segs = Split(req.path);
  bool path_matched = false;
  for (const Route& r : routes_) {
    const bool rest = IsRest(r.segments);
    if (rest ? segs.size() < r.segments.size() : r.segments.size() != segs.size()) continue;
    std::map<std::string, std::string> params;
    bool match = true;
    const size_t fixed = rest ? r.segments.size() - 1 : segs.size();
    for (size_t i = 0; i < fixed && match; ++i) {
      if (IsParam(r.segments[i]))
        params[r.segments[i].substr(1, r.segments[i].size() - 2)] = segs[i];
      else
        match = r.segments[i] == segs[i];
    }
    if (!match) continue;
    if (rest) {
      std::string tail;
      for (size_t i = fixed; i < segs.size(); ++i) tail += (i > fixed ? "/" : "") + segs[i];
      params[r.segments.back().substr(2, r.segments.back().size() - 3)] = std::move(tail);
    }
    path_matched = true;
    if (r.info.method != req.method && !(req.method == "HEAD" && r.info.method == "GET")) continue;
    req.params = std::move(params);
    r.handler(req, std::move(respond));
    return;
  }
  if (path_matched) {
    Response resp = ErrorResponse(405, "method_not_allowed",
                                  "method " + req.method + " is not allowed on " + req.path);
    respond(std::move(resp));
    return;
  }
  if (fallback_) {
    fallback_(req, std::move(respond));
    return;
  }
  respond(ErrorResponse(404, "not_found", "no route for " + req.path));
}

std::vector<RouteInfo> Router::Routes() const {
  std::vector<RouteInfo> out;
  for (const auto& r : routes_) out.push_back(r.info);
  return out;
}

}  // namespace bysans::http
