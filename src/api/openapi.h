// The OpenAPI 3.0 document served at GET /api/openapi.json: paths come from
// the router's routes (so every registered route is listed), request and
// response schemas from a hand-written table (api/openapi.cc).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http/router.h"

namespace bysans::api {

nlohmann::json BuildOpenApi(const std::vector<http::RouteInfo>& routes);

// "METHOD pattern" of routes the schema table does not describe (they are
// still listed, with a generic response).
std::vector<std::string> RoutesWithoutSchema(const std::vector<http::RouteInfo>& routes);

}  // namespace bysans::api
