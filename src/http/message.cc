#include "http/message.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "core/encoding.h"

namespace bysans::http {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// JSON string contents; bytes that are not valid UTF-8 become U+FFFD (error
// messages often echo what the caller sent).
void AppendJsonEscaped(std::string& out, std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        out += "\\ufffd";
      } else {
        out.append(s.substr(i, n));
        i += n - 1;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static const char* kHex = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(c >> 4) & 15];
          out += kHex[c & 15];
        } else {
          out += c;
        }
    }
  }
}

}  // namespace

void Headers::Set(std::string_view name, std::string value) {
  std::string key = Lower(name);
  std::erase_if(items_, [&](const auto& kv) { return kv.first == key; });
  items_.emplace_back(std::move(key), std::move(value));
}

void Headers::Add(std::string_view name, std::string value) {
  items_.emplace_back(Lower(name), std::move(value));
}

const std::string& Headers::Get(std::string_view name) const {
  static const std::string kEmpty;
  std::string key = Lower(name);
  for (const auto& [k, v] : items_)
    if (k == key) return v;
  return kEmpty;
}

bool Headers::Has(std::string_view name) const {
  std::string key = Lower(name);
  return std::any_of(items_.begin(), items_.end(), [&](const auto& kv) { return kv.first == key; });
}

const std::string* Request::Query(std::string_view name) const {
  auto it = query.find(std::string(name));
  return it == query.end() ? nullptr : &it->second;
}

const std::string& Request::Param(const std::string& name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

std::string Request::Cookie(std::string_view name) const {
  std::string_view header = headers.Get("cookie");
  while (!header.empty()) {
    size_t end = header.find(';');
    std::string_view part = header.substr(0, end);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    size_t eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name)
      return std::string(part.substr(eq + 1));
    if (end == std::string_view::npos) break;
    header.remove_prefix(end + 1);
  }
  return {};
}

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
      return 409;
    case Code::kFailedPrecondition:
      return 409;
    case Code::kTooLarge:
      return 413;
    case Code::kUnsupportedMedia:
      return 415;
    case Code::kRateLimited:
      return 429;
    case Code::kUnavailable:
      return 503;
    case Code::kInternal:
      return 500;
  }
  return 500;
}

Response JsonResponse(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.Set("content-type", "application/json");
  r.body = std::move(body);
  return r;
}

Response ErrorResponse(int http_status, std::string_view code, std::string_view message) {
  std::string body = R"({"error":{"code":")";
  AppendJsonEscaped(body, code);
  body += R"(","message":")";
  AppendJsonEscaped(body, message);
  body += "\"}}";
  return JsonResponse(http_status, std::move(body));
}

Response ErrorResponse(const Status& status) {
  if (status.code() == Code::kInternal) {
    // The detail (often a library's or the database's text) is for the log only.
    spdlog::error("internal error: {}", status.message());
    return ErrorResponse(500, CodeName(Code::kInternal), "internal error");
  }
  return ErrorResponse(HttpStatusFor(status.code()), CodeName(status.code()), status.message());
}

std::string PercentDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_as_space && c == '+') ? ' ' : c;
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string name = PercentDecode(part.substr(0, eq), true);
      std::string value =
          eq == std::string_view::npos ? std::string() : PercentDecode(part.substr(eq + 1), true);
      out[std::move(name)] = std::move(value);
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace bysans::http
