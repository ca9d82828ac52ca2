#include "backup/file_copy.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace bysans::backup {
namespace {

constexpr size_t kPiece = size_t{1} << 20;

// A file descriptor closed on every path.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status Errno(const std::string& what, const std::string& path) {
  return Internal(what + " " + path + ": " + std::strerror(errno));
}

std::string Hex(const unsigned char* p, unsigned n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; ++i) {
    s += kDigits[p[i] >> 4];
    s += kDigits[p[i] & 15];
  }
  return s;
}

// Reads `from` to its end, hashing it, and writes each piece to `to_fd` unless it is negative.
Result<FileDigest> Stream(const std::string& from, int to_fd, const std::string& to) {
  Fd in{::open(from.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) return Errno("cannot open", from);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) {
    return Internal("SHA-256 is not available");
  }
  std::vector<char> buf(kPiece);
  FileDigest d;
  for (;;) {
    ssize_t n = ::read(in.fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot read", from);
    if (n == 0) break;
    EVP_DigestUpdate(md.get(), buf.data(), static_cast<size_t>(n));
    d.bytes += n;
    for (ssize_t off = 0; to_fd >= 0 && off < n;) {
      ssize_t w = ::write(to_fd, buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Errno("cannot write", to);
      off += w;
    }
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(md.get(), out, &len);
  d.sha256 = Hex(out, len);
  return d;
}

}  // namespace

Result<FileDigest> CopyFileHashed(const std::string& from, const std::string& to) {
  Fd out{::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (out.fd < 0) return Errno("cannot create", to);
  BYSANS_ASSIGN_OR_RETURN(FileDigest d, Stream(from, out.fd, to));
  if (::fsync(out.fd) != 0) return Errno("cannot sync", to);
  return d;
}

Result<FileDigest> HashFile(const std::string& path) { return Stream(path, -1, path); }

Status WriteFileSynced(const std::string& path, const std::string& text) {
  Fd out{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (out.fd < 0) return Errno("cannot create", path);
  for (size_t off = 0; off < text.size();) {
    ssize_t w = ::write(out.fd, text.data() + off, text.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return Errno("cannot write", path);
    off += static_cast<size_t>(w);
  }
  if (::fsync(out.fd) != 0) return Errno("cannot sync", path);
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0 || ::fsync(d.fd) != 0) return Errno("cannot sync", dir);
  return Status::Ok();
}

}  // namespace bysans::backup
