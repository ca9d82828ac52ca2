#include "coap/io_loop.h"

#include <arpa/inet.h>
#include <coap3/coap.h>
#include <dirent.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>

namespace bysans::coap {
namespace {

// The UDP socket of this process bound to `port` (family `family`), or -1.
int FindBoundUdpSocket(int family, uint16_t port) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return -1;
  int found = -1;
  while (dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == ::dirfd(dir)) continue;
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
        type != SOCK_DGRAM)
      continue;
    sockaddr_storage addr{};
    len = sizeof addr;
    if (::getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        addr.ss_family != family)
      continue;
    const uint16_t bound = family == AF_INET6
                               ? ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port)
                               : ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
    if (bound == port) {
      found = static_cast<int>(fd);
      break;
    }
  }
  ::closedir(dir);
  return found;
}

// Receive-queue memory (skb truesize) of the largest datagram libcoap accepts (1,152 bytes of
// CoAP, ~1.4 KB still fit): 2,304 bytes on Linux loopback; small datagrams take 832. Dividing the
// queued memory by it never counts more datagrams than are waiting (bigger datagrams, which
// libcoap resets anyway, aside).
constexpr uint32_t kDatagramTruesize = 2304;

}  // namespace

CoapIoLoop::CoapIoLoop(coap_context_t* ctx, int family, uint16_t udp_port, int rcvbuf_bytes)
    : ctx_(ctx), epfd_(coap_context_get_coap_fd(ctx)) {
  if (udp_port != 0) udp_fd_ = FindBoundUdpSocket(family, udp_port);
  if (udp_fd_ >= 0 && rcvbuf_bytes > 0)
    ::setsockopt(udp_fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes, sizeof rcvbuf_bytes);
  batch_.reserve(kMaxBatch + 16);
}

bool CoapIoLoop::AddWakeFd(int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // libcoap's "timer trigger": it reads its non-blocking timerfd
  return epfd_ >= 0 && ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

size_t CoapIoLoop::QueuedDatagrams(int fd) const {
  uint32_t info[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info, &len) != 0) return 1;
  return std::clamp<size_t>(info[SK_MEMINFO_RMEM_ALLOC] / kDatagramTruesize, 1, kMaxBatch);
}

bool CoapIoLoop::Step(int timeout_ms, const Clock& clock) {
  epoll_event events[16];
  int n = ::epoll_wait(epfd_, events, 16, timeout_ms);
  if (n < 0) n = 0;  // EINTR
  bool woke = false;
  batch_.clear();
  for (int i = 0; i < n; ++i) {
    size_t copies = 1;
    if (!events[i].data.ptr) {
      woke = true;
    } else if (udp_fd_ >= 0 && (events[i].events & EPOLLIN) &&
               // libcoap's coap_socket_t starts with its descriptor: an endpoint other than the
               // plain UDP one (DTLS) reads one datagram per event.
               *static_cast<const int*>(events[i].data.ptr) == udp_fd_) {
      copies = QueuedDatagrams(udp_fd_);
    }
    batch_.insert(batch_.end(), copies, events[i]);
  }
  const TimeMs now = clock.NowMs();
  if (!batch_.empty()) {
    coap_io_do_epoll(ctx_, batch_.data(), batch_.size());  // then its session walk, once
    last_prepare_ms_ = now;
  } else if (now - last_prepare_ms_ >= 1000) {
    coap_io_do_epoll(ctx_, nullptr, 0);  // retransmissions and idle sessions, at least 1/s
    last_prepare_ms_ = now;
  }
  return woke;
}

}  // namespace bysans::coap
