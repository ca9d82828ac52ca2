// CoapIoLoop: the CoAP thread's I/O step over libcoap 4.3.1's epoll descriptor, cheaper than
// coap_io_process per datagram (README.md, "Receive loop"). libcoap reads one datagram per
// endpoint event and, after every batch of events, walks all its sessions (idle expiry,
// retransmissions) and re-arms its timerfd; at 1,000 devices that walk and those system calls
// cost more than the request itself. This loop waits on libcoap's epoll descriptor itself (an
// extra descriptor of ours — the commit eventfd — sits in it with a null pointer, which libcoap
// takes for its own timer: a harmless non-blocking read), and hands libcoap an endpoint's event
// once per datagram waiting in the socket (estimated from SO_MEMINFO, at most kMaxBatch), so
// that one session walk serves a whole batch of datagrams.
// CoAP thread only.
#pragma once

#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/clock.h"

struct coap_context_t;

namespace bysans::coap {

class CoapIoLoop {
 public:
  static constexpr size_t kMaxBatch = 64;

  // `udp_port`: the plain UDP endpoint's port (`family` AF_INET or AF_INET6), to find its socket
  // (libcoap 4.3.1 does not expose it) and enlarge its receive buffer to `rcvbuf_bytes` (as far
  // as net.core.rmem_max allows). Not found: every event reads one datagram, as in
  // coap_io_process. The DTLS endpoint always reads one datagram per event.
  CoapIoLoop(coap_context_t* ctx, int family, uint16_t udp_port, int rcvbuf_bytes);

  // Adds `fd` (level-triggered, readable) to libcoap's epoll descriptor, with a null pointer.
  bool AddWakeFd(int fd);
  // Waits up to `timeout_ms` and runs libcoap's I/O for what came: the datagrams waiting (in
  // batches) and due retransmissions. Returns whether a null-pointer event came (the wake fd,
  // or libcoap's timer).
  bool Step(int timeout_ms, const Clock& clock);

  // The endpoint sockets found (-1: not found); for tests and the log.
  int udp_fd() const { return udp_fd_; }

 private:
  size_t QueuedDatagrams(int fd) const;

  coap_context_t* ctx_;
  int epfd_;
  int udp_fd_ = -1;
  TimeMs last_prepare_ms_ = 0;
  std::vector<epoll_event> batch_;
};

}  // namespace bysans::coap
