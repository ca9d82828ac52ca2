// The idempotency key of a device message that carries its own time (ingest.cc): the store
// skips a message whose key it already committed, so these strings must never change.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/model.h"

namespace bysans::mqtt {

// FNV-1a, 64 bits: stable across builds (dedup keys outlive a process).
uint64_t Fnv1a(std::string_view s);

// "mqtt:{ts}:{device}:{Fnv1a(payload)}" in decimal. Time first: keys then arrive in roughly
// ascending order, so the store's unique index on them grows at its right edge.
std::string DeviceMessageDedupKey(TimeMs ts, Id device, std::string_view payload);

}  // namespace bysans::mqtt
