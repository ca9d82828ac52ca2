// Hooks of the CoAP server for protocols layered on it (LwM2M, lwm2m/): an extension owns
// resources (Uri-Path first segments, e.g. "rd" and "dp"), is handed the requests to them with
// the device the server identified, and may send requests of its own on a device's session
// (server-initiated LwM2M operations). No libcoap types: the server translates.
// Threading: every call into an extension and every CoapPeer call happens on the CoAP thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "pipeline/pipeline.h"

namespace bysans::coap {

// CoAP method codes (RFC 7252 §12.1.1).
enum class Method : int { kGet = 1, kPost = 2, kPut = 3, kDelete = 4 };

struct CoapRequest {
  Method method = Method::kPost;
  std::vector<std::string> path;   // Uri-Path segments, e.g. {"rd", "5a3f"}
  std::vector<std::string> query;  // Uri-Query options, e.g. {"ep=meter-1", "lt=300"}
  int content_format = -1;         // -1 = absent
  std::string payload;
  bool dtls = false;
  // The device as the server identified it: over DTLS the PSK identity's, over UDP the one of
  // the ingest key in `k=`. When that failed (no key, unknown key, stale PSK), `device` is null
  // and `auth_error` says why; the extension decides (e.g. a registered peer without `k=`).
  std::shared_ptr<const Device> device;
  Status auth_error;
  // The peer's endpoint, "u:127.0.0.1:40000" / "s:..." (stable for one session).
  std::string peer;
};

struct CoapAnswer {
  int code = 204;  // class * 100 + detail: 201 Created, 204 Changed, 400 Bad Request, ...
  std::vector<std::string> location_path;  // Location-Path options (2.01 of a registration)
  std::string payload;                     // diagnostic text of an error
  // When set, the server hands this uplink to the pipeline and answers `code` only after the
  // commit (a separate response, as for /ingest); an error of the commit answers 5.xx.
  std::optional<pipeline::Uplink> submit;
};

// A request the server sends to a device, and what came back.
struct OutgoingRequest {
  Method method = Method::kGet;
  std::vector<std::string> path;  // {"3", "0", "4"}
  int content_format = -1;        // of the payload; -1 = none
  int accept = -1;                // -1 = none
  std::string payload;
  // Observe=0 (RFC 7641 register): the (session, token) mapping is kept while the device's
  // responses carry an Observe option, so `done` runs for the first response and for every
  // notification until CancelObserve, a response without Observe, or a failure (code 0).
  bool keep_for_notifications = false;
};
struct PeerResponse {
  int code = 0;  // class * 100 + detail; 0 = no answer (retransmissions exhausted, reset)
  int content_format = -1;
  std::string payload;
  std::string error;  // why there is no answer
  // It carried an Observe option and the request kept its mapping (keep_for_notifications):
  // more notifications may follow. False on the last call for the request.
  bool notification = false;
};

// The session a request came on; keeps it alive while held. On the CoAP thread only.
class CoapPeer {
 public:
  virtual ~CoapPeer() = default;
  // Sends a confirmable request; `done` runs once, on the CoAP thread, with the response or a
  // failure (code 0). Errors: the session is gone (the server stopped).
  virtual Status Send(const OutgoingRequest& request,
                      std::function<void(const PeerResponse&)> done) = 0;
  // As Send; on success *token is the request's token (the handle of an observation).
  virtual Status Send(const OutgoingRequest& request, std::function<void(const PeerResponse&)> done,
                      std::string* token) = 0;
  // Forgets an observation (keep_for_notifications) by its token, without calling its `done`:
  // the device's next notification on it is answered with a reset (RFC 7641 §3.6).
  virtual void CancelObserve(const std::string& token) = 0;
};

class CoapExtension {
 public:
  virtual ~CoapExtension() = default;
  // The first Uri-Path segments this extension serves ("rd" serves "rd" and "rd/...").
  virtual std::vector<std::string> Resources() const = 0;
  // A request to one of them. `peer` is the session it came on.
  virtual CoapAnswer Handle(const CoapRequest& request, std::shared_ptr<CoapPeer> peer) = 0;
  // About once a second, on the CoAP thread.
  virtual void Tick() {}
  // Before the server frees its sessions: drop every CoapPeer held.
  virtual void Shutdown() {}
};

}  // namespace bysans::coap
