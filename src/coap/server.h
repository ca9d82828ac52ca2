// CoapServer: CoAP (RFC 7252) ingest for NB-IoT devices over UDP, with libcoap 3 on one thread
// of its own. A device POSTs to coap://host/ingest?k=<its ingest key> (the key HTTP ingest
// takes as ?apiKey=) JSON, SenML JSON (Content-Format 110), SenML CBOR (112) or raw bytes (42,
// for the device's decoder). The uplink goes through the same pipeline as HTTP and MQTT
// ingest; a confirmable request is answered (2.04 Changed, piggybacked on the ACK when the
// commit is quick, else separate) only after the commit (README.md), with the device's oldest
// queued downlink as payload. libcoap types stay inside the .cc files.
// Thread-safe: Start/Stop from one thread; everything else runs on the server's own thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "coap/downlinks.h"
#include "coap/exchange_memory.h"
#include "coap/hooks.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "core/status.h"
#include "ingest/device_cache.h"
#include "pipeline/pipeline.h"

namespace bysans::coap {

struct CoapOptions {
  std::string bind_address = "127.0.0.1";  // IPv4 or IPv6 literal
  int udp_port = 5683;                     // 0 = any free port (tests)
  // DTLS with per-device pre-shared keys (needs CoapServer::SetPskLookup); 0 = any free port,
  // -1 = no DTLS endpoint.
  int dtls_port = 5684;
  // Largest payload accepted; bigger ones are answered 4.13 with Size1. A request must fit in
  // one datagram (no block-wise transfer): libcoap resets datagrams over 1,152 bytes.
  size_t max_payload = 1024;
  // Requests remembered by (endpoint, message id) for duplicate detection, and for how long
  // (RFC 7252 EXCHANGE_LIFETIME, 247 s): exchange_memory.h says who can push out whose.
  ExchangeLimits exchanges;
  // A PSK identity's device and key are looked up again after this long (a deleted or rotated
  // credential stops working for requests within it; a new handshake always looks it up).
  int64_t psk_cache_ms = 5'000;
  // A confirmable request whose commit is done within this long gets its 2.04 piggybacked on
  // the ACK (2 datagrams); a slower commit gets the empty ACK at this point and the 2.04 as a
  // separate confirmable response after the commit (README.md). Well below the device's
  // ACK_TIMEOUT (2 s), so that it does not retransmit meanwhile.
  int64_t piggyback_ms = 100;
  // Sessions libcoap keeps for peers that hold no exchange (one per source address and port,
  // each kept for its idle timeout, 300 s): past this many the least recently used goes, so a
  // flood from many (or spoofed) addresses holds bounded memory. A device that sends again gets
  // a new session (over DTLS: a new handshake). Sessions a registered LwM2M device or an open
  // exchange holds are never idle. bysans_coap_sessions counts them all.
  size_t max_idle_sessions = 20'000;
};

// The device behind a DTLS PSK identity and its current key (clear: the PSK bytes).
struct PskDevice {
  std::shared_ptr<const Device> device;
  std::string key;
};
// identity → its device and key; kNotFound for an unknown identity. Called on the CoAP thread.
using PskLookup = std::function<Result<PskDevice>(const std::string& identity)>;

class CoapServer {
 public:
  CoapServer(CoapOptions options, std::shared_ptr<ingest::DeviceKeyCache> keys,
             pipeline::Pipeline& pipeline, Metrics& metrics, const Clock& clock);
  ~CoapServer();
  CoapServer(const CoapServer&) = delete;
  CoapServer& operator=(const CoapServer&) = delete;

  // Before Start: enables the DTLS endpoint (options.dtls_port) with this lookup. When
  // `generation` (MetaStore::devices_generation) moves, a device or credential changed on another
  // node: every cached PSK is looked up again, not only after psk_cache_ms.
  void SetPskLookup(PskLookup lookup, std::function<uint64_t()> generation = {});
  // Before Start: serves the extension's resources (hooks.h), e.g. LwM2M's /rd and /dp.
  void AddExtension(std::shared_ptr<CoapExtension> extension);
  // Before Start: the answer to a stored uplink carries the device's oldest queued downlink.
  void SetDownlinks(DownlinkSource source);

  // Binds the UDP endpoint and starts the thread. An error names the setting (coap.bind /
  // coap.udp_port) when the address cannot be used.
  Status Start();
  // Answers the commits still due, then stops the thread and frees libcoap's context.
  void Stop();
  // The UDP port bound (after Start).
  uint16_t udp_port() const;
  // The DTLS port bound (after Start); 0 when DTLS is off.
  uint16_t dtls_port() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace bysans::coap
