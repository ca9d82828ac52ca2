// An HTTP receiver for data-target (and geocoder) tests: listens on loopback (port 0 or a given
// port, so a test can take it down and bring it back on the same address), answers 200, 500 or
// hangs, and records every request (head and body).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bysans::testing {

class TargetReceiver {
 public:
  enum class Mode { kOk, kFail, kHang };
  struct Hit {
    std::string head;  // request line and headers
    std::string body;
    int answered = 0;  // 0 = hung
  };

  explicit TargetReceiver(Mode mode, uint16_t port = 0) : mode_(mode) {
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
    accept_ = std::thread([this] { Accept(); });
  }
  ~TargetReceiver() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    accept_.join();
    std::vector<std::thread> conns;
    {
      std::lock_guard lk(mu_);
      conns.swap(conns_);
    }
    for (auto& t : conns) t.join();
  }
  bool bound() const { return bound_; }
  uint16_t port() const { return port_; }
  void set_mode(Mode m) { mode_ = m; }
  // The body of 200 answers (JSON), e.g. a geocoder's places; empty by default.
  void set_answer(std::string body) {
    std::lock_guard lk(mu_);
    answer_ = std::move(body);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/ingest"; }
  std::vector<Hit> hits() {
    std::lock_guard lk(mu_);
    return hits_;
  }

 private:
  void Accept() {
    while (!stop_) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::lock_guard lk(mu_);
      conns_.emplace_back([this, c] { Serve(c); });
    }
  }
  void Serve(int c) {
    std::string req;
    char buf[65536];
    size_t need = std::string::npos;
    while (need == std::string::npos || req.size() < need) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
      size_t hdr = req.find("\r\n\r\n");
      if (hdr != std::string::npos && need == std::string::npos) {
        size_t cl = req.find("Content-Length: ");
        if (cl == std::string::npos) cl = req.find("content-length: ");
        size_t len = cl == std::string::npos || cl > hdr ? 0 : std::stoul(req.substr(cl + 16));
        need = hdr + 4 + len;
      }
    }
    size_t hdr = req.find("\r\n\r\n");
    if (hdr == std::string::npos) {
      ::close(c);
      return;
    }
    Hit h{req.substr(0, hdr), req.substr(hdr + 4), 0};
    const Mode m = mode_;
    if (m == Mode::kHang) {
      {
        std::lock_guard lk(mu_);
        hits_.push_back(h);
      }
      for (int i = 0; i < 300 && !stop_; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ::close(c);
      return;
    }
    h.answered = m == Mode::kOk ? 200 : 500;
    std::string answer;
    {
      std::lock_guard lk(mu_);
      hits_.push_back(h);
      if (m == Mode::kOk) answer = answer_;
    }
    std::string resp = (m == Mode::kOk ? "HTTP/1.1 200 OK\r\n" : "HTTP/1.1 500 Oops\r\n") +
                       std::string("Content-Type: application/json\r\nContent-Length: ") +
                       std::to_string(answer.size()) + "\r\nConnection: close\r\n\r\n" + answer;
    ::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
    ::close(c);
  }

  std::atomic<Mode> mode_;
  int fd_ = -1;
  bool bound_ = false;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread accept_;
  std::mutex mu_;
  std::vector<std::thread> conns_;
  std::vector<Hit> hits_;
  std::string answer_;
};

}  // namespace bysans::testing
