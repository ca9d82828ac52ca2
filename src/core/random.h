// Randomness comes from an injected source (libsodium's CSPRNG in production).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace bysans {

class Random {
 public:
  virtual ~Random() = default;
  virtual void Fill(void* buf, size_t n) = 0;
  // A URL-safe random token of `bytes` random bytes (base64url, no padding).
  std::string Token(size_t bytes = 24);
  // A random id for objects: 16 hex characters (64 bits).
  std::string Id();
};

// libsodium randombytes_buf. Thread-safe.
class SystemRandom final : public Random {
 public:
  SystemRandom();
  void Fill(void* buf, size_t n) override;
};

// Hex-encodes bytes (lower case).
std::string ToHex(const void* data, size_t n);

}  // namespace bysans
