// A tiny HTTP receiver for webhook tests: answers 200, 500 or hangs (for up
// to 30 s), and records every request body with its arrival time.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bysans::testing {

class Receiver {
 public:
  enum class Mode { kOk, kFail, kHang };
  struct Hit {
    std::string body;
    std::chrono::steady_clock::time_point at;
    int answered = 0;  // status sent, 0 = hung
    std::string head;  // request line and headers
  };

  explicit Receiver(Mode mode) : mode_(mode) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 64);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    accept_ = std::thread([this] { Accept(); });
  }
  ~Receiver() {
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
  void set_mode(Mode m) { mode_ = m; }
  // Requests whose head or body contains `text` are answered 500 (the next `times` of them).
  void fail_matching(std::string text, int times) {
    std::lock_guard lk(mu_);
    fail_text_ = std::move(text);
    fail_times_ = times;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<Hit> hits() {
    std::lock_guard lk(mu_);
    return hits_;
  }
  size_t answered_ok() {
    std::lock_guard lk(mu_);
    size_t n = 0;
    for (const auto& h : hits_) n += h.answered == 200;
    return n;
  }

 private:
  void Accept() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::lock_guard lk(mu_);
      conns_.emplace_back([this, c] { Serve(c); });
    }
  }
  void Serve(int c) {
    std::string req;
    char buf[4096];
    size_t need = std::string::npos;
    while (true) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
      size_t hdr = req.find("\r\n\r\n");
      if (hdr != std::string::npos && need == std::string::npos) {
        size_t cl = req.find("Content-Length: ");
        size_t len = cl == std::string::npos ? 0 : std::stoul(req.substr(cl + 16));
        need = hdr + 4 + len;
      }
      if (need != std::string::npos && req.size() >= need) break;
    }
    size_t hdr = req.find("\r\n\r\n");
    Hit h{hdr == std::string::npos ? "" : req.substr(hdr + 4), std::chrono::steady_clock::now(), 0,
          req.substr(0, hdr)};
    Mode m = mode_;
    {
      std::lock_guard lk(mu_);
      if (fail_times_ > 0 && !fail_text_.empty() &&
          (h.body.find(fail_text_) != std::string::npos ||
           h.head.find(fail_text_) != std::string::npos)) {
        --fail_times_;
        m = Mode::kFail;
      }
    }
    if (m == Mode::kHang) {
      {
        std::lock_guard lk(mu_);
        hits_.push_back(h);
      }
      for (int i = 0; i < 300 && !stop_; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      ::close(c);
      return;
    }
    h.answered = m == Mode::kOk ? 200 : 500;
    {
      std::lock_guard lk(mu_);
      hits_.push_back(h);
    }
    std::string resp = m == Mode::kOk ? "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                                      : "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n";
    ::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
    ::close(c);
  }

  std::atomic<Mode> mode_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread accept_;
  std::mutex mu_;
  std::vector<std::thread> conns_;
  std::vector<Hit> hits_;
  std::string fail_text_;
  int fail_times_ = 0;
};

}  // namespace bysans::testing
