// GET /api/v1/ui-config: settings the web UI reads at start. Public: the answer holds nothing
// secret (the map tile URL and, when CoAP ingest is on, the ports devices reach it on).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "http/router.h"

namespace bysans::api {

struct UiConfig {
  std::string tile_url;  // web.tile_url
  // Set by server/ once the CoAP server has bound its ports; 0 = not listening.
  std::atomic<int> coap_udp_port{0};
  std::atomic<int> coap_dtls_port{0};
};

// → {"tileUrl": …, "coap": {"udpPort": …, "dtlsPort": …}} ("coap" only while it listens).
void RegisterUiConfigRoutes(http::Router& router, std::shared_ptr<const UiConfig> config);

}  // namespace bysans::api
