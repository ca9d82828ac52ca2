// Readings as text for exports: values as JSON or text, and CSV rows (RFC 4180) that a
// spreadsheet cannot run as formulas. Used by api/readings.cc and api/open_data_public.cc.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "http/message.h"
#include "model/model.h"

namespace bysans::api {

std::string NumberText(double d);
nlohmann::json ValueJson(const Value& v);
std::string ValueText(const Value& v);
// {"value", "ts", "unit", "quality"} of a reading.
nlohmann::json ReadingJson(const Reading& r);

// A plain decimal number ("-3.5", "+1e-3"): a spreadsheet reads it as a number, never as a
// formula.
bool IsPlainNumber(std::string_view s);
// A text cell a spreadsheet would run as a formula (= + - @, or a leading tab or CR that some
// strip before looking) that is not a plain number.
bool LooksLikeFormula(std::string_view s);
// RFC 4180: quote a field holding a comma, quote, CR or LF; double quotes. Formula-like text
// gets a leading ' first (LooksLikeFormula).
void CsvField(std::string& out, std::string_view s);
// The fields, comma-separated, then CRLF.
void CsvRow(std::string& out, std::initializer_list<std::string_view> fields);
// A file name safe inside a quoted header value.
std::string SafeFilename(std::string_view name);
// 200 text/csv with Content-Disposition: attachment; filename="...".
http::Response CsvResponse(std::string body, const std::string& filename);

}  // namespace bysans::api
