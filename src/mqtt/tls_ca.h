// Checks a PEM bundle of trusted CA certificates given for a TLS broker connection (the
// `caCert` of an MQTT integration, ClientOptions::tls_ca_pem), so that a bad bundle is refused
// when it is entered rather than on every connection attempt.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/status.h"

namespace bysans::mqtt {

inline constexpr size_t kMaxCaPemBytes = 64 * 1024;

// Ok when `pem` is at most kMaxCaPemBytes and holds one or more PEM blocks, every one a
// "CERTIFICATE" that parses and is a CA (basicConstraints CA:TRUE). Text outside the blocks is
// ignored (as OpenSSL does). Otherwise kInvalidArgument naming the field 'caCert' and the block.
Status ValidateCaPem(std::string_view pem);

}  // namespace bysans::mqtt
