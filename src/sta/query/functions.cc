#include "sta/query/functions.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>

#include "core/civil_date.h"
#include "sta/query/geometry.h"
#include "sta/query/time_values.h"

namespace bysans::sta {
namespace {

using Args = std::vector<Value>;

const std::string* Str(const Value& v) { return v.get<std::string>(); }

std::optional<TimeValue> Time(const Value& v) {
  if (const auto* t = v.get<TimeValue>()) return *t;
  if (const auto* s = v.get<std::string>()) return ParseIsoTime(*s);
  return std::nullopt;
}

// Byte offsets of each UTF-8 code point in s, plus s.size() at the end.
std::vector<size_t> CodePoints(const std::string& s) {
  std::vector<size_t> out;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) out.push_back(i);
  }
  out.push_back(s.size());
  return out;
}

// ---- string ----
Value SubstringOf(const Args& a, int64_t) {  // substringof(needle, haystack)
  const auto *n = Str(a[0]), *h = Str(a[1]);
  if (!n || !h) return {};
  return Value(h->find(*n) != std::string::npos);
}
Value Contains(const Args& a, int64_t) {  // contains(haystack, needle), OData 4
  const auto *h = Str(a[0]), *n = Str(a[1]);
  if (!n || !h) return {};
  return Value(h->find(*n) != std::string::npos);
}
Value EndsWith(const Args& a, int64_t) {
  const auto *s = Str(a[0]), *e = Str(a[1]);
  if (!s || !e) return {};
  return Value(s->size() >= e->size() && s->compare(s->size() - e->size(), e->size(), *e) == 0);
}
Value StartsWith(const Args& a, int64_t) {
  const auto *s = Str(a[0]), *p = Str(a[1]);
  if (!s || !p) return {};
  return Value(s->rfind(*p, 0) == 0);
}
Value Length(const Args& a, int64_t) {
  const auto* s = Str(a[0]);
  if (!s) return {};
  return Value(static_cast<int64_t>(CodePoints(*s).size() - 1));
}
Value IndexOf(const Args& a, int64_t) {
  const auto *s = Str(a[0]), *n = Str(a[1]);
  if (!s || !n) return {};
  size_t at = s->find(*n);
  if (at == std::string::npos) return Value(int64_t{-1});
  auto cps = CodePoints(*s);
  return Value(static_cast<int64_t>(std::lower_bound(cps.begin(), cps.end(), at) - cps.begin()));
}
Value Substring(const Args& a, int64_t) {
  const auto* s = Str(a[0]);
  const auto* from = a[1].get<int64_t>();
  if (!s || !from) return {};
  auto cps = CodePoints(*s);
  int64_t n = static_cast<int64_t>(cps.size()) - 1;
  int64_t start = std::clamp<int64_t>(*from, 0, n);
  int64_t end = n;
  if (a.size() > 2) {
    const auto* len = a[2].get<int64_t>();
    if (!len) return {};
    end = std::clamp<int64_t>(start + std::max<int64_t>(*len, 0), start, n);
  }
  return Value(s->substr(cps[start], cps[end] - cps[start]));
}
Value MapChars(const Value& v, int (*f)(int)) {
  const auto* s = Str(v);
  if (!s) return {};
  std::string out = *s;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x80) c = static_cast<char>(f(c));
  }
  return Value(std::move(out));
}
Value ToLower(const Args& a, int64_t) { return MapChars(a[0], ::tolower); }
Value ToUpper(const Args& a, int64_t) { return MapChars(a[0], ::toupper); }
Value Trim(const Args& a, int64_t) {
  const auto* s = Str(a[0]);
  if (!s) return {};
  size_t b = s->find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return Value(std::string());
  size_t e = s->find_last_not_of(" \t\r\n");
  return Value(s->substr(b, e - b + 1));
}
Value Concat(const Args& a, int64_t) {
  const auto *x = Str(a[0]), *y = Str(a[1]);
  if (!x || !y) return {};
  return Value(*x + *y);
}

