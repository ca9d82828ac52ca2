#include "core/secret_box.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/encoding.h"

namespace bysans {
namespace {

// Reads the key, or creates it (O_EXCL, 0600) when the file does not exist.
Result<std::string> LoadOrCreateKey(const std::string& path) {
  std::string key(crypto_secretbox_KEYBYTES, '\0');
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    randombytes_buf(key.data(), key.size());
    std::string tmp = path + ".tmp";
    int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) return Internal("cannot create " + tmp + ": " + std::strerror(errno));
    bool ok = ::write(out, key.data(), key.size()) == static_cast<ssize_t>(key.size()) &&
              ::fsync(out) == 0;
    ::close(out);
    if (!ok) return Internal("cannot write " + tmp + ": " + std::strerror(errno));
    // link() fails if another process created the key meanwhile: then use theirs.
    if (::link(tmp.c_str(), path.c_str()) == 0) {
      ::unlink(tmp.c_str());
      return key;
    }
    ::unlink(tmp.c_str());
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) return Internal("cannot open " + path + ": " + std::strerror(errno));
  ssize_t n = ::read(fd, key.data(), key.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(key.size()))
    return Internal(path + " must hold a " + std::to_string(key.size()) + "-byte key");
  return key;
}

}  // namespace

Result<std::unique_ptr<SecretBox>> SecretBox::Open(const std::string& key_path) {
  if (sodium_init() < 0) return Internal("libsodium could not be initialised");
  std::string key;
  if (key_path.empty()) {
    key.assign(crypto_secretbox_KEYBYTES, '\0');
    randombytes_buf(key.data(), key.size());
  } else {
    BYSANS_ASSIGN_OR_RETURN(key, LoadOrCreateKey(key_path));
  }
  return std::unique_ptr<SecretBox>(new SecretBox(std::move(key)));
}

Result<std::string> SecretBox::Seal(std::string_view plain) const {
  std::string box(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.size(), '\0');
  auto* out = reinterpret_cast<unsigned char*>(box.data());
  randombytes_buf(out, crypto_secretbox_NONCEBYTES);
  if (crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES,
                            reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), out,
                            reinterpret_cast<const unsigned char*>(key_.data())) != 0)
    return Internal("could not encrypt a secret");
  return box;
}

Result<std::string> SecretBox::Unseal(std::string_view box) const {
  if (box.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    return Internal("a stored secret is damaged");
  std::string plain(box.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(box.data());
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                 in + crypto_secretbox_NONCEBYTES,
                                 box.size() - crypto_secretbox_NONCEBYTES, in,
                                 reinterpret_cast<const unsigned char*>(key_.data())) != 0)
    return Internal("a stored secret cannot be decrypted (was secret.key replaced?); set it again");
  return plain;
}

Result<std::string> SecretBox::SealText(std::string_view plain) const {
  BYSANS_ASSIGN_OR_RETURN(std::string box, Seal(plain));
  return EncodeBase64(box);
}

Result<std::string> SecretBox::UnsealText(std::string_view base64_box) const {
  BYSANS_ASSIGN_OR_RETURN(std::string box, DecodeBase64(base64_box));
  return Unseal(box);
}

}  // namespace bysans
