// JsEngine: runs JavaScript payload decoders (OS2iot, TTN, ChirpStack contracts) in SpiderMonkey.
//
// One engine per worker thread: it owns one JSRuntime/JSContext and must be created, used and
// destroyed on that thread (thread-compatible, not thread-safe). Each decoder (org, decoder id,
// version) gets its own global (realm, in its own compartment) with fresh built-ins, so one
// decoder cannot see or change another's globals or built-ins (Object.prototype.toJSON), even
// in the same organisation. It is compiled once and its realm and entry functions are cached
// (LRU, Limits::cached_decoders). Decoders see only ECMAScript built-ins plus atob, btoa, console
// (captured into the result log) and a Node-like Buffer subset; no require, process, import, fetch,
// timers, files, WebAssembly, SharedArrayBuffer or Atomics.
//
// Limits: CPU time per call (interrupt callback + watchdog thread), memory per call (allocator
// budget) and GC heap per context, output JSON size. A decoder that breaks a limit gets a clear
// error Status; the engine stays usable for the next call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/status.h"
#include "decode/decoder.h"

namespace bysans::decode {

struct Limits {
  int64_t time_ms = 100;  // per decode call, including the decoder's top level
  // Memory one call may allocate: the calling thread's malloc'd memory (ArrayBuffer contents,
  // string chars, elements) may grow by at most this much during the call, enforced in the
  // allocator (js/alloc_budget.h; a failed allocation ends the call with "memory limit
  // exceeded"). The context's GC heap (JSGC_MAX_BYTES, set at Create from the defaults) is this
  // plus the cached realms. Under sanitizers, which own malloc, a coarse watchdog check of
  // process-wide malloc statistics stands in, with the defaults' value.
  size_t heap_bytes = 32u << 20;
  size_t output_bytes = 1u << 20;  // JSON output of one call
  // Decoders kept compiled per engine, each in its own realm (~130 KB of GC heap, ~300 KB of
  // RSS); the least recently used is dropped beyond this. Read at Create.
  size_t cached_decoders = 128;
};

// Identifies a decoder version. decoder_id 0 means "ad-hoc code" (e.g. the test endpoint): it
// is cached by a hash of the code instead.
struct JsDecoder {
  Id org_id = 0;
  Id decoder_id = 0;
  int64_t version = 0;
  std::string_view code;
  // The calling convention chosen for the decoder; kUnknown means "auto" (detected from the
  // code).
  Contract contract = Contract::kUnknown;
};

class JsEngine {
 public:
  // Creates the context and its watchdog thread. Call on the thread that will use the engine.
  static Result<std::unique_ptr<JsEngine>> Create(const Limits& defaults = {});
  ~JsEngine();
  JsEngine(const JsEngine&) = delete;
  JsEngine& operator=(const JsEngine&) = delete;

  // Runs the decoder on `input` with the default limits. The contract is taken from the
  // functions the code defines (decodeUplink, then decode, Decode, Decoder). Readings carry
  // `device_id` and input.recv_time (unless the output has its own timestamps).
  DecodeResult Decode(const JsDecoder& decoder, const DecodeInput& input, Id device_id = 0);
  // Same, with per-call time / memory / output limits (cached_decoders is read at Create).
  DecodeResult Decode(const JsDecoder& decoder, const DecodeInput& input, Id device_id,
                      const Limits& limits);

  // Encodes a downlink object with the decoder's encodeDownlink({data, fPort}) under the same
  // time / memory / output limits as Decode. An error when the code has no encodeDownlink.
  EncodeResult Encode(const JsDecoder& decoder, const EncodeInput& input, const Limits& limits);

  // Drops an organisation's global and its cached decoders (e.g. after its decoders changed).
  void DropOrganisation(Id org_id);
  size_t cached_decoders() const;
  // Bytes in the context's GC heap right now (after an optional full GC).
  size_t GcHeapBytes(bool collect_first);

 private:
  struct Impl;
  explicit JsEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bysans::decode
