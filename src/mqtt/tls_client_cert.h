// Checks the certificate and private key bysans presents to a TLS broker that asks for one
// (mutual TLS; the `clientCert` / `clientKey` of an MQTT integration, ClientOptions::
// tls_cert_pem / tls_key_pem), so that a bad pair is refused when it is entered rather than
// on every connection attempt.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/status.h"

namespace bysans::mqtt {

inline constexpr size_t kMaxClientCertPemBytes = 64 * 1024;
inline constexpr size_t kMaxClientKeyPemBytes = 16 * 1024;

// Ok when `cert_pem` holds PEM certificates only — the client's own (not a CA) first, then
// optionally the intermediates that signed it — and `key_pem` holds one private key without a
// passphrase that belongs to the first certificate. Otherwise kInvalidArgument naming
// 'clientCert' or 'clientKey'. Messages never quote the key.
Status ValidateClientCertificate(std::string_view cert_pem, std::string_view key_pem);

}  // namespace bysans::mqtt
