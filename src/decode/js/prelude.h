// The JS prelude evaluated in each new organisation global: a Node-like Buffer subset built
// on Uint8Array, atob and btoa.
#pragma once

namespace bysans::decode::js {

extern const char kPrelude[];

}  // namespace bysans::decode::js
