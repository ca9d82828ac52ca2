#include "store/sqlite/log_codec.h"

namespace bysans::sqlite {
namespace {

// Format 2 starts with a 0 byte (no series has id 0, so a format 1 blob never
// does), then the zig-zag varint base time; per series: varint id, then its
// points (EncodePoints) with times as deltas from the base on.
// Format 1 (written before): per series varint id, varint length, a chunk.
constexpr char kFormat2 = 0;

Status DecodeFormat1(std::string_view in, std::vector<SeriesPoints>* out) {
  while (!in.empty()) {
    uint64_t sid = 0, len = 0;
    if (!GetVarint(&in, &sid) || !GetVarint(&in, &len) || in.size() < len)
      return Internal("corrupt points_blob framing");
    SeriesPoints g;
    g.series_id = static_cast<int64_t>(sid);
    BYSANS_RETURN_IF_ERROR(DecodeChunk(in.substr(0, len), &g.pts));
    in.remove_prefix(len);
    out->push_back(std::move(g));
  }
  return Status::Ok();
}

}  // namespace

void EncodeLogBlob(std::span<const SeriesPoints> groups, std::string* out) {
  TimeMs base = 0;
  for (const SeriesPoints& g : groups) {
    if (!g.pts.empty()) {
      base = g.pts.front().ts;
      break;
    }
  }
  out->push_back(kFormat2);
  PutVarint(ZigZag(base), out);
  for (const SeriesPoints& g : groups) {
    if (g.pts.empty()) continue;
    PutVarint(static_cast<uint64_t>(g.series_id), out);
    EncodePoints(g.pts, base, out);
  }
}

Status DecodeLogBlob(std::string_view in, std::vector<SeriesPoints>* out) {
  if (in.empty() || in.front() != kFormat2) return DecodeFormat1(in, out);
  in.remove_prefix(1);
  uint64_t zz = 0;
  if (!GetVarint(&in, &zz)) return Internal("corrupt points_blob header");
  const TimeMs base = UnZigZag(zz);
  while (!in.empty()) {
    uint64_t sid = 0;
    if (!GetVarint(&in, &sid)) return Internal("corrupt points_blob framing");
    SeriesPoints g;
    g.series_id = static_cast<int64_t>(sid);
    BYSANS_RETURN_IF_ERROR(DecodePoints(&in, base, &g.pts));
    out->push_back(std::move(g));
  }
  return Status::Ok();
}

}  // namespace bysans::sqlite
