#include "core/time_format.h"

#include <charconv>
#include <cstdio>
#include <ctime>

#include "core/civil_date.h"

namespace bysans {
namespace {

// `width` decimal digits of v (0 <= v < 10^width) at p.
void PutDigits(char* p, unsigned v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

bool ReadInt(std::string_view s, size_t& pos, size_t width, int& out) {
  if (pos + width > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += width;
  out = v;
  return true;
}

bool Expect(std::string_view s, size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

}  // namespace

std::string FormatRfc3339(TimeMs t) {
  std::string out;
  AppendRfc3339(out, t);
  return out;
}

void AppendRfc3339(std::string& out, TimeMs t) {
  constexpr int64_t kDayMs = 86'400'000;
  const int64_t days = t >= 0 ? t / kDayMs : -((-t + kDayMs - 1) / kDayMs);
  const auto in_day = static_cast<unsigned>(t - days * kDayMs);
  const CivilDate c = CivilFromDays(days);
  const int64_t y = c.year;
  const auto m = static_cast<unsigned>(c.month);
  const auto d = static_cast<unsigned>(c.day);
  if (y < 0 || y > 9999) {  // outside what four digits hold: as printf writes it
    char buf[64];
    const int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
                                static_cast<long long>(y), m, d, in_day / 3'600'000,
                                in_day / 60'000 % 60, in_day / 1000 % 60, in_day % 1000);
    out.append(buf, static_cast<size_t>(n));
    return;
  }
  char b[25] = "0000-00-00T00:00:00.000Z";
  PutDigits(b, static_cast<unsigned>(y), 4);
  PutDigits(b + 5, m, 2);
  PutDigits(b + 8, d, 2);
  PutDigits(b + 11, in_day / 3'600'000, 2);
  PutDigits(b + 14, in_day / 60'000 % 60, 2);
  PutDigits(b + 17, in_day / 1000 % 60, 2);
  PutDigits(b + 20, in_day % 1000, 3);
  out.append(b, 24);
}

std::optional<TimeMs> ParseTime(std::string_view s) {
  if (s.empty()) return std::nullopt;
  // Plain integer: ms since epoch.
  bool all_digits = true;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!((s[i] >= '0' && s[i] <= '9') || (i == 0 && s[i] == '-'))) all_digits = false;
  }
  if (all_digits) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
  }
  size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!ReadInt(s, pos, 4, y) || !Expect(s, pos, '-') || !ReadInt(s, pos, 2, mo) ||
      !Expect(s, pos, '-') || !ReadInt(s, pos, 2, d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  int64_t frac_ms = 0;
  int64_t offset_s = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
    ++pos;
    if (!ReadInt(s, pos, 2, h) || !Expect(s, pos, ':') || !ReadInt(s, pos, 2, mi))
      return std::nullopt;
    if (Expect(s, pos, ':') && !ReadInt(s, pos, 2, sec)) return std::nullopt;
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
    if (Expect(s, pos, '.') || Expect(s, pos, ',')) {
      int digits = 0;
      int64_t scale = 100;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (digits < 3) frac_ms += (s[pos] - '0') * scale;
        scale /= 10;
        ++digits;
        ++pos;
      }
      if (digits == 0) return std::nullopt;
    }
    if (pos < s.size()) {
      if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
      } else if (s[pos] == '+' || s[pos] == '-') {
        int sign = s[pos] == '+' ? 1 : -1;
        ++pos;
        int oh = 0, om = 0;
        if (!ReadInt(s, pos, 2, oh)) return std::nullopt;
        if (Expect(s, pos, ':') || (pos < s.size() && s[pos] >= '0' && s[pos] <= '9')) {
          if (!ReadInt(s, pos, 2, om)) return std::nullopt;
        }
        offset_s = sign * (oh * 3600 + om * 60);
      } else {
        return std::nullopt;
      }
    }
    if (pos != s.size()) return std::nullopt;
  }
  int64_t days = DaysFromCivil(y, mo, d);
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  return secs * 1000 + frac_ms;
}

std::optional<TimeMs> ParseDurationMs(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || v < 0) return std::nullopt;
  std::string_view unit(p, static_cast<size_t>(s.data() + s.size() - p));
  if (unit == "ms") return v;
  if (unit == "s" || unit.empty()) return v * 1000;
  if (unit == "m" || unit == "min") return v * 60'000;
  if (unit == "h") return v * 3'600'000;
  if (unit == "d") return v * 86'400'000;
  if (unit == "w") return v * 7 * 86'400'000;
  return std::nullopt;
}

}  // namespace bysans
