#include "mqtt/tls_client_cert.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <string>

#include "mqtt/ossl.h"

namespace bysans::mqtt {
namespace {

Status BadCert(const std::string& why) { return InvalidArgument("field 'clientCert' " + why); }
Status BadKey(const std::string& why) { return InvalidArgument("field 'clientKey' " + why); }

// The first certificate of `pem` after checking every block; null with `why` set otherwise.
ossl::Cert LeafOf(std::string_view pem, Status* why) {
  ossl::Bio bio = ossl::ReadOnlyBio(pem);
  if (!bio) {
    *why = Internal("cannot allocate an OpenSSL BIO");
    return nullptr;
  }
  ossl::Cert leaf;
  for (int blocks = 0;; ++blocks) {
    ossl::Block b;
    if (PEM_read_bio(bio.get(), &b.name, &b.header, &b.data, &b.len) != 1) {
      const unsigned long err = ERR_peek_last_error();
      ERR_clear_error();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
        if (blocks == 0)
          *why = BadCert("must hold the client's PEM certificate (-----BEGIN CERTIFICATE-----)");
        return leaf;
      }
      *why = BadCert("has a malformed PEM block after " + std::to_string(blocks) +
                     " good one(s) (bad base64 or a missing END line)");
      return nullptr;
    }
    const std::string which = "block " + std::to_string(blocks + 1);
    if (std::string_view(b.name) != "CERTIFICATE") {
      *why = BadCert(which + " is a '" + b.name +
                     "', not a 'CERTIFICATE' (the private key goes in 'clientKey')");
      return nullptr;
    }
    const unsigned char* p = b.data;
    ossl::Cert x(d2i_X509(nullptr, &p, b.len));
    if (!x || p != b.data + b.len) {
      ERR_clear_error();
      *why = BadCert(which + " is not a valid X.509 certificate");
      return nullptr;
    }
    if (blocks == 0) {
      const uint32_t flags = X509_get_extension_flags(x.get());
      if ((flags & EXFLAG_CA) != 0) {
        *why = BadCert(
            "must start with the client's own certificate, not a CA certificate (the CA that "
            "verifies the broker goes in 'caCert')");
        return nullptr;
      }
      leaf = std::move(x);
    }
  }
}

}  // namespace

Status ValidateClientCertificate(std::string_view cert_pem, std::string_view key_pem) {
  if (cert_pem.size() > kMaxClientCertPemBytes)
    return BadCert("must be at most " + std::to_string(kMaxClientCertPemBytes / 1024) +
                   " KiB of PEM");
  if (key_pem.size() > kMaxClientKeyPemBytes)
    return BadKey("must be at most " + std::to_string(kMaxClientKeyPemBytes / 1024) +
                  " KiB of PEM");
  ERR_clear_error();
  Status why = Status::Ok();
  ossl::Cert leaf = LeafOf(cert_pem, &why);
  if (!leaf) return why;

  ossl::Bio bio = ossl::ReadOnlyBio(key_pem);
  if (!bio) return Internal("cannot allocate an OpenSSL BIO");
  ossl::Block b;
  if (PEM_read_bio(bio.get(), &b.name, &b.header, &b.data, &b.len) != 1) {
    ERR_clear_error();
    return BadKey("must hold one PEM private key (-----BEGIN PRIVATE KEY-----)");
  }
  const std::string_view name(b.name);
  const std::string_view header(b.header != nullptr ? b.header : "");
  if (name == "ENCRYPTED PRIVATE KEY" || header.find("ENCRYPTED") != std::string_view::npos)
    return BadKey("is protected by a passphrase; give it without one (bysans keeps it encrypted)");
  if (name != "PRIVATE KEY" && name != "RSA PRIVATE KEY" && name != "EC PRIVATE KEY")
    return BadKey("must be a private key, not a '" + std::string(name) + "'");
  ossl::Bio again = ossl::ReadOnlyBio(key_pem);
  if (!again) return Internal("cannot allocate an OpenSSL BIO");
  // No passphrase callback may prompt: an encrypted key was refused above.
  ossl::Pkey key(PEM_read_bio_PrivateKey(
      again.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
  if (!key) {
    ERR_clear_error();
    return BadKey("is not a valid private key");
  }
  if (X509_check_private_key(leaf.get(), key.get()) != 1) {
    ERR_clear_error();
    return BadKey("does not belong to the first certificate of 'clientCert'");
  }
  return Status::Ok();
}

}  // namespace bysans::mqtt
