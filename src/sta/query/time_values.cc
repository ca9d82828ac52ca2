#include "sta/query/time_values.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

#include "core/civil_date.h"
#include "core/time_format.h"

namespace bysans::sta {
namespace {

constexpr int64_t kMsPerDay = 86'400'000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool ReadInt(std::string_view s, int* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

CivilTime ToCivil(const TimeValue& t) {
  int64_t local = t.ms + static_cast<int64_t>(t.offset_minutes) * 60'000;
  int64_t days = FloorDiv(local, kMsPerDay);
  int64_t ms_of_day = local - days * kMsPerDay;
  const CivilDate date = CivilFromDays(days);
  CivilTime c;
  c.year = date.year;
  c.month = date.month;
  c.day = date.day;
  c.hour = static_cast<int>(ms_of_day / 3'600'000);
  c.minute = static_cast<int>(ms_of_day / 60'000 % 60);
  c.second = static_cast<int>(ms_of_day / 1000 % 60);
  c.millis = static_cast<int>(ms_of_day % 1000);
  return c;
}

std::optional<TimeValue> ParseIsoTime(std::string_view text) {
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto ms = ParseTime(text);
  if (!ms) return std::nullopt;
  TimeValue t{*ms, 0};
  if (text.size() > 10) {
    // a trailing "+hh:mm" / "-hh:mm" is the offset it was written in
    size_t sign = text.find_last_of("+-");
    if (sign != std::string_view::npos && sign > 10) {
      std::string_view off = text.substr(sign + 1);
      int h = 0, m = 0;
      if (off.size() == 5 && off[2] == ':' && ReadInt(off.substr(0, 2), &h) &&
          ReadInt(off.substr(3, 2), &m)) {
        t.offset_minutes = (text[sign] == '-' ? -1 : 1) * (h * 60 + m);
      }
    }
  }
  return t;
}

std::optional<TimeInterval> ParseIsoInterval(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto a = ParseIsoTime(text.substr(0, slash));
  auto b = ParseIsoTime(text.substr(slash + 1));
  if (!a || !b || b->ms < a->ms) return std::nullopt;
  return TimeInterval{a->ms, b->ms};
}

std::optional<int64_t> ParseIsoDuration(std::string_view text) {
  bool negative = false;
  if (!text.empty() && text[0] == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  if (text.size() < 2 || (text[0] != 'P' && text[0] != 'p')) return std::nullopt;
  double total = 0;
  bool in_time = false, any = false;
  size_t i = 1;
  while (i < text.size()) {
    if (text[i] == 'T' || text[i] == 't') {
      if (in_time) return std::nullopt;
      in_time = true;
      ++i;
      continue;
    }
    size_t start = i;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    if (i == start || i >= text.size()) return std::nullopt;
    double n = std::strtod(std::string(text.substr(start, i - start)).c_str(), nullptr);
    // units in either case ("PT10m" is common in clients' examples)
    char unit = static_cast<char>(std::toupper(static_cast<unsigned char>(text[i++])));
    double factor = 0;
    if (!in_time && unit == 'W') factor = 7.0 * kMsPerDay;
    if (!in_time && unit == 'D') factor = kMsPerDay;
    if (in_time && unit == 'H') factor = 3'600'000;
    if (in_time && unit == 'M') factor = 60'000;
    if (in_time && unit == 'S') factor = 1000;
    if (factor == 0) return std::nullopt;  // years, months, or a misplaced unit
    total += n * factor;
    any = true;
  }
  if (!any || !std::isfinite(total) || total > 9e15) return std::nullopt;
  auto ms = static_cast<int64_t>(std::llround(total));
  return negative ? -ms : ms;
}

std::optional<int64_t> ParseTimeOfDay(std::string_view text) {
  int h = 0, m = 0;
  if (text.size() < 5 || text[2] != ':' || !ReadInt(text.substr(0, 2), &h) ||
      !ReadInt(text.substr(3, 2), &m) || h > 23 || m > 59) {
    return std::nullopt;
  }
  double s = 0;
  if (text.size() > 5) {
    if (text[5] != ':' || text.size() < 8) return std::nullopt;
    std::string_view sec = text.substr(6);
    for (char c : sec) {
      if (!((c >= '0' && c <= '9') || c == '.')) return std::nullopt;
    }
    s = std::strtod(std::string(sec).c_str(), nullptr);
    if (s >= 60) return std::nullopt;
  }
  return static_cast<int64_t>(h) * 3'600'000 + m * 60'000 + std::llround(s * 1000);
}

}  // namespace bysans::sta
