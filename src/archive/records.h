// The line formats of readings.jsonl and raw_messages.jsonl (README.md, "Records"): one JSON
// object per line, written and parsed here. Readings are written and read without a JSON
// library (20 million lines each way); a parse error names the field and what is wrong.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "model/model.h"

namespace bysans::archive {

// Appends `s` as a JSON string literal (quotes included).
void AppendJsonString(std::string& out, std::string_view s);

// {"device":1,"key":"air.no2","time":"2026-01-01T00:00:00.000Z","value":21.5,"unit":"ug/m3",
//  "quality":"ok"} and a newline. `device` is written as given (the archive's device id).
void AppendReadingLine(std::string& out, const Reading& r);
// The inverse; an error says which field is missing or of the wrong type.
Status ParseReadingLine(std::string_view line, Reading& r);

// {"id":7,"device":1,"time":"...","transport":"http","contentType":"...","payload":"<base64>",
//  "decodeStatus":"ok","decodeError":"","decodeErrors":[],"decodeWarnings":[]} and a newline.
void AppendRawMessageLine(std::string& out, const RawMessage& m);
Status ParseRawMessageLine(std::string_view line, RawMessage& m);

std::optional<DecodeStatus> ParseDecodeStatus(std::string_view s);

}  // namespace bysans::archive
