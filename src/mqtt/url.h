// Broker URLs: mqtt://[user[:password]@]host[:port] (default port 1883) and
// mqtts://...[:port] (TLS, default port 8883). A path after the host is ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"

namespace bysans::mqtt {

struct BrokerUrl {
  std::string host;
  uint16_t port = 1883;
  bool tls = false;
  std::optional<std::string> username;
  std::optional<std::string> password;
};

// kInvalidArgument naming `setting` (e.g. "mqtt.url" or "url") when the URL is not one of the
// above.
Result<BrokerUrl> ParseBrokerUrl(const std::string& url, const std::string& setting);

}  // namespace bysans::mqtt
