// The MQTT packet decoder fuzz body, shared by the libFuzzer target and the replay test.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bysans::mqtt {
// Decodes `data` as a broker's byte stream in both protocol versions, chunked by the first
// byte; re-encodes what decodes. Must never crash, hang or leak.
void FuzzStreamDecoder(const uint8_t* data, size_t size);
}  // namespace bysans::mqtt
