// zstd for the store's blobs (raw_log rows, raw_log_codec.h): a compressor that keeps its
// context between calls (one per writing thread: a context is ~1 MB of tables that would
// otherwise be set up for every commit), and a decompression bounded by the size the caller
// accepts, so a corrupt or forged frame can neither overflow nor make it allocate without end.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

struct ZSTD_CCtx_s;

namespace bysans::sqlite {

class ZstdCompressor {
 public:
  explicit ZstdCompressor(int level = 1);
  ~ZstdCompressor();
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  // Appends one zstd frame holding `in` (its size recorded in the frame header) to *out.
  Status Compress(std::string_view in, std::string* out);

 private:
  ZSTD_CCtx_s* ctx_;
  int level_;
};

// Replaces *out with the content of the single zstd frame `frame`. Fails (Internal, "corrupt
// zstd frame: …") when the frame is damaged, does not declare its size, declares more than
// `max_bytes`, or is followed by other bytes.
Status ZstdDecompress(std::string_view frame, size_t max_bytes, std::string* out);

}  // namespace bysans::sqlite
