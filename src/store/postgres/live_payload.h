// The live relay's payloads (pg_live_relay.h): messages' rule-feed records (store/rule_feed.h) as
// hex, packed into NOTIFY payloads "<node> <hex>,<hex>,…" below PostgreSQL's 8000-byte limit.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/model.h"

namespace bysans::pg {

// Payload bytes at most (PostgreSQL refuses 8000 and more).
inline constexpr size_t kMaxLivePayload = 7900;

// The hex records of one message for a node name of `node_length` bytes: one when it fits a
// payload, else the readings split over several records of the same device. A single reading
// too big for a payload is left out (counted in *left_out).
std::vector<std::string> LiveRecords(const Device& device, std::span<const Reading> readings,
                                     size_t node_length, size_t* left_out);
// Packs records (each fitting a payload) into payloads of at most kMaxLivePayload bytes.
std::vector<std::string> LivePayloads(std::string_view node, std::span<const std::string> records);

}  // namespace bysans::pg
