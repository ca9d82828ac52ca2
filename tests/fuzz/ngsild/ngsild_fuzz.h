#pragma once
#include <cstddef>
#include <cstdint>

namespace bysans::ngsild {
// Feeds bytes to what reads untrusted text in src/ngsild: a broker's 207 BatchOperationResult
// and ProblemDetails, and a decoder's output taken as NGSI-LD entities; must never crash.
void FuzzNgsiLd(const uint8_t* data, size_t size);
}  // namespace bysans::ngsild
