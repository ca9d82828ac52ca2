#include "store/sqlite/zstd_blob.h"

#include <zstd.h>

namespace bysans::sqlite {

ZstdCompressor::ZstdCompressor(int level) : ctx_(ZSTD_createCCtx()), level_(level) {}

ZstdCompressor::~ZstdCompressor() { ZSTD_freeCCtx(ctx_); }

Status ZstdCompressor::Compress(std::string_view in, std::string* out) {
  if (ctx_ == nullptr) return Internal("zstd: out of memory for a compression context");
  const size_t start = out->size();
  out->resize(start + ZSTD_compressBound(in.size()));
  const size_t n = ZSTD_compressCCtx(ctx_, out->data() + start, out->size() - start, in.data(),
                                     in.size(), level_);
  if (ZSTD_isError(n)) {
    out->resize(start);
    return Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
  }
  out->resize(start + n);
  return Status::Ok();
}

Status ZstdDecompress(std::string_view frame, size_t max_bytes, std::string* out) {
  auto corrupt = [](std::string_view why) {
    return Internal("corrupt zstd frame: " + std::string(why));
  };
  const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR) return corrupt("not a zstd frame");
  if (size == ZSTD_CONTENTSIZE_UNKNOWN) return corrupt("no content size");
  if (size > max_bytes) return corrupt("declares " + std::to_string(size) + " bytes");
  const size_t frame_size = ZSTD_findFrameCompressedSize(frame.data(), frame.size());
  if (ZSTD_isError(frame_size)) return corrupt(ZSTD_getErrorName(frame_size));
  if (frame_size != frame.size()) return corrupt("trailing bytes after the frame");
  out->resize(size);
  const size_t n = ZSTD_decompress(out->data(), out->size(), frame.data(), frame.size());
  if (ZSTD_isError(n)) return corrupt(ZSTD_getErrorName(n));
  if (n != size) return corrupt("shorter than declared");
  return Status::Ok();
}

}  // namespace bysans::sqlite
