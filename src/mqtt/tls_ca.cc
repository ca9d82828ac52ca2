#include "mqtt/tls_ca.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <string>

#include "mqtt/ossl.h"

namespace bysans::mqtt {
namespace {

Status Bad(const std::string& why) { return InvalidArgument("field 'caCert' " + why); }

}  // namespace

Status ValidateCaPem(std::string_view pem) {
  if (pem.size() > kMaxCaPemBytes)
    return Bad("must be at most " + std::to_string(kMaxCaPemBytes / 1024) + " KiB of PEM");
  ERR_clear_error();
  ossl::Bio bio = ossl::ReadOnlyBio(pem);
  if (!bio) return Internal("cannot allocate an OpenSSL BIO");
  int blocks = 0;
  while (true) {
    ossl::Block b;
    if (PEM_read_bio(bio.get(), &b.name, &b.header, &b.data, &b.len) != 1) {
      const unsigned long err = ERR_peek_last_error();
      ERR_clear_error();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) break;
      return Bad("has a malformed PEM block after " + std::to_string(blocks) +
                 " good one(s) (bad base64 or a missing END line)");
    }
    ++blocks;
    const std::string which = "block " + std::to_string(blocks);
    if (std::string_view(b.name) != "CERTIFICATE")
      return Bad(which + " is a '" + b.name +
                 "', not a 'CERTIFICATE' (only CA certificates belong here, never a key)");
    const unsigned char* p = b.data;
    ossl::Cert x(d2i_X509(nullptr, &p, b.len));
    if (!x || p != b.data + b.len) {
      ERR_clear_error();
      return Bad(which + " is not a valid X.509 certificate");
    }
    const uint32_t flags = X509_get_extension_flags(x.get());
    if ((flags & EXFLAG_INVALID) != 0) {
      ERR_clear_error();
      return Bad(which + " has invalid X.509 extensions");
    }
    if ((flags & EXFLAG_BCONS) == 0 || (flags & EXFLAG_CA) == 0) {
      char subject[256] = {0};
      X509_NAME_oneline(X509_get_subject_name(x.get()), subject, sizeof subject);
      return Bad(which + " (" + subject +
                 ") is not a CA certificate (basicConstraints CA:TRUE); give the CA that "
                 "signed the broker's certificate, not the broker's own certificate");
    }
  }
  if (blocks == 0)
    return Bad("must hold at least one PEM CA certificate (-----BEGIN CERTIFICATE-----)");
  return Status::Ok();
}

}  // namespace bysans::mqtt
