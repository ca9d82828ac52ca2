#include "store/sqlite/log_codec.h"

namespace bysans::sqlite {

// Framing: varint series id, varint byte length of the encoded chunk, the chunk.
void EncodeLogBlob(std::span<const SeriesPoints> groups, std::string* out) {
  std::string chunk;
  for (const SeriesPoints& g : groups) {
    if (g.pts.empty()) continue;
    chunk.clear();
    EncodeChunk(g.pts, &chunk);
    PutVarint(static_cast<uint64_t>(g.series_id), out);
    PutVarint(chunk.size(), out);
    out->append(chunk);
  }
}

Status DecodeLogBlob(std::string_view in, std::vector<SeriesPoints>* out) {
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

}  // namespace bysans::sqlite
