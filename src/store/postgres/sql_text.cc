#include "store/postgres/sql_text.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "core/civil_date.h"

namespace bysans::pg {
namespace {

constexpr int64_t kDayMs = 86'400'000;

}  // namespace

std::string IntArray(const std::vector<int64_t>& v) {
  std::string s = "{";
  s.reserve(v.size() * 8 + 2);
  char buf[24];
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v[i]);
    s.append(buf, ec == std::errc() ? end : buf);
  }
  return s + "}";
}

std::vector<int64_t> ParseIntArray(std::string_view text) {
  std::vector<int64_t> out;
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return out;
  text = text.substr(1, text.size() - 2);
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    int64_t v = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec == std::errc() && end == item.data() + item.size()) out.push_back(v);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string DoubleArray(const std::vector<double>& v) {
  std::string s = "{";
  char buf[32];
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    if (std::isnan(v[i])) {
      s += "NaN";
    } else if (std::isinf(v[i])) {
      s += v[i] > 0 ? "Infinity" : "-Infinity";
    } else {
      // The shortest text that reads back as the same double (much faster than printf's %.17g,
      // which the writer ran for every reading).
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v[i]);
      s.append(buf, ec == std::errc() ? end : buf);
    }
  }
  return s + "}";
}

std::string TextArray(const std::vector<std::string>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += '"';
    for (char c : v[i]) {
      if (c == '"' || c == '\\') s += '\\';
      s += c;
    }
    s += '"';
  }
  return s + "}";
}

void AppendHex(std::string& out, std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  const size_t at = out.size();
  out.resize(at + bytes.size() * 2);
  char* p = out.data() + at;
  for (unsigned char c : bytes) {
    *p++ = kHex[c >> 4];
    *p++ = kHex[c & 15];
  }
}

std::string ByteaHex(std::string_view bytes) {
  std::string s = "\\x";
  AppendHex(s, bytes);
  return s;
}

std::string FromByteaHex(std::string_view text) {
  if (text.substr(0, 2) == "\\x") text.remove_prefix(2);
  // A nibble's value by character (anything else counts as 0): the rule feed's reads decode a
  // few hundred KB a second with it.
  static constexpr auto kNibble = [] {
    std::array<uint8_t, 256> t{};
    for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<uint8_t>(c);
    for (int c = 0; c < 6; ++c) t['a' + c] = t['A' + c] = static_cast<uint8_t>(10 + c);
    return t;
  }();
  std::string out(text.size() / 2, '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<char>(kNibble[in[2 * i]] << 4 | kNibble[in[2 * i + 1]]);
  return out;
}

int64_t FloorTo(int64_t t, int64_t step) {
  int64_t q = t / step;
  if (t % step != 0 && t < 0) --q;
  return q * step;
}

int64_t MonthOf(int64_t ts_ms) {
  const CivilDate c = CivilFromDays(FloorTo(ts_ms, kDayMs) / kDayMs);
  return c.year * 12 + (c.month - 1);
}

int64_t MonthStartMs(int64_t month) {
  const int64_t y = FloorTo(month, 12) / 12;
  const int64_t m = month - y * 12 + 1;
  return DaysFromCivil(y, static_cast<int>(m), 1) * kDayMs;
}

std::string PartitionName(int64_t month) {
  const int64_t y = FloorTo(month, 12) / 12;
  const int64_t m = month - y * 12 + 1;
  char buf[96];
  std::snprintf(buf, sizeof buf, "readings_p%s%04lld%02lld", y < 0 ? "m" : "",
                static_cast<long long>(y < 0 ? -y : y), static_cast<long long>(m));
  return buf;
}

std::string RedactedUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  return url.substr(0, scheme + 3) + url.substr(at + 1);
}

}  // namespace bysans::pg
