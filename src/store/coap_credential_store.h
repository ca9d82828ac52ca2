// CoAP DTLS pre-shared keys of devices (issue 20, migration 35): one credential per device, a PSK
// identity unique across the whole server (the DTLS handshake names the device by it) and the
// key sealed with the store's SecretBox (core/secret_box.h). Same contracts as store.h:
// thread-safe, Status errors. The store keeps the sealed key it is given; the API seals it
// (api/coap_credentials.cc) and only the CoAP server's PSK callback unseals it.
#pragma once

#include <string>

#include "core/status.h"
#include "model/model.h"

namespace bysans {

struct CoapCredential {
  Id device_id = 0;
  std::string identity;    // 1..64 printable ASCII bytes, unique
  std::string sealed_key;  // SecretBox::SealText of the key
  TimeMs created_ms = 0;   // of this key (rotation replaces the row)
};

class CoapCredentialStore {
 public:
  virtual ~CoapCredentialStore() = default;

  // Creates the device's credential or replaces it (rotation). kNotFound when the device does
  // not exist; kAlreadyExists when another device has this identity.
  virtual Status PutCoapCredential(const CoapCredential& c) = 0;
  // kNotFound when the device has none.
  virtual Result<CoapCredential> GetCoapCredential(Id device_id) = 0;
  // kNotFound for an unknown identity.
  virtual Result<CoapCredential> FindCoapCredential(const std::string& identity) = 0;
  // kNotFound when the device has none. Deleting the device deletes its credential too.
  virtual Status DeleteCoapCredential(Id device_id) = 0;
};

}  // namespace bysans
