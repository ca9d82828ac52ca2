#include "archive/member.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <cstring>

namespace bysans::archive {
namespace {

constexpr size_t kChunk = 1 << 18;

std::string Hex(const unsigned char* d, unsigned n) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (unsigned i = 0; i < n; ++i) {
    s.push_back(kDigits[d[i] >> 4]);
    s.push_back(kDigits[d[i] & 15]);
  }
  return s;
}

}  // namespace

struct Sha256::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
}
Sha256::~Sha256() = default;
void Sha256::Update(const void* data, size_t n) { EVP_DigestUpdate(impl_->ctx, data, n); }
std::string Sha256::HexDigest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(impl_->ctx, md, &len);
  return Hex(md, len);
}

struct MemberWriter::Z {
  z_stream s{};
  bool init = false;
  ~Z() {
    if (init) deflateEnd(&s);
  }
};

MemberWriter::MemberWriter() : z_(std::make_unique<Z>()) {}
MemberWriter::~MemberWriter() {
  if (out_) std::fclose(out_);
}

Status MemberWriter::Open(const std::string& path, bool gzip) {
  out_ = std::fopen(path.c_str(), "wb");
  if (!out_) return Internal("cannot create " + path + ": " + std::strerror(errno));
  gzip_ = gzip;
  if (gzip_) {
    // windowBits 15 + 16: a gzip header and trailer.
    if (deflateInit2(&z_->s, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      return Internal("zlib: deflateInit2 failed");
    z_->init = true;
  }
  buf_.reserve(kChunk + 4096);
  return Status::Ok();
}

Status MemberWriter::WriteOut(const void* data, size_t n) {
  if (n == 0) return Status::Ok();
  if (std::fwrite(data, 1, n, out_) != n) return Internal("cannot write a spool file");
  sha_.Update(data, n);
  stored_bytes_ += static_cast<int64_t>(n);
  return Status::Ok();
}

Status MemberWriter::Append(std::string_view text, int64_t records) {
  buf_.append(text);
  records_ += records;
  raw_bytes_ += static_cast<int64_t>(text.size());
  return buf_.size() >= kChunk ? Flush(false) : Status::Ok();
}

Status MemberWriter::Flush(bool finish) {
  if (!gzip_) {
    BYSANS_RETURN_IF_ERROR(WriteOut(buf_.data(), buf_.size()));
    buf_.clear();
    return Status::Ok();
  }
  z_->s.next_in = reinterpret_cast<Bytef*>(buf_.data());
  z_->s.avail_in = static_cast<uInt>(buf_.size());
  unsigned char out[kChunk];
  int rc = Z_OK;
  do {
    z_->s.next_out = out;
    z_->s.avail_out = sizeof out;
    rc = deflate(&z_->s, finish ? Z_FINISH : Z_NO_FLUSH);
    if (rc == Z_STREAM_ERROR) return Internal("zlib: deflate failed");
    BYSANS_RETURN_IF_ERROR(WriteOut(out, sizeof out - z_->s.avail_out));
  } while (z_->s.avail_out == 0 || (finish && rc != Z_STREAM_END));
  buf_.clear();
  return Status::Ok();
}

Status MemberWriter::Finish() {
  BYSANS_RETURN_IF_ERROR(Flush(true));
  sha256_ = sha_.HexDigest();
  const bool ok = std::fclose(out_) == 0;
  out_ = nullptr;
  return ok ? Status::Ok() : Internal("cannot write a spool file");
}

struct LineReader::Z {
  z_stream s{};
  bool init = false;
  bool ended = false;
  ~Z() {
    if (init) inflateEnd(&s);
  }
};

LineReader::LineReader(std::FILE* in, int64_t offset, int64_t size, bool gzip, std::string name)
    : z_(std::make_unique<Z>()), in_(in), left_(size), gzip_(gzip), name_(std::move(name)) {
  if (std::fseek(in_, offset, SEEK_SET) != 0) status_ = InvalidArgument("cannot seek in archive");
  if (gzip_) {
    if (inflateInit2(&z_->s, 15 + 16) != Z_OK) status_ = Internal("zlib: inflateInit2 failed");
    z_->init = true;
  }
  in_buf_.resize(kChunk);
}
LineReader::~LineReader() = default;

// Reads more stored bytes and appends what they decode to, to data_. false at the end.
bool LineReader::Fill() {
  if (!status_.ok() || eof_) return false;
  if (left_ == 0) {
    eof_ = true;
    if (gzip_ && !z_->ended) status_ = InvalidArgument(name_ + ": the gzip stream is truncated");
    return false;
  }
  const size_t want = static_cast<size_t>(std::min<int64_t>(left_, kChunk));
  const size_t n = std::fread(in_buf_.data(), 1, want, in_);
  if (n != want) {
    status_ = InvalidArgument(name_ + ": cannot read the archive (truncated?)");
    return false;
  }
  left_ -= static_cast<int64_t>(n);
  sha_.Update(in_buf_.data(), n);
  if (!gzip_) {
    data_.append(in_buf_.data(), n);
    return true;
  }
  if (z_->ended) {
    status_ = InvalidArgument(name_ + ": bytes after the end of the gzip stream");
    return false;
  }
  z_->s.next_in = reinterpret_cast<Bytef*>(in_buf_.data());
  z_->s.avail_in = static_cast<uInt>(n);
  char out[kChunk];
  while (z_->s.avail_in > 0 && !z_->ended) {
    z_->s.next_out = reinterpret_cast<Bytef*>(out);
    z_->s.avail_out = sizeof out;
    const int rc = inflate(&z_->s, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      status_ = InvalidArgument(name_ + ": damaged gzip data (" +
                                (z_->s.msg ? std::string(z_->s.msg) : std::to_string(rc)) + ")");
      return false;
    }
    data_.append(out, sizeof out - z_->s.avail_out);
    if (rc == Z_STREAM_END) z_->ended = true;
  }
  if (z_->ended && z_->s.avail_in > 0) {
    status_ = InvalidArgument(name_ + ": bytes after the end of the gzip stream");
    return false;
  }
  return true;
}

bool LineReader::Next(std::string_view& line) {
  while (true) {
    const size_t nl = data_.find('\n', pos_);
    if (nl != std::string::npos) {
      line = std::string_view(data_).substr(pos_, nl - pos_);
      pos_ = nl + 1;
      ++line_no_;
      return true;
    }
    data_.erase(0, pos_);
    pos_ = 0;
    if (!Fill()) {
      if (status_.ok() && !data_.empty()) {
        status_ = InvalidArgument(name_ + " line " + std::to_string(line_no_ + 1) +
                                  ": the last line has no newline (truncated?)");
      }
      return false;
    }
  }
}

Result<std::string> ReadMember(std::FILE* in, int64_t offset, int64_t size,
                               std::string& sha256_hex) {
  std::string data(static_cast<size_t>(size), '\0');
  if (std::fseek(in, offset, SEEK_SET) != 0 ||
      (size > 0 && std::fread(data.data(), 1, data.size(), in) != data.size()))
    return InvalidArgument("cannot read the archive (truncated?)");
  Sha256 sha;
  sha.Update(data.data(), data.size());
  sha256_hex = sha.HexDigest();
  return data;
}

}  // namespace bysans::archive
