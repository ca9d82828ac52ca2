// GET /healthz, GET /metrics, GET /api/openapi.json (no authentication; /metrics
// needs a bearer token when http.metrics_token is set).
#include <sodium.h>

#include "api/common.h"
#include "api/openapi.h"

namespace bysans::api {
namespace {

// "Authorization: Bearer <token>", compared in constant time.
bool BearerMatches(const http::Request& req, const std::string& token) {
  std::string_view h = req.headers.Get("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (h.size() != kBearer.size() + token.size() || h.substr(0, kBearer.size()) != kBearer)
    return false;
  return sodium_memcmp(h.data() + kBearer.size(), token.data(), token.size()) == 0;
}

}  // namespace

void RegisterSystemRoutes(http::Router& router, ApiContext& ctx) {
  AddPublic(router, "GET", "/healthz", "Liveness check",
            [](http::Request&) -> Result<http::Response> {
              return Json(200, {{"status", "ok"}});
            });
  AddPublic(router, "GET", "/metrics", "Prometheus metrics",
            [&ctx](http::Request& req) -> Result<http::Response> {
              if (!ctx.metrics_token.empty() && !BearerMatches(req, ctx.metrics_token)) {
                http::Response r = http::ErrorResponse(
                    Unauthenticated("/metrics needs Authorization: Bearer <http.metrics_token>"));
                r.headers.Set("www-authenticate", "Bearer");
                return r;
              }
              http::Response r;
              r.status = 200;
              r.headers.Set("content-type", "text/plain; version=0.0.4; charset=utf-8");
              r.body = ctx.metrics.Serialize();
              return r;
            });
  // The router is built at startup and outlives its handlers, so reading its
  // routes at request time lists every route, including later groups'.
  AddPublic(router, "GET", "/api/openapi.json", "This OpenAPI document",
            [&router](http::Request&) -> Result<http::Response> {
              return Json(200, BuildOpenApi(router.Routes()));
            });
}

}  // namespace bysans::api
