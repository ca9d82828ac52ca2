#include "api/ui_config.h"

#include "api/common.h"

namespace bysans::api {

void RegisterUiConfigRoutes(http::Router& router, std::shared_ptr<const UiConfig> config) {
  AddPublic(router, "GET", "/api/v1/ui-config",
            "Settings the web UI needs (map tile URL, the CoAP ports devices use)",
            [config = std::move(config)](http::Request&) -> Result<http::Response> {
              json out = {{"tileUrl", config->tile_url}};
              if (int udp = config->coap_udp_port.load(); udp != 0) {
                out["coap"] = {{"udpPort", udp}};
                if (int dtls = config->coap_dtls_port.load(); dtls != 0)
                  out["coap"]["dtlsPort"] = dtls;
              }
              return Json(200, out);
            });
}

}  // namespace bysans::api