// ---- date ----
template <int64_t (*Field)(const TimeValue&)>
Value DatePart(const Args& a, int64_t) {
  auto t = Time(a[0]);
  if (!t) return {};
  return Value(Field(*t));
}
int64_t YearOf(const TimeValue& t) { return ToCivil(t).year; }
int64_t MonthOf(const TimeValue& t) { return ToCivil(t).month; }
int64_t DayOf(const TimeValue& t) { return ToCivil(t).day; }
int64_t HourOf(const TimeValue& t) { return ToCivil(t).hour; }
int64_t MinuteOf(const TimeValue& t) { return ToCivil(t).minute; }
int64_t SecondOf(const TimeValue& t) { return ToCivil(t).second; }
int64_t OffsetOf(const TimeValue& t) { return t.offset_minutes; }
Value FractionalSeconds(const Args& a, int64_t) {
  auto t = Time(a[0]);
  if (!t) return {};
  return Value(ToCivil(*t).millis / 1000.0);
}
// date(t): midnight of t's day (in its offset); time(t): the time of day.
Value DateOf(const Args& a, int64_t) {
  auto t = Time(a[0]);
  if (!t) return {};
  CivilTime c = ToCivil(*t);
  int64_t local_midnight = DaysFromCivil(c.year, c.month, c.day) * 86'400'000;
  return Value(TimeValue{local_midnight - t->offset_minutes * int64_t{60'000}, t->offset_minutes});
}
Value TimeOf(const Args& a, int64_t) {
  auto t = Time(a[0]);
  if (!t) return {};
  CivilTime c = ToCivil(*t);
  return Value(
      DurationValue{c.hour * int64_t{3'600'000} + c.minute * 60'000 + c.second * 1000 + c.millis});
}
Value Now(const Args&, int64_t now_ms) { return Value(TimeValue{now_ms, 0}); }
// The range of DateTimeOffset: years 0001 to 9999.
Value MinDateTime(const Args&, int64_t) { return Value(TimeValue{-62'135'596'800'000, 0}); }
Value MaxDateTime(const Args&, int64_t) { return Value(TimeValue{253'402'300'799'999, 0}); }

// ---- math ----
template <double (*F)(double)>
Value Rounding(const Args& a, int64_t) {
  if (a[0].get<int64_t>()) return a[0];
  if (const auto* d = a[0].get<double>()) return Value(F(*d));
  return {};
}

// ---- geospatial ----
const Geometry* Geo(const Value& v) { return v.get<Geometry>(); }
Value GeoDistance(const Args& a, int64_t) {
  const auto *x = Geo(a[0]), *y = Geo(a[1]);
  if (!x || !y) return {};
  double d = Distance(*x, *y);
  if (std::isnan(d)) return {};
  return Value(d);
}
Value GeoLength(const Args& a, int64_t) {
  const auto* g = Geo(a[0]);
  if (!g) return {};
  auto len = Length(*g);
  if (!len) return {};
  return Value(*len);
}
template <SpatialPredicate P>
Value Spatial(const Args& a, int64_t) {
  const auto *x = Geo(a[0]), *y = Geo(a[1]);
  if (!x || !y) return {};
  std::optional<bool> r = SpatialTest(P, *x, *y);
  return r ? Value(*r) : Value();
}
Value StRelate(const Args& a, int64_t) {
  const auto *x = Geo(a[0]), *y = Geo(a[1]);
  const auto* pattern = Str(a[2]);
  if (!x || !y || !pattern) return {};
  std::string matrix = Relate(*x, *y);
  if (matrix.empty()) return {};
  return Value(RelateMatches(matrix, *pattern));
}

using P = SpatialPredicate;
constexpr FunctionInfo kFunctions[] = {
    {"substringof", 2, 2, SubstringOf},
    {"contains", 2, 2, Contains},
    {"endswith", 2, 2, EndsWith},
    {"startswith", 2, 2, StartsWith},
    {"length", 1, 1, Length},
    {"indexof", 2, 2, IndexOf},
    {"substring", 2, 3, Substring},
    {"tolower", 1, 1, ToLower},
    {"toupper", 1, 1, ToUpper},
    {"trim", 1, 1, Trim},
    {"concat", 2, 2, Concat},
    {"year", 1, 1, DatePart<YearOf>},
    {"month", 1, 1, DatePart<MonthOf>},
    {"day", 1, 1, DatePart<DayOf>},
    {"hour", 1, 1, DatePart<HourOf>},
    {"minute", 1, 1, DatePart<MinuteOf>},
    {"second", 1, 1, DatePart<SecondOf>},
    {"fractionalseconds", 1, 1, FractionalSeconds},
    {"date", 1, 1, DateOf},
    {"time", 1, 1, TimeOf},
    {"totaloffsetminutes", 1, 1, DatePart<OffsetOf>},
    {"now", 0, 0, Now},
    {"mindatetime", 0, 0, MinDateTime},
    {"maxdatetime", 0, 0, MaxDateTime},
    {"round", 1, 1, Rounding<std::round>},
    {"floor", 1, 1, Rounding<std::floor>},
    {"ceiling", 1, 1, Rounding<std::ceil>},
    {"geo.distance", 2, 2, GeoDistance},
    {"geo.length", 1, 1, GeoLength},
    {"geo.intersects", 2, 2, Spatial<P::kIntersects>},
    {"st_equals", 2, 2, Spatial<P::kEquals>},
    {"st_disjoint", 2, 2, Spatial<P::kDisjoint>},
    {"st_touches", 2, 2, Spatial<P::kTouches>},
    {"st_within", 2, 2, Spatial<P::kWithin>},
    {"st_overlaps", 2, 2, Spatial<P::kOverlaps>},
    {"st_crosses", 2, 2, Spatial<P::kCrosses>},
    {"st_intersects", 2, 2, Spatial<P::kIntersects>},
    {"st_contains", 2, 2, Spatial<P::kContains>},
    {"st_relate", 3, 3, StRelate},
};

}  // namespace

const FunctionInfo* FindFunction(std::string_view name) {
  for (const FunctionInfo& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace bysans::sta
