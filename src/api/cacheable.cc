#include "api/cacheable.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace bysans::api {
namespace {

// 64-bit FNV-1a of the body, as a weak validator.
std::string ETagOf(std::string_view body) {
  uint64_t h = 14695981039346656037ULL;
  for (char c : body) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string("W/\"") + buf + "\"";
}

}  // namespace

http::Response Cacheable(const http::Request& req, http::Response r) {
  const std::string etag = ETagOf(r.body);
  r.headers.Set("Cache-Control", "public, max-age=60");
  r.headers.Set("Vary", "Host");
  r.headers.Set("ETag", etag);
  const std::string& match = req.headers.Get("if-none-match");
  if (!match.empty() && (match == etag || match == "*" || match.find(etag) != std::string::npos)) {
    r.status = 304;
    r.body.clear();
  }
  return r;
}

}  // namespace bysans::api
