#include "chirpstack_fuzz.h"

#include <string_view>

#include "lorawan/chirpstack.h"

namespace bysans::lorawan {

void FuzzChirpstackEvent(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (const char* type : {"up", "status", "join", "ack", "txack"}) {
    auto topic =
        ParseEventTopic(std::string("application/a/device/0101010101010101/event/") + type);
    if (!topic.ok()) continue;
    auto e = ParseEvent(*topic, bytes);
    if (e.ok()) (void)BestGateway(*e);
  }
  (void)ParseEventTopic(bytes);
  auto decoded = DecodeBase64(bytes);
  if (decoded.ok()) (void)EncodeBase64(*decoded);
}

}  // namespace bysans::lorawan
