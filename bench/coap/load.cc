// CoAP load generator for bench/coap/run.sh: N simulated devices, each its own UDP socket (its
// own endpoint for the server), each sending confirmable JSON POSTs to /ingest?k=<its key> one
// after another: the next as soon as the previous one's final 2.04 arrived (after bysans'
// commit). Retransmits after 2 s (RFC 7252 ACK_TIMEOUT) with the same message id.
//   bench_coap_load PORT SECONDS KEYFILE   (one ingest key per line, one device each)
// Prints "RESULT sent=… acked=… errors=… retransmits=… empty_acks=… seconds=…" (acked = 2.04
// received; empty_acks = requests answered by an empty ACK first, then a separate 2.04).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Device {
  int fd = -1;
  std::string key;
  uint16_t mid = 0;
  uint32_t seq = 0;
  std::string request;  // the datagram in flight (resent as is)
  int64_t sent_ms = 0;
  bool waiting = false;
  bool acked_empty = false;  // the empty ACK came: no retransmission, wait for the response
};

void AppendOption(std::string& out, int delta, const std::string& v) {
  std::string ext;
  int d = delta, l = static_cast<int>(v.size());
  auto nib = [&ext](int x) {
    if (x < 13) return x;
    if (x < 269) {
      ext += static_cast<char>(x - 13);
      return 13;
    }
    ext += static_cast<char>((x - 269) >> 8);
    ext += static_cast<char>((x - 269) & 0xff);
    return 14;
  };
  int dn = nib(d);
  std::string ext_d = ext;
  ext.clear();
  int ln = nib(l);
  out += static_cast<char>((dn << 4) | ln);
  out += ext_d + ext + v;
}

std::string BuildPost(Device& d) {
  ++d.mid;
  ++d.seq;
  std::string m;
  m += static_cast<char>(0x44);  // ver 1, CON, token length 4
  m += static_cast<char>(0x02);  // POST
  m += static_cast<char>(d.mid >> 8);
  m += static_cast<char>(d.mid & 0xff);
  for (int i = 0; i < 4; ++i) m += static_cast<char>((d.seq >> (8 * i)) & 0xff);
  AppendOption(m, 11, "ingest");
  AppendOption(m, 1, std::string(1, static_cast<char>(50)));  // Content-Format 12: JSON
  AppendOption(m, 3, "k=" + d.key);                           // Uri-Query 15
  m += '\xff';
  char body[96];
  int n = std::snprintf(body, sizeof body, R"({"temperature":%.1f,"humidity":%d,"seq":%u})",
                        20.0 + (d.seq % 50) / 10.0, 40 + static_cast<int>(d.seq % 20), d.seq);
  m.append(body, static_cast<size_t>(n));
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: bench_coap_load PORT SECONDS KEYFILE\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int seconds = std::atoi(argv[2]);
  std::vector<Device> devices;
  {
    std::ifstream f(argv[3]);
    std::string line;
    while (std::getline(f, line))
      if (!line.empty()) devices.push_back(Device{-1, line});
  }
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<uint16_t>(port));
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ep = epoll_create1(0);
  for (size_t i = 0; i < devices.size(); ++i) {
    Device& d = devices[i];
    d.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (d.fd < 0 || connect(d.fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
      std::perror("socket");
      return 1;
    }
    d.mid = static_cast<uint16_t>(i * 7919);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, d.fd, &ev);
  }
  int64_t sent = 0, acked = 0, errors = 0, retransmits = 0;
  int64_t empty_acks = 0;  // answers that came as separate responses (commit past piggyback_ms)
  size_t waiting = 0;      // devices with a request in flight
  auto send_next = [&](Device& d) {
    d.request = BuildPost(d);
    ++waiting;
    d.sent_ms = NowMs();
    d.waiting = true;
    d.acked_empty = false;
    send(d.fd, d.request.data(), d.request.size(), 0);
    ++sent;
  };
  const int64_t start = NowMs();
  const int64_t stop_sending = start + seconds * 1000LL;
  for (Device& d : devices) send_next(d);
  std::vector<epoll_event> events(1024);
  int64_t last_scan = start;
  char buf[2048];
  for (;;) {
    const int64_t now = NowMs();
    if (now >= stop_sending && waiting == 0) break;
    if (now >= stop_sending + 10'000) break;  // drain limit
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
    const int64_t woke = NowMs();
    for (int e = 0; e < n; ++e) {
      Device& d = devices[events[e].data.u64];
      // One datagram per event: epoll is level-triggered, another one waiting comes again (a
      // recv until EAGAIN would cost a system call per message on the cores bysans uses).
      do {
        ssize_t len = recv(d.fd, buf, sizeof buf, 0);
        if (len < 4) break;
        const int type = (static_cast<uint8_t>(buf[0]) >> 4) & 3;
        const int code = static_cast<uint8_t>(buf[1]);
        const uint16_t mid = static_cast<uint16_t>((static_cast<uint8_t>(buf[2]) << 8) |
                                                   static_cast<uint8_t>(buf[3]));
        if (type == 2 && code == 0) {  // empty ACK of our request
          if (mid == d.mid && !d.acked_empty) ++empty_acks;
          if (mid == d.mid) d.acked_empty = true;
          continue;
        }
        if (type == 0) {  // a separate (confirmable) response: acknowledge it
          char ack[4] = {static_cast<char>(0x60), 0, buf[2], buf[3]};
          send(d.fd, ack, sizeof ack, 0);
        }
        if (!d.waiting) continue;  // a repeated response
        const int tkl = static_cast<uint8_t>(buf[0]) & 0xf;
        if (len < 4 + tkl || tkl != 4 || std::string(buf + 4, 4) != d.request.substr(4, 4))
          continue;  // not the answer to the request in flight
        d.waiting = false;
        --waiting;
        if (code == ((2 << 5) | 4)) {
          ++acked;
        } else {
          ++errors;
        }
        if (woke < stop_sending) send_next(d);
      } while (false);
    }
    if (NowMs() - last_scan >= 100) {
      last_scan = NowMs();
      for (Device& d : devices) {
        if (d.waiting && !d.acked_empty && last_scan - d.sent_ms >= 2000) {
          send(d.fd, d.request.data(), d.request.size(), 0);
          d.sent_ms = last_scan;
          ++retransmits;
        }
      }
    }
  }
  const double elapsed = static_cast<double>(NowMs() - start) / 1000.0;
  std::printf(
      "RESULT sent=%lld acked=%lld errors=%lld retransmits=%lld empty_acks=%lld seconds=%.2f\n",
      static_cast<long long>(sent), static_cast<long long>(acked), static_cast<long long>(errors),
      static_cast<long long>(retransmits), static_cast<long long>(empty_acks), elapsed);
  return 0;
}
