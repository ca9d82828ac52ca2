#include "mqtt/url.h"

namespace bysans::mqtt {

Result<BrokerUrl> ParseBrokerUrl(const std::string& url, const std::string& setting) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("invalid setting " + setting + "=\"" + url + "\": " + why);
  };
  BrokerUrl b;
  std::string rest;
  if (url.rfind("mqtt://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("mqtts://", 0) == 0) {
    rest = url.substr(8);
    b.tls = true;
    b.port = 8883;
  } else {
    return bad("must start with mqtt:// or mqtts://");
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    std::string cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = cred.find(':');
    b.username = cred.substr(0, colon);
    if (colon != std::string::npos) b.password = cred.substr(colon + 1);
  }
  if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    std::string digits = rest.substr(colon + 1);
    int port = 0;
    for (char c : digits) {
      if (c < '0' || c > '9' || port > 65535) return bad("bad port");
      port = port * 10 + (c - '0');
    }
    if (digits.empty() || port <= 0 || port > 65535) return bad("bad port");
    b.port = static_cast<uint16_t>(port);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return bad("no host");
  for (char c : rest) {
    if (c == ' ' || c == '[' || c == ']' || static_cast<unsigned char>(c) < 0x21)
      return bad("bad host");
  }
  b.host = rest;
  return b;
}

}  // namespace bysans::mqtt
