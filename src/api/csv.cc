#include "api/csv.h"

#include <fmt/format.h>

#include <cctype>
#include <variant>

#include "core/time_format.h"

namespace bysans::api {

using json = nlohmann::json;

std::string NumberText(double d) { return fmt::format("{}", d); }

json ValueJson(const Value& v) {
  return std::visit([](const auto& x) { return json(x); }, v);
}

std::string ValueText(const Value& v) {
  if (const double* d = std::get_if<double>(&v)) return NumberText(*d);
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  return std::get<std::string>(v);
}

// A plain decimal number ("-3.5", "+1e-3"): a spreadsheet reads it as a
// number, never as a formula.
bool IsPlainNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

// A text cell a spreadsheet would run as a formula (= + - @, or a leading tab
// or CR that some strip before looking) gets a leading ' so it stays text.
bool LooksLikeFormula(std::string_view s) {
  return !s.empty() && std::string_view("=+-@\t\r").find(s.front()) != std::string_view::npos &&
         !IsPlainNumber(s);
}

// RFC 4180: quote a field holding a comma, quote, CR or LF; double quotes.
// Formula-like text is defused first (LooksLikeFormula).
void CsvField(std::string& out, std::string_view s) {
  std::string defused;
  if (LooksLikeFormula(s)) {
    defused = "'" + std::string(s);
    s = defused;
  }
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(s);
    return;
  }
  out.push_back('"');
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void CsvRow(std::string& out, std::initializer_list<std::string_view> fields) {
  bool first = true;
  for (std::string_view f : fields) {
    if (!first) out.push_back(',');
    first = false;
    CsvField(out, f);
  }
  out.append("\r\n");
}

// A file name safe inside a quoted header value.
std::string SafeFilename(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 100)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    out.push_back(ok ? c : '_');
  }
  return out;
}

http::Response CsvResponse(std::string body, const std::string& filename) {
  http::Response r;
  r.status = 200;
  r.headers.Set("Content-Type", "text/csv; charset=utf-8");
  r.headers.Set("Content-Disposition", "attachment; filename=\"" + SafeFilename(filename) + "\"");
  r.body = std::move(body);
  return r;
}

json ReadingJson(const Reading& r) {
  return {{"value", ValueJson(r.value)},
          {"ts", FormatRfc3339(r.ts)},
          {"unit", r.unit},
          {"quality", QualityName(r.quality)}};
}

}  // namespace bysans::api
