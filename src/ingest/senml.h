// SenML (RFC 8428) JSON → readings.
#pragma once

#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans::ingest {

// Parses a SenML JSON Pack (a JSON array of records) into readings of one
// device, resolving base fields as RFC 8428 section 4.6 describes:
//  - name = bn + n (must not be empty); unit = u, else bu; value = bv + v,
//    or vs (string), vb (boolean), vd (kept as its base64 string);
//  - time = bt + t seconds; a resolved time below 2^28 is relative to `now`
//    (so a record without time is "now"); stored as ms;
//  - s (sum, plus bs): a reading named like the record when the record has no
//    other value, else named "<name>.sum";
//  - a record holding only base fields (bn, bt, bu, bv, bs, bver) yields no
//    reading; ut is ignored, other unknown fields are ignored except
//    must-understand ones (ending in '_'), which are an error.
// Errors (kInvalidArgument, naming the record index): not a JSON array, a
// record that is not an object, a field of the wrong type, a record without
// value or sum, bver above 10, a non-finite number or time out of range,
// malformed JSON (with byte position), more than kMaxReadingsPerMessage
// readings.
Result<std::vector<Reading>> ParseSenml(std::string_view json, Id device_id, TimeMs now);

}  // namespace bysans::ingest
