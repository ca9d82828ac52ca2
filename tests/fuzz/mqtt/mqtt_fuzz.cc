#include "mqtt_fuzz.h"

#include <string_view>

#include "mqtt/packet.h"

namespace bysans::mqtt {

void FuzzStreamDecoder(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const size_t chunk = 1 + data[0] % 17;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (int protocol : {kProtocol311, kProtocol5}) {
    StreamDecoder dec(protocol, 1 << 16);
    for (size_t off = 0; off < bytes.size(); off += chunk) {
      dec.Feed(bytes.substr(off, chunk));
      while (true) {
        auto next = dec.Next();
        if (!next.ok() || !next->has_value()) break;
        const Packet& p = **next;
        auto again = Encode(p, protocol);
        if (again.ok()) {
          StreamDecoder check(protocol, 1 << 17);
          check.Feed(*again);
          (void)check.Next();
        }
        if (const auto* pub = std::get_if<Publish>(&p)) {
          (void)TopicMatches("devices/+/up", pub->topic);
          (void)TopicMatches("$share/g/#", pub->topic);
          (void)ValidateTopicFilter(pub->topic);
        }
      }
      if (!dec.Next().ok()) break;
    }
  }
}

}  // namespace bysans::mqtt
