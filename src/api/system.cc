// GET /healthz, GET /metrics, GET /api/openapi.json (no authentication).
#include "api/common.h"
#include "api/openapi.h"

namespace bysans::api {

void RegisterSystemRoutes(http::Router& router, ApiContext& ctx) {
  AddPublic(router, "GET", "/healthz", "Liveness check",
            [](http::Request&) -> Result<http::Response> {
              return Json(200, {{"status", "ok"}});
            });
  AddPublic(router, "GET", "/metrics", "Prometheus metrics",
            [&ctx](http::Request&) -> Result<http::Response> {
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
