// The transport-independent step of HTTP ingest: a device's request body →
// what the store commits (one raw message + its readings).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ingest/flatten.h"
#include "model/model.h"
#include "store/store.h"

namespace bysans::ingest {

enum class PayloadKind { kJson, kSenml, kSenmlCbor, kUnsupported };

// Classifies a Content-Type header value (parameters and case ignored):
// application/senml+json → kSenml; application/senml+cbor → kSenmlCbor (RFC 8428 §6);
// application/json, text/json, any other "+json" type, and an absent/empty content type →
// kJson; others unsupported.
PayloadKind ClassifyContentType(std::string_view content_type);

// The readings of a message body whose kind (kJson or kSenml) is known, as
// BuildHttpIngest derives them, without taking the body: for a caller that
// keeps the payload itself (MQTT). `out` is cleared, then filled; on error it
// is left empty. Errors: as BuildHttpIngest's, content type aside.
Status ParseReadings(PayloadKind kind, std::string_view body, Id device_id, TimeMs now,
                     std::vector<Reading>& out, JsonFlattener* flattener = nullptr);

// Builds the batch for one HTTP (or MQTT) message of device `d`:
//  - one RawMessage (transport http, the content type, payload = body,
//    received = now, decode status kNone — decoders are not wired yet);
//  - JSON bodies: every value flattened to a reading (see flatten.h) at time
//    `now`, unless the body is an object with a top-level "timestamp", "time"
//    or "ts" member holding an RFC 3339 string or integer ms: then that member
//    is the readings' time and is not a reading itself;
//  - SenML bodies (application/senml+json): ParseSenml readings;
//  - SenML CBOR bodies (application/senml+cbor): converted by SenmlCborToJson
//    (senml_cbor.h), then as SenML; the CBOR bytes are the stored payload.
// Errors: empty body → kInvalidArgument; unsupported content type →
// kUnsupportedMedia; malformed JSON, SenML or CBOR → kInvalidArgument with the
// position (a truncated CBOR document names the byte offset). `flattener` may be null (a temporary
// one is used).
Result<IngestBatch> BuildHttpIngest(const Device& d, std::string_view content_type,
                                    std::string body, TimeMs now,
                                    JsonFlattener* flattener = nullptr);

}  // namespace bysans::ingest
