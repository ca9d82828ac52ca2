#include "core/random.h"

#include <sodium.h>

#include <stdexcept>
#include <vector>

namespace bysans {

std::string ToHex(const void* data, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

std::string Random::Token(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  Fill(buf.data(), bytes);
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), buf.data(), bytes,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.find('\0') == std::string::npos ? out.size() : out.find('\0'));
  return out;
}

std::string Random::Id() {
  unsigned char buf[8];
  Fill(buf, sizeof buf);
  return ToHex(buf, sizeof buf);
}

SystemRandom::SystemRandom() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

void SystemRandom::Fill(void* buf, size_t n) { randombytes_buf(buf, n); }

}  // namespace bysans
