#pragma once
#include <cstddef>
#include <cstdint>

namespace bysans::lorawan {
// Feeds bytes to the ChirpStack event parser for every event type; must never crash.
void FuzzChirpstackEvent(const uint8_t* data, size_t size);
}  // namespace bysans::lorawan
