#include "mqtt/broker_probe.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "mqtt/packet.h"

namespace bysans::mqtt {
namespace {

using Deadline = std::chrono::steady_clock::time_point;

int MsLeft(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Closes the socket on every path.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool WaitFor(int fd, short events, Deadline deadline) {
  pollfd p{fd, events, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, MsLeft(deadline));
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

Status SendAll(int fd, const std::string& bytes, Deadline deadline) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    if (!WaitFor(fd, POLLOUT, deadline)) return Unavailable("timed out sending to the broker");
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unavailable(fmt::format("send to the broker: {}", std::strerror(errno)));
    sent += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Result<int> ProbeConnect(const std::string& host, uint16_t port, const std::string& username,
                         const std::string& password, int timeout_ms) {
  const Deadline deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  Fd s{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
  if (s.fd < 0) return Internal(fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return InvalidArgument("not an IPv4 address: " + host);
  }
  if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) {
      return Unavailable(fmt::format("connect {}:{}: {}", host, port, std::strerror(errno)));
    }
    int err = 0;
    socklen_t len = sizeof(err);
    if (!WaitFor(s.fd, POLLOUT, deadline) ||
        ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      return Unavailable(fmt::format("connect {}:{}: {}", host, port,
                                     err != 0 ? std::strerror(err) : "timed out"));
    }
  }
  Connect c;
  c.protocol = kProtocol311;
  c.client_id = username;
  c.username = username;
  c.password = password;
  c.keepalive_s = 10;
  c.clean_start = true;
  BYSANS_ASSIGN_OR_RETURN(std::string connect, Encode(c, kProtocol311));
  BYSANS_RETURN_IF_ERROR(SendAll(s.fd, connect, deadline));
  StreamDecoder decoder(kProtocol311, 1024);
  char buf[256];
  while (true) {
    BYSANS_ASSIGN_OR_RETURN(std::optional<Packet> packet, decoder.Next());
    if (packet) {
      const auto* ack = std::get_if<Connack>(&*packet);
      if (ack == nullptr) return Unavailable("the broker answered CONNECT with another packet");
      if (ack->reason_code == 0) {
        auto bye = Encode(Disconnect{}, kProtocol311);
        if (bye.ok()) (void)SendAll(s.fd, *bye, deadline);
      }
      return static_cast<int>(ack->reason_code);
    }
    if (!WaitFor(s.fd, POLLIN, deadline)) return Unavailable("no CONNACK from the broker in time");
    ssize_t n = ::recv(s.fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unavailable("the broker closed the connection before CONNACK");
    decoder.Feed(std::string_view(buf, static_cast<size_t>(n)));
  }
}

}  // namespace bysans::mqtt
