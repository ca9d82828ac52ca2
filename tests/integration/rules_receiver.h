// A tiny HTTP receiver for webhook tests: answers 200, 500 or hangs (for up
// to 30 s), and records every request body with its arrival time.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "loopback_http_listener.h"

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
    listener_.Start([this](int c, LoopbackHttpListener::Request r) { Serve(c, std::move(r)); });
  }
  ~Receiver() { listener_.Stop(); }
  void set_mode(Mode m) { mode_ = m; }
  // Requests whose head or body contains `text` are answered 500 (the next `times` of them).
  void fail_matching(std::string text, int times) {
    std::lock_guard lk(mu_);
    fail_text_ = std::move(text);
    fail_times_ = times;
  }
  std::string url() const { return listener_.base_url() + "/hook"; }
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
  void Serve(int c, LoopbackHttpListener::Request r) {
    Hit h{std::move(r.body), std::chrono::steady_clock::now(), 0, std::move(r.head)};
    Mode m = mode_;
    {
      std::lock_guard lk(mu_);
      if (fail_times_ > 0 && !fail_text_.empty() &&
          (h.body.find(fail_text_) != std::string::npos ||
           h.head.find(fail_text_) != std::string::npos)) {
        --fail_times_;
        m = Mode::kFail;
      }
      if (m != Mode::kHang) h.answered = m == Mode::kOk ? 200 : 500;
      hits_.push_back(h);
    }
    if (m == Mode::kHang) {
      listener_.Hang();
    } else {
      LoopbackHttpListener::Send(c, h.answered, "", "");
    }
  }

  std::atomic<Mode> mode_;
  std::mutex mu_;
  std::vector<Hit> hits_;
  std::string fail_text_;
  int fail_times_ = 0;
  LoopbackHttpListener listener_;  // last: its threads use the members above
};

}  // namespace bysans::testing
