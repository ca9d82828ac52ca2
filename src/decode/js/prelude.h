// The JS prelude evaluated in each new organisation global: a Node-like Buffer subset built on
// Uint8Array (using atob and btoa), TextEncoder / TextDecoder (UTF-8) and ES2023
// Array.prototype / %TypedArray%.prototype findLast and findLastIndex; all non-enumerable.
#pragma once

namespace bysans::decode::js {

extern const char kPrelude[];

}  // namespace bysans::decode::js
