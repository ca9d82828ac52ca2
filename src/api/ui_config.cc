// GET /api/v1/ui-config: settings the web UI reads at start (the map tile
// URL from the setting web.tile_url). Public: it holds nothing secret.
#include "api/common.h"
#include "api/stream.h"

namespace bysans::api {

void RegisterUiConfigRoutes(http::Router& router, std::string tile_url) {
  AddPublic(router, "GET", "/api/v1/ui-config", "Settings the web UI needs (map tile URL)",
            [tile_url = std::move(tile_url)](http::Request&) -> Result<http::Response> {
              return Json(200, {{"tileUrl", tile_url}});
            });
}

}  // namespace bysans::api
