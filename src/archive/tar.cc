#include "archive/tar.h"

#include <array>
#include <cstring>
#include <optional>

namespace bysans::archive {
namespace {

constexpr size_t kNameLen = 100;

void PutOctal(char* field, size_t width, int64_t value) {
  // width - 1 digits, then NUL
  for (size_t i = width - 1; i-- > 0;) {
    field[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  field[width - 1] = '\0';
}

std::optional<int64_t> GetOctal(const char* field, size_t width) {
  int64_t v = 0;
  size_t i = 0;
  while (i < width && field[i] == ' ') ++i;
  bool any = false;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (v > (int64_t{1} << 60)) return std::nullopt;
    v = v * 8 + (field[i] - '0');
    any = true;
  }
  if (!any) return std::nullopt;
  for (; i < width; ++i)
    if (field[i] != '\0' && field[i] != ' ') return std::nullopt;
  return v;
}

int64_t HeaderSum(const char* block) {
  int64_t sum = 0;
  for (int i = 0; i < kTarBlock; ++i) {
    const bool in_chksum = i >= 148 && i < 156;
    sum += in_chksum ? ' ' : static_cast<unsigned char>(block[i]);
  }
  return sum;
}

}  // namespace

Result<std::string> TarHeader(std::string_view name, int64_t size, int64_t mtime_s) {
  if (name.empty() || name.size() > kNameLen)
    return InvalidArgument("tar member name must be 1..100 bytes: " + std::string(name));
  if (size < 0 || size > kTarMaxSize)
    return InvalidArgument("tar member " + std::string(name) + " is larger than 8 GiB");
  std::string h(kTarBlock, '\0');
  std::memcpy(h.data(), name.data(), name.size());
  PutOctal(&h[100], 8, 0600);
  PutOctal(&h[108], 8, 0);
  PutOctal(&h[116], 8, 0);
  PutOctal(&h[124], 12, size);
  PutOctal(&h[136], 12, mtime_s < 0 ? 0 : mtime_s);
  h[156] = '0';
  std::memcpy(&h[257], "ustar", 6);  // magic with its NUL
  std::memcpy(&h[263], "00", 2);     // version
  PutOctal(&h[148], 7, HeaderSum(h.data()));
  h[155] = ' ';
  return h;
}

Status TarWriter::Write(const void* data, size_t n) {
  if (n > 0 && std::fwrite(data, 1, n, out_) != n) return Internal("cannot write the archive");
  return Status::Ok();
}

Status TarWriter::Pad(int64_t size) {
  static const std::array<char, kTarBlock> kZero{};
  const int64_t rest = size % kTarBlock;
  return rest == 0 ? Status::Ok() : Write(kZero.data(), static_cast<size_t>(kTarBlock - rest));
}

Status TarWriter::AddBytes(std::string_view name, std::string_view data) {
  BYSANS_ASSIGN_OR_RETURN(std::string h,
                          TarHeader(name, static_cast<int64_t>(data.size()), mtime_s_));
  BYSANS_RETURN_IF_ERROR(Write(h.data(), h.size()));
  BYSANS_RETURN_IF_ERROR(Write(data.data(), data.size()));
  return Pad(static_cast<int64_t>(data.size()));
}

Status TarWriter::AddFile(std::string_view name, const std::string& path) {
  std::FILE* in = std::fopen(path.c_str(), "rb");
  if (!in) return Internal("cannot open " + path);
  std::fseek(in, 0, SEEK_END);
  const int64_t size = std::ftell(in);
  std::fseek(in, 0, SEEK_SET);
  Status st = [&]() -> Status {
    BYSANS_ASSIGN_OR_RETURN(std::string h, TarHeader(name, size, mtime_s_));
    BYSANS_RETURN_IF_ERROR(Write(h.data(), h.size()));
    std::vector<char> buf(1 << 20);
    int64_t copied = 0;
    while (copied < size) {
      const size_t n = std::fread(buf.data(), 1, buf.size(), in);
      if (n == 0) return Internal("cannot read " + path);
      BYSANS_RETURN_IF_ERROR(Write(buf.data(), n));
      copied += static_cast<int64_t>(n);
    }
    if (copied != size) return Internal(path + " changed while it was archived");
    return Pad(size);
  }();
  std::fclose(in);
  return st;
}

Status TarWriter::Finish() {
  static const std::array<char, 2 * kTarBlock> kEnd{};
  BYSANS_RETURN_IF_ERROR(Write(kEnd.data(), kEnd.size()));
  if (std::fflush(out_) != 0) return Internal("cannot write the archive");
  return Status::Ok();
}

Result<std::vector<TarEntry>> ListTar(std::FILE* in) {
  if (std::fseek(in, 0, SEEK_END) != 0) return InvalidArgument("the archive is not seekable");
  const int64_t file_size = std::ftell(in);
  std::vector<TarEntry> out;
  int64_t pos = 0;
  std::array<char, kTarBlock> h{};
  while (true) {
    if (pos + kTarBlock > file_size)
      return InvalidArgument("the archive is truncated (no end-of-archive marker after " +
                             std::to_string(out.size()) + " files)");
    std::fseek(in, pos, SEEK_SET);
    if (std::fread(h.data(), 1, h.size(), in) != h.size())
      return InvalidArgument("cannot read the archive at byte " + std::to_string(pos));
    bool zero = true;
    for (char c : h) zero = zero && c == '\0';
    if (zero) return out;
    const std::string where = "tar header at byte " + std::to_string(pos);
    auto sum = GetOctal(&h[148], 8);
    if (!sum || *sum != HeaderSum(h.data()))
      return InvalidArgument(where + ": bad header checksum (not a tar archive, or damaged)");
    auto size = GetOctal(&h[124], 12);
    if (!size) return InvalidArgument(where + ": bad size field");
    TarEntry e;
    e.name.assign(h.data(), strnlen(h.data(), kNameLen));
    e.offset = pos + kTarBlock;
    e.size = *size;
    if (e.offset + e.size > file_size)
      return InvalidArgument("the archive is truncated inside " + e.name + " (" +
                             std::to_string(file_size - e.offset) + " of " +
                             std::to_string(e.size) + " bytes)");
    const char type = h[156];
    if (type == '0' || type == '\0') out.push_back(e);
    pos = e.offset + (e.size + kTarBlock - 1) / kTarBlock * kTarBlock;
  }
}

}  // namespace bysans::archive
