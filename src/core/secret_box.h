// SecretBox: seals secrets that bysans must be able to recover (integration passwords and
// client keys, rule action passwords and header values) with libsodium crypto_secretbox
// (XSalsa20-Poly1305) under one 32-byte key kept in `<data_dir>/secret.key` (mode 0600,
// created on first open). A copy of the database alone does not reveal them; losing the key
// means entering them again. A box is nonce || ciphertext. Thread-safe (immutable after Open).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace bysans {

class SecretBox {
 public:
  // Reads the key at `key_path`, or creates it (O_EXCL, 0600) when the file does not exist.
  // An empty path: a random key for this process only (in-memory stores, tests).
  static Result<std::unique_ptr<SecretBox>> Open(const std::string& key_path);

  // The sealed bytes (binary) and back. Open fails with kInternal when the box is damaged or
  // was sealed under another key.
  Result<std::string> Seal(std::string_view plain) const;
  Result<std::string> Unseal(std::string_view box) const;

  // The same as text (base64 of the box), for JSON documents.
  Result<std::string> SealText(std::string_view plain) const;
  Result<std::string> UnsealText(std::string_view base64_box) const;

 private:
  explicit SecretBox(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace bysans
