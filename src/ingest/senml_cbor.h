// SenML CBOR (RFC 8428 §6, Content-Format 112) → SenML JSON, through a small bounded CBOR
// reader: the JSON then goes through ParseSenml (senml.h) like any SenML JSON pack.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace bysans::ingest {

struct CborLimits {
  size_t max_bytes = 64 * 1024;  // larger documents: kTooLarge
  int max_depth = 16;            // nested arrays/maps (a SenML pack needs 2)
  size_t max_items = 20'000;     // data items in the whole document
};

// Converts one CBOR document holding a SenML pack to its SenML JSON text. Integer map keys are
// the RFC 8428 §6 labels (bver -1, bn -2, bt -3, bu -4, bv -5, bs -6, n 0, u 1, v 2, vs 3,
// vb 4, s 5, t 6, ut 7, vd 8), turned into their JSON names; text keys are kept; byte strings
// (vd) become base64 text. Definite lengths only; tags are skipped (their content is read);
// half, single and double floats, integers up to 64 bits, true/false/null.
// Errors (kInvalidArgument, with the byte offset): truncated input, trailing bytes, indefinite
// lengths, reserved additional information, undefined/other simple values, non-finite floats,
// map keys that are neither integers nor text, text that is not UTF-8; depth or item count
// over the limits. kTooLarge over max_bytes.
Result<std::string> SenmlCborToJson(std::string_view cbor, const CborLimits& limits = {});

}  // namespace bysans::ingest
