#include "store/sqlite/chunk_codec.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

namespace bysans::sqlite {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    auto b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = result;
      return true;
    }
  }
  return false;
}

Point ToPoint(const Reading& r) {
  Point p;
  p.ts = r.ts;
  p.quality = r.quality;
  if (const auto* d = std::get_if<double>(&r.value)) {
    p.kind = Kind::kNumber;
    p.num = *d;
  } else if (const auto* b = std::get_if<bool>(&r.value)) {
    p.kind = Kind::kBool;
    p.num = *b ? 1 : 0;
  } else {
    p.kind = Kind::kString;
    p.str.assign(std::get<std::string>(r.value));
  }
  return p;
}

Value ToValue(const Point& p) {
  switch (p.kind) {
    case Kind::kNumber:
      return p.num;
    case Kind::kBool:
      return p.num != 0;
    case Kind::kString:
      return std::string(p.str.view());
  }
  return p.num;
}

std::vector<HourSummary> SummarizeHours(const std::vector<Point>& pts) {
  constexpr TimeMs kHour = 3'600'000;
  std::vector<HourSummary> out;
  for (const Point& p : pts) {
    if (p.kind != Kind::kNumber) continue;
    TimeMs hour = p.ts / kHour * kHour;
    if (p.ts % kHour < 0) hour -= kHour;
    if (out.empty() || out.back().hour != hour) {
      out.push_back(HourSummary{hour, 1, p.num, p.num, p.num});
      continue;
    }
    HourSummary& h = out.back();
    h.min = std::min(h.min, p.num);
    h.max = std::max(h.max, p.num);
    h.sum += p.num;
    ++h.n;
  }
  return out;
}

namespace {
void PutDouble(double d, std::string* out) {
  char buf[8];
  std::memcpy(buf, &d, 8);
  out->append(buf, 8);
}
bool GetDouble(std::string_view* in, double* d) {
  if (in->size() < 8) return false;
  std::memcpy(d, in->data(), 8);
  in->remove_prefix(8);
  return true;
}
}  // namespace

void EncodeHours(const std::vector<HourSummary>& hours, std::string* out) {
  PutVarint(hours.size(), out);
  int64_t prev = 0;
  for (const HourSummary& h : hours) {
    const int64_t idx = h.hour / 3'600'000;
    PutVarint(ZigZag(idx - prev), out);
    prev = idx;
    PutVarint(static_cast<uint64_t>(h.n), out);
    PutDouble(h.min, out);
    PutDouble(h.max, out);
    PutDouble(h.sum, out);
  }
}

Status DecodeHours(std::string_view in, std::vector<HourSummary>* out) {
  uint64_t n = 0;
  if (!GetVarint(&in, &n)) return Internal("corrupt hour summary header");
  int64_t prev = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t d = 0, cnt = 0;
    HourSummary h;
    if (!GetVarint(&in, &d) || !GetVarint(&in, &cnt) || !GetDouble(&in, &h.min) ||
        !GetDouble(&in, &h.max) || !GetDouble(&in, &h.sum))
      return Internal("corrupt hour summary");
    prev += UnZigZag(d);
    h.hour = prev * 3'600'000;
    h.n = static_cast<int64_t>(cnt);
    out->push_back(h);
  }
  return Status::Ok();
}

namespace {

// Numbers that are short decimals (most sensor values: 21.13, 54.8, 435) are stored as
// varint(zigzag(m) << 2 | s) for m / 10^s, s <= 3, under a tag kind of their own; only
// when that gives back exactly the same double. Other numbers take 8 bytes.
constexpr uint8_t kDecimalKind = 3;
constexpr std::array<double, 4> kPow10 = {1, 10, 100, 1000};
constexpr double kMaxExact = 9007199254740992.0;  // 2^53

bool ToDecimal(double x, int64_t* m, uint64_t* scale) {
  if (x == 0 && std::signbit(x)) return false;  // -0.0 would come back as +0.0
  for (uint64_t s = 0; s < kPow10.size(); ++s) {
    const double y = std::nearbyint(x * kPow10[s]);
    if (!(std::fabs(y) < kMaxExact)) return false;  // also NaN and infinities
    if (y / kPow10[s] == x) {
      *m = static_cast<int64_t>(y);
      *scale = s;
      return true;
    }
  }
  return false;
}

}  // namespace

void EncodePoints(const std::vector<Point>& pts, TimeMs base, std::string* out) {
  PutVarint(pts.size(), out);
  int64_t prev = base;
  for (const Point& p : pts) {
    PutVarint(
        ZigZag(static_cast<int64_t>(static_cast<uint64_t>(p.ts) - static_cast<uint64_t>(prev))),
        out);
    prev = p.ts;
    uint8_t kind = static_cast<uint8_t>(p.kind);
    int64_t m = 0;
    uint64_t scale = 0;
    const bool decimal = p.kind == Kind::kNumber && ToDecimal(p.num, &m, &scale);
    if (decimal) kind = kDecimalKind;
    uint8_t tag = kind | (static_cast<uint8_t>(p.quality) << 3);
    if (p.kind == Kind::kBool && p.num != 0) tag |= 0x04;
    out->push_back(static_cast<char>(tag));
    if (decimal) {
      PutVarint((ZigZag(m) << 2) | scale, out);
    } else if (p.kind == Kind::kNumber) {
      char buf[8];
      std::memcpy(buf, &p.num, 8);
      out->append(buf, 8);
    } else if (p.kind == Kind::kString) {
      PutVarint(p.str.size(), out);
      out->append(p.str.view());
    }
  }
}

Status DecodePoints(std::string_view* in, TimeMs base, std::vector<Point>* out) {
  uint64_t n = 0;
  if (!GetVarint(in, &n)) return Internal("corrupt chunk header");
  if (n > in->size()) return Internal("corrupt chunk header");  // each point takes >= 2 bytes
  out->reserve(out->size() + n);
  int64_t prev = base;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t d = 0;
    if (!GetVarint(in, &d) || in->empty()) return Internal("corrupt chunk point");
    Point p;
    p.ts = static_cast<int64_t>(static_cast<uint64_t>(prev) + static_cast<uint64_t>(UnZigZag(d)));
    prev = p.ts;
    auto tag = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    const uint8_t kind = tag & 0x03;
    p.quality = static_cast<Quality>(tag >> 3);
    if (kind == kDecimalKind) {
      uint64_t v = 0;
      if (!GetVarint(in, &v)) return Internal("corrupt chunk number");
      p.kind = Kind::kNumber;
      p.num = static_cast<double>(UnZigZag(v >> 2)) / kPow10[v & 3];
    } else if (kind == static_cast<uint8_t>(Kind::kNumber)) {
      p.kind = Kind::kNumber;
      if (in->size() < 8) return Internal("corrupt chunk number");
      std::memcpy(&p.num, in->data(), 8);
      in->remove_prefix(8);
    } else if (kind == static_cast<uint8_t>(Kind::kBool)) {
      p.kind = Kind::kBool;
      p.num = (tag & 0x04) ? 1 : 0;
    } else {
      p.kind = Kind::kString;
      uint64_t len = 0;
      if (!GetVarint(in, &len) || in->size() < len) return Internal("corrupt chunk string");
      p.str.assign(std::string_view(in->data(), len));
      in->remove_prefix(len);
    }
    out->push_back(std::move(p));
  }
  return Status::Ok();
}

void EncodeChunk(const std::vector<Point>& pts, std::string* out) { EncodePoints(pts, 0, out); }

Status DecodeChunk(std::string_view data, std::vector<Point>* out) {
  return DecodePoints(&data, 0, out);
}

}  // namespace bysans::sqlite
