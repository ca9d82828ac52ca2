// Encoding of one group commit's readings as a single points_blob row (the
// write-ahead log of the open segment): per series touched by the commit, its
// id and its points in commit order, encoded with the chunk codec.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "store/sqlite/chunk_codec.h"

namespace bysans::sqlite {

// The points of one series within a commit, in commit order (not necessarily by ts).
struct SeriesPoints {
  int64_t series_id = 0;
  std::vector<Point> pts;
};

void EncodeLogBlob(std::span<const SeriesPoints> groups, std::string* out);
// Appends the decoded groups to *out. Fails on corrupt input.
Status DecodeLogBlob(std::string_view data, std::vector<SeriesPoints>* out);

}  // namespace bysans::sqlite
