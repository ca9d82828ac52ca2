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

// "lorawan:{event}:{device}:{id}" for a ChirpStack event ("up", "status", …) of `device` whose
// id (its deduplicationId, or device, frame counter and time) is `id`. The device bysans resolved
// is part of the key, so an event sent through one organisation's ChirpStack can never match, and
// so suppress, another device's; an id longer than 100 bytes is replaced by "#{Fnv1a(id)}" (the
// key stays small enough for the store's unique index).
std::string LorawanEventDedupKey(std::string_view event, Id device, std::string_view id);

}  // namespace bysans::mqtt
