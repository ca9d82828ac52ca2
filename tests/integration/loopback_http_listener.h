// The socket half of the test receivers (webhooks, data targets, NGSI-LD broker): an HTTP/1.1
// listener on loopback (port 0, or a given port so a test can take a receiver down and bring it
// back on the same address), one accepting thread, one thread per connection, one request per
// connection (answers say "Connection: close"). What to answer is the receiver's handler.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace bysans::testing {

class LoopbackHttpListener {
 public:
  struct Request {
    std::string method, target;
    std::string head;                            // request line and headers
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
  };
  // Called on the connection's thread; the listener closes `fd` when it returns.
  using Handler = std::function<void(int fd, Request request)>;

  explicit LoopbackHttpListener(uint16_t port = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::listen(fd_, 64);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  LoopbackHttpListener(const LoopbackHttpListener&) = delete;
  LoopbackHttpListener& operator=(const LoopbackHttpListener&) = delete;
  ~LoopbackHttpListener() { Stop(); }

  // Starts accepting; the owner calls it once its own members are ready.
  void Start(Handler handler) {
    handler_ = std::move(handler);
    accept_ = std::thread([this] { Accept(); });
  }
  // Stops accepting and waits for the connections' threads. An owner whose handler uses its own
  // members calls it first thing in its destructor.
  void Stop() {
    if (stop_.exchange(true)) return;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (accept_.joinable()) accept_.join();
    std::vector<std::thread> conns;
    {
      std::lock_guard lk(mu_);
      conns.swap(conns_);
    }
    for (auto& t : conns) t.join();
  }

  bool bound() const { return bound_; }
  uint16_t port() const { return port_; }
  bool stopping() const { return stop_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Holds a connection unanswered for up to 30 s (or until Stop), like a hung server.
  void Hang() const {
    for (int i = 0; i < 300 && !stop_; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  static void Send(int fd, int status, std::string_view type, std::string_view body) {
    std::string resp = "HTTP/1.1 " + std::to_string(status) + " X\r\nConnection: close\r\n";
    if (!type.empty()) resp.append("Content-Type: ").append(type).append("\r\n");
    resp += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    resp.append(body);
    ::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL);
  }

 private:
  void Accept() {
    while (!stop_) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::lock_guard lk(mu_);
      conns_.emplace_back([this, c] {
        Request r;
        if (ReadRequest(c, r)) handler_(c, std::move(r));
        ::close(c);
      });
    }
  }

  static std::string Lower(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  }

  // False when the peer closed before the whole request (head and Content-Length body) came.
  static bool ReadRequest(int c, Request& r) {
    std::string raw;
    char buf[65536];
    size_t need = std::string::npos;
    while (need == std::string::npos || raw.size() < need) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return false;
      raw.append(buf, static_cast<size_t>(n));
      size_t hdr = raw.find("\r\n\r\n");
      if (hdr == std::string::npos || need != std::string::npos) continue;
      r.head = raw.substr(0, hdr);
      size_t line_end = raw.find("\r\n");
      std::string line = raw.substr(0, line_end);
      size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
      r.method = line.substr(0, sp1);
      r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      for (size_t pos = line_end + 2; pos < hdr;) {
        size_t end = raw.find("\r\n", pos);
        std::string h = raw.substr(pos, end - pos);
        if (size_t colon = h.find(':'); colon != std::string::npos) {
          size_t v = h.find_first_not_of(' ', colon + 1);
          r.headers[Lower(h.substr(0, colon))] = v == std::string::npos ? "" : h.substr(v);
        }
        pos = end + 2;
      }
      auto cl = r.headers.find("content-length");
      need = hdr + 4 + (cl == r.headers.end() ? 0 : std::stoul(cl->second));
    }
    r.body = raw.substr(raw.find("\r\n\r\n") + 4);
    return true;
  }

  int fd_ = -1;
  bool bound_ = false;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  Handler handler_;
  std::thread accept_;
  std::mutex mu_;
  std::vector<std::thread> conns_;
};

}  // namespace bysans::testing
