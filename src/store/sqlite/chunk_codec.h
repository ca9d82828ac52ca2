// Compact binary encoding of one series' points (a chunk): zig-zag varint
// time deltas, one tag byte (kind, bool value, quality), then the value:
// numbers that are short decimals as a varint (mantissa and scale, exact),
// other numbers as 8-byte doubles, strings as varint length + bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans::sqlite {

// LEB128 unsigned varints, shared by the chunk and the log-blob encodings.
void PutVarint(uint64_t v, std::string* out);
// False when `in` ends inside a varint (or it is longer than 64 bits).
bool GetVarint(std::string_view* in, uint64_t* v);
// Zig-zag mapping of signed to unsigned (small magnitudes → small varints).
inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

enum class Kind : uint8_t { kNumber = 0, kString = 1, kBool = 2 };

// The text of a string point, owned on the heap: 8 bytes in every point where a std::string
// would take 32, though nearly all points are numbers. The writer moves each point twice and
// keeps ~1,000 series' buffers warm, so the point's size is memory traffic on the ingest path
// (bench/lorawan). Copies copy the text.
class PointText {
 public:
  PointText() = default;
  PointText(const PointText& o) : s_(o.s_ ? std::make_unique<std::string>(*o.s_) : nullptr) {}
  PointText(PointText&&) noexcept = default;
  PointText& operator=(const PointText& o) {
    if (this != &o) s_ = o.s_ ? std::make_unique<std::string>(*o.s_) : nullptr;
    return *this;
  }
  PointText& operator=(PointText&&) noexcept = default;
  ~PointText() = default;
  void assign(std::string_view text) {
    if (s_) {
      s_->assign(text);
    } else {
      s_ = std::make_unique<std::string>(text);
    }
  }
  std::string_view view() const { return s_ ? std::string_view(*s_) : std::string_view(); }
  size_t size() const { return s_ ? s_->size() : 0; }

 private:
  std::unique_ptr<std::string> s_;
};

// One stored point of a series. For kBool, num holds 0 or 1; `str` is set for kString only.
struct Point {
  TimeMs ts = 0;
  double num = 0;
  PointText str;
  Kind kind = Kind::kNumber;
  Quality quality = Quality::kOk;
};
static_assert(sizeof(Point) <= 32);

Point ToPoint(const Reading& r);
Value ToValue(const Point& p);

// Hourly rollup of the numeric points of one chunk in one hour.
struct HourSummary {
  TimeMs hour = 0;  // start of the hour
  int64_t n = 0;
  double min = 0, max = 0, sum = 0;
};

// Summaries of the numeric points of a ts-sorted vector, one per hour with data.
std::vector<HourSummary> SummarizeHours(const std::vector<Point>& pts);
void EncodeHours(const std::vector<HourSummary>& hours, std::string* out);
Status DecodeHours(std::string_view data, std::vector<HourSummary>* out);

// A point count, then the points, times as deltas from `base` on.
void EncodePoints(const std::vector<Point>& pts, TimeMs base, std::string* out);
// Appends the decoded points to *out and advances *in past them. Fails on corrupt input.
Status DecodePoints(std::string_view* in, TimeMs base, std::vector<Point>* out);

// A chunk row's data: EncodePoints from base 0.
void EncodeChunk(const std::vector<Point>& pts, std::string* out);
Status DecodeChunk(std::string_view data, std::vector<Point>* out);

}  // namespace bysans::sqlite
